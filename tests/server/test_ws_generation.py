"""Sending a message and watching the reply stream in; stop, regenerate, edit, switch branches."""
import asyncio

import pytest

from providers.factory import ProviderSettings
from server.web.state import CONTEXT
from tests.helpers import deltas_of, register, reply_events, until, vendor_providers


@pytest.fixture
async def slow_echo(make_client):
    return await make_client(providers=ProviderSettings(echo_tokens_per_second=40))


async def test_echo_reply_streams_in_and_is_stored(client, alice, connect):
    sock, tab2 = await connect(alice), await connect(alice)
    chat = await sock.ok("chat.create", title="hello")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="Привет, как дела? Hello there")
    user_msg, reply = sent["message"], sent["assistant_message"]
    assert user_msg["role"] == "user" and user_msg["content"] == "Привет, как дела? Hello there"
    assert reply["role"] == "assistant" and reply["status"] == "streaming"
    assert reply["parent_id"] == user_msg["id"] and reply["model"] == "echo"

    for watcher in (sock, tab2):
        events = await reply_events(watcher, reply["id"])
        deltas = [e for e in events if e["type"] == "message.delta"]
        done = events[-1]
        assert done["type"] == "message.done"
        assert "".join(d["delta"] for d in deltas) == "Привет, как дела? Hello there"
        assert [d["index"] for d in deltas] == list(range(len(deltas)))
        assert done["message"]["status"] == "complete"
        assert done["usage"]["completion_tokens"] == 5 and done["usage"]["prompt_tokens"] > 0
        # cost = ceil((prompt*100,000 + completion*200,000) / 1e6) micro-credits for echo
        expected = -(-(done["usage"]["prompt_tokens"] * 100_000 + 5 * 200_000) // 1_000_000)
        assert done["cost"] == expected == done["message"]["cost"]

    history = await sock.ok("message.list", chat_id=chat["id"])
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]
    assert history["messages"][0] == user_msg  # what the send answered is what was stored
    assert history["messages"][1]["content"] == "Привет, как дела? Hello there"
    assert history["messages"][1]["status"] == "complete"
    assert history["messages"][1]["created_at"] == reply["created_at"]
    after = await sock.ok("chat.get", chat_id=chat["id"])
    assert after["updated_at"] > chat["updated_at"]
    assert after["current_message_id"] == reply["id"]


async def test_a_new_turn_is_announced_before_its_reply_streams_even_when_the_model_answers_at_once(
        client, alice, connect):
    # echo here answers with no pause at all: its first token is ready before the turn's events
    sock, tab2 = await connect(alice), await connect(alice)
    chat = await sock.ok("chat.create")
    for watcher in (sock, tab2):
        await watcher.event("chat.created")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="quick answer please")
    for watcher in (sock, tab2):
        kinds = []
        while not kinds or kinds[-1] != "message.done":  # the reply's and the turn's events
            frame = await watcher.event_any()
            kinds.append(frame["type"] if frame.get("message_id") != sent["message"]["id"]
                         else "user message.created")
        first_delta = kinds.index("message.delta")
        before = kinds[:first_delta]
        assert before == ["user message.created", "message.created", "chat.updated",
                          "balance.updated"], kinds
        assert set(kinds[first_delta:-1]) == {"message.delta"}


async def test_a_retried_send_with_the_same_client_msg_id_starts_nothing_new(client, alice, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create")
    first = await sock.ok("message.send", chat_id=chat["id"], content="once", client_msg_id="c-1")
    await reply_events(sock, first["assistant_message"]["id"])
    again = await sock.ok("message.send", chat_id=chat["id"], content="once", client_msg_id="c-1")
    assert again["message"]["id"] == first["message"]["id"] and again["duplicate"] is True
    assert again["assistant_message"]["id"] == first["assistant_message"]["id"]
    history = await sock.ok("message.list", chat_id=chat["id"])
    assert len(history["messages"]) == 2
    other = await sock.ok("chat.create")
    error = await sock.error("message.send", chat_id=other["id"], content="x", client_msg_id="c-1")
    assert error["code"] == "conflict"


async def test_closing_the_tab_does_not_stop_the_reply(slow_echo, alice_on, connect):
    alice = await alice_on(slow_echo)
    sock = await connect(alice, on=slow_echo)
    chat = await sock.ok("chat.create")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="one two three four five six")
    await sock.ws.close()
    later = await connect(alice, on=slow_echo)

    async def ended():
        reply = (await later.ok("message.list", chat_id=chat["id"]))["messages"][-1]
        return reply if reply["status"] != "streaming" else None
    reply = await until(ended, interval=0.05, what="the reply to end")
    assert reply["id"] == sent["assistant_message"]["id"]
    assert reply["status"] == "complete" and reply["content"] == "one two three four five six"


async def test_stop_keeps_the_partial_text_and_bills_only_it(slow_echo, alice_on, connect):
    alice = await alice_on(slow_echo)
    sock = await connect(alice, on=slow_echo)
    chat = await sock.ok("chat.create")
    words = " ".join(f"w{i}" for i in range(200))
    sent = await sock.ok("message.send", chat_id=chat["id"], content=words)
    reply_id = sent["assistant_message"]["id"]
    await deltas_of(sock, reply_id, 3)
    stopped = await sock.ok("message.stop", message_id=reply_id)
    message = stopped["message"]
    assert message["status"] == "stopped"
    assert 0 < len(message["content"]) < len(words) and words.startswith(message["content"])
    event = await sock.event("message.stopped")
    assert event["message"]["content"] == message["content"]
    assert 0 < event["cost"] == message["cost"]
    assert event["usage"]["completion_tokens"] < 200
    # stopping again is harmless
    assert (await sock.ok("message.stop", message_id=reply_id))["message"]["status"] == "stopped"


async def test_regenerate_adds_a_sibling_and_switch_goes_back(client, alice, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create")
    first = await sock.ok("message.send", chat_id=chat["id"], content="tell me a joke")
    await reply_events(sock, first["assistant_message"]["id"])
    again = await sock.ok("message.regenerate", message_id=first["assistant_message"]["id"])
    new_reply = again["assistant_message"]
    assert new_reply["parent_id"] == first["message"]["id"]
    await reply_events(sock, new_reply["id"])

    branch = (await sock.ok("message.list", chat_id=chat["id"]))["messages"]
    assert [m["id"] for m in branch] == [first["message"]["id"], new_reply["id"]]
    assert branch[1]["sibling_ids"] == [first["assistant_message"]["id"], new_reply["id"]]

    await sock.ok("message.switch", message_id=first["assistant_message"]["id"])
    branch = (await sock.ok("message.list", chat_id=chat["id"]))["messages"]
    assert branch[1]["id"] == first["assistant_message"]["id"]


async def test_edit_branches_from_the_same_parent_and_answers_the_new_text(client, alice, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create")
    first = await sock.ok("message.send", chat_id=chat["id"], content="first question")
    await reply_events(sock, first["assistant_message"]["id"])
    follow = await sock.ok("message.send", chat_id=chat["id"], content="follow up")
    await reply_events(sock, follow["assistant_message"]["id"])

    edited = await sock.ok("message.edit", message_id=follow["message"]["id"], content="better follow up")
    assert edited["message"]["parent_id"] == first["assistant_message"]["id"]
    events = await reply_events(sock, edited["assistant_message"]["id"])
    assert events[-1]["message"]["content"] == "better follow up"

    branch = (await sock.ok("message.list", chat_id=chat["id"]))["messages"]
    assert [m["content"] for m in branch] == ["first question", "first question",
                                              "better follow up", "better follow up"]
    assert branch[2]["sibling_ids"] == [follow["message"]["id"], edited["message"]["id"]]
    error = await sock.error("message.edit", message_id=first["assistant_message"]["id"], content="x")
    assert error["code"] == "bad_request"
    # Regenerating a user message answers it again: a reply beside its first one.
    again = await sock.ok("message.regenerate", message_id=first["message"]["id"])
    assert again["assistant_message"]["parent_id"] == first["message"]["id"]
    await reply_events(sock, again["assistant_message"]["id"])
    assert again["assistant_message"]["sibling_ids"] == [first["assistant_message"]["id"],
                                                        again["assistant_message"]["id"]]


async def test_a_fourth_concurrent_reply_is_rate_limited(slow_echo, alice_on, connect):
    alice = await alice_on(slow_echo)
    sock = await connect(alice, on=slow_echo)
    chats = [await sock.ok("chat.create") for _ in range(4)]  # one reply at a time per chat
    long = " ".join(["word"] * 100)
    for chat in chats[:3]:
        await sock.ok("message.send", chat_id=chat["id"], content=long)
    error = await sock.error("message.send", chat_id=chats[3]["id"], content=long)
    assert error["code"] == "rate_limited" and error["retry_after"] >= 1


async def test_bad_sends_are_refused_and_store_nothing(client, alice, bob, connect):
    a, b = await connect(alice), await connect(bob)
    chat = await a.ok("chat.create")
    trashed = await a.ok("chat.create")
    await a.ok("chat.delete", chat_id=trashed["id"])
    cases = [
        (b, {"chat_id": chat["id"], "content": "hi"}, "not_found"),
        (b, {"chat_id": chat["id"], "content": "hi", "client_msg_id": "b-1"}, "not_found"),
        (a, {"chat_id": chat["id"], "content": ""}, "bad_request"),
        (a, {"chat_id": chat["id"], "content": "hi", "model": "gpt-99"}, "bad_request"),
        (a, {"chat_id": chat["id"], "content": "hi", "model": "gpt-4o-mini"}, "provider_unavailable"),
        (a, {"chat_id": trashed["id"], "content": "hi"}, "conflict"),
        (a, {"chat_id": chat["id"]}, "bad_request"),
    ]
    for sock, params, code in cases:
        assert (await sock.error("message.send", **params))["code"] == code, params
    db = client.app[CONTEXT].services.db
    assert await db.fetchval("SELECT COUNT(*) AS n FROM messages") == 0
    for kind in ("message.stop", "message.regenerate", "message.switch"):
        assert (await b.error(kind, message_id="nope"))["code"] == "not_found"


async def test_models_list_shows_only_configured_providers_with_prices(client, vendored, alice,
                                                                        connect):
    plain = await connect(alice)
    models = (await plain.ok("models.list"))["models"]
    assert [m["id"] for m in models] == ["echo"] and models[0]["default"] is True
    assert models[0]["input_price"] == 100_000 and models[0]["output_price"] == 200_000
    carol = await register(vendored, "carol@example.com")
    full = await connect(carol, on=vendored)
    providers = {m["provider"] for m in (await full.ok("models.list"))["models"]}
    assert providers == {"echo", "openai", "anthropic", "gemini"}


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-3-5-haiku", "gemini-2.5-flash"])
async def test_each_vendor_streams_over_the_socket_with_its_reported_usage(vendored, vendor,
                                                                           alice_on, connect, model):
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    chat = await sock.ok("chat.create", system_prompt="You are terse.", model=model)
    vendor.script.tokens = ["Sure", ", ", "here", " it is."]
    sent = await sock.ok("message.send", chat_id=chat["id"], content="Напиши что-нибудь")
    events = await reply_events(sock, sent["assistant_message"]["id"])
    done = events[-1]
    assert done["type"] == "message.done" and done["message"]["content"] == "Sure, here it is."
    assert done["usage"] == {"prompt_tokens": 11, "completion_tokens": 4, "cached_tokens": 0,
                             "cache_write_tokens": 0, "reasoning_tokens": 0, "estimated": []}
    assert "You are terse." in str(vendor.requests[-1]["body"])
    assert "Напиши что-нибудь" in str(vendor.requests[-1]["body"])


@pytest.mark.parametrize("script,code", [({"status": 401}, "provider_error"),
                                         ({"status": 429}, "rate_limited"),
                                         ({"status": 500}, "provider_unavailable"),
                                         ({"first_delay": 5}, "provider_unavailable"),
                                         ({"drop_after": 2}, "provider_unavailable"),
                                         ({"malformed_after": 2}, "provider_error")])
async def test_a_provider_failure_ends_the_reply_as_error_without_charge(vendored, vendor, alice_on,
                                                                        connect, script, code):
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    for key, value in script.items():
        setattr(vendor.script, key, value)
    sent = await sock.ok("message.send", chat_id=chat["id"], content="hello")
    events = await reply_events(sock, sent["assistant_message"]["id"])
    error = events[-1]
    assert error["type"] == "message.error" and error["error"]["code"] == code
    assert error["message"]["status"] == "error" and error["message"]["cost"] == 0
    assert error["message"]["error_code"] == code
    assert (await sock.ok("ping"))["pong"]  # the socket is fine
    vendor.script = type(vendor.script)()  # the provider recovers: the next reply works
    ok = await sock.ok("message.send", chat_id=chat["id"], content="again")
    assert (await reply_events(sock, ok["assistant_message"]["id"]))[-1]["type"] == "message.done"


async def test_one_failing_stream_leaves_the_others_alone(vendored, vendor, alice_on, connect):
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    good = await sock.ok("chat.create", model="echo")
    bad = await sock.ok("chat.create", model="gpt-4o-mini")
    vendor.script.status = 500
    failing = await sock.ok("message.send", chat_id=bad["id"], content="x")
    fine = await sock.ok("message.send", chat_id=good["id"], content="still here")
    finals = {}
    while len(finals) < 2:
        frame = await sock.event_any()
        if frame["type"] in ("message.done", "message.error"):
            finals[frame["message_id"]] = frame["type"]
    assert finals == {failing["assistant_message"]["id"]: "message.error",
                      fine["assistant_message"]["id"]: "message.done"}


async def test_chat_get_returns_the_active_branch_with_live_text_mid_stream(slow_echo, alice_on,
                                                                            connect):
    alice = await alice_on(slow_echo)
    sock = await connect(alice, on=slow_echo)
    chat = await sock.ok("chat.create")
    text = " ".join(f"t{i}" for i in range(60))
    sent = await sock.ok("message.send", chat_id=chat["id"], content=text)
    seen = await deltas_of(sock, sent["assistant_message"]["id"], 3)
    got = await sock.ok("chat.get", chat_id=chat["id"])
    reply = got["messages"][-1]
    assert reply["id"] == sent["assistant_message"]["id"] and reply["status"] == "streaming"
    assert 0 < len(reply["content"]) < len(text) and text.startswith(reply["content"])
    assert reply["content"].startswith(seen)  # at least what the socket was sent
    assert reply["sibling_ids"] == [reply["id"]]


async def test_deltas_are_coalesced_and_bytes_stay_linear(vendored, vendor, alice_on, connect):
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    vendor.script.tokens = ["ab"] * 300
    vendor.script.delay = 0.003  # ~330 tokens/s, far above 20 frames/s
    started = asyncio.get_running_loop().time()
    sent = await sock.ok("message.send", chat_id=chat["id"], content="go")
    events = await reply_events(sock, sent["assistant_message"]["id"])
    elapsed = asyncio.get_running_loop().time() - started
    deltas = [e for e in events if e["type"] == "message.delta"]
    assert "".join(d["delta"] for d in deltas) == "ab" * 300
    assert len(deltas) <= elapsed / 0.05 + 2, (len(deltas), elapsed)
    assert len(deltas) < 300 / 4
    from protocol import encode
    wire = sum(len(encode(d)) for d in deltas)
    assert wire < 600 + len(deltas) * 200  # the text once, plus a bounded envelope per frame


async def test_partial_text_reaches_storage_within_a_second(slow_echo, alice_on, connect):
    alice = await alice_on(slow_echo)
    sock = await connect(alice, on=slow_echo)
    chat = await sock.ok("chat.create")
    sent = await sock.ok("message.send", chat_id=chat["id"], content=" ".join(["slow"] * 120))
    db = slow_echo.app[CONTEXT].services.db

    async def saved():  # the reply takes 3 s; its text is saved once a second meanwhile
        row = await db.fetchone("SELECT status, content FROM messages WHERE id = ?",
                                (sent["assistant_message"]["id"],))
        return row if row["content"].startswith("slow slow") else None
    row = await until(saved, timeout=1.6, interval=0.05, what="partial text in storage")
    assert row["status"] == "streaming"


async def test_the_personalisation_hook_and_chat_prompt_reach_the_model(vendored, vendor, alice_on,
                                                                        connect):
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    await sock.ok("profile.update", interests=[{"text": "learning Russian", "weight": 0.9}])
    chat = await sock.ok("chat.create", model="claude-3-5-haiku", system_prompt="Be kind.")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="hi")
    await reply_events(sock, sent["assistant_message"]["id"])
    chat_part, profile_part = vendor.requests[-1]["body"]["system"].split("\n\n", 1)
    assert chat_part == "Be kind." and "learning Russian" in profile_part
    # the per-chat switch turns personalisation off
    await sock.ok("chat.update", chat_id=chat["id"], personalize=False)
    sent = await sock.ok("message.send", chat_id=chat["id"], content="hi again")
    await reply_events(sock, sent["assistant_message"]["id"])
    assert vendor.requests[-1]["body"]["system"] == "Be kind."


async def test_history_is_trimmed_oldest_first_to_the_context_window(make_client, vendor, tmp_path,
                                                                     alice_on, connect):
    import orjson
    models = tmp_path / "models.json"
    models.write_bytes(orjson.dumps([{"id": "tiny", "provider": "openai", "upstream": "tiny-1",
                                      "input_price": 1, "output_price": 1, "context_window": 60,
                                      "max_output_tokens": 20}]))
    instance = await make_client(providers=vendor_providers(vendor.url), models_file=models,
                                 default_model="tiny")
    alice = await alice_on(instance)
    sock = await connect(alice, on=instance)
    chat = await sock.ok("chat.create")
    for i in range(4):
        vendor.script.tokens = [f"answer {i} " * 3]
        sent = await sock.ok("message.send", chat_id=chat["id"], content=f"question {i} " * 4)
        await reply_events(sock, sent["assistant_message"]["id"])
    messages = vendor.requests[-1]["body"]["messages"]
    assert messages[-1] == {"role": "user", "content": "question 3 " * 4}
    assert messages[0]["role"] == "user" and "question 0" not in str(messages)
    before = await instance.app[CONTEXT].services.db.fetchval("SELECT COUNT(*) AS n FROM messages")
    too_long = await sock.error("message.send", chat_id=chat["id"], content="x" * 400)
    assert too_long["code"] == "bad_request" and too_long["field"] == "content"
    assert await instance.app[CONTEXT].services.db.fetchval("SELECT COUNT(*) AS n FROM messages") == before
