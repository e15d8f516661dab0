"""What a turn may be: not blank, one reply streaming per chat, and an unanswered message retried
once there are credits (issue 21's server side)."""
import asyncio

import pytest

from providers.factory import ProviderSettings
from tests.helpers import deltas_of, deposit, make_admin, register, reply_events


@pytest.mark.parametrize("blank", ["", "   ", "\n\t \u00a0\u3000"])
async def test_blank_content_is_refused_and_nothing_is_stored(client, alice, connect, blank):
    sock = await connect(alice)
    chat = await sock.ok("chat.create")
    error = await sock.error("message.send", chat_id=chat["id"], content=blank)
    assert error["code"] == "bad_request" and error["field"] == "content"
    sent = await sock.ok("message.send", chat_id=chat["id"], content="  indented stays  ")
    await reply_events(sock, sent["assistant_message"]["id"])
    assert sent["message"]["content"] == "  indented stays  "  # kept as typed, not trimmed
    error = await sock.error("message.edit", message_id=sent["message"]["id"], content=blank)
    assert error["code"] == "bad_request" and error["field"] == "content"
    history = (await sock.ok("message.list", chat_id=chat["id"]))["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"]


@pytest.fixture
async def slow(make_client):
    return await make_client(providers=ProviderSettings(echo_tokens_per_second=20))


async def test_a_chat_streams_one_reply_at_a_time_and_other_chats_in_parallel(slow, connect):
    user = await register(slow, "one@example.com")
    sock = await connect(user, on=slow)
    chat, other = await sock.ok("chat.create"), await sock.ok("chat.create")
    first = await sock.ok("message.send", chat_id=chat["id"], content=" ".join(["slow"] * 40))
    reply_id = first["assistant_message"]["id"]
    await deltas_of(sock, reply_id, 1)
    for request, params in [("message.send", {"chat_id": chat["id"], "content": "second"}),
                            ("message.regenerate", {"message_id": reply_id}),
                            ("message.edit", {"message_id": first["message"]["id"],
                                              "content": "edited"})]:
        error = await sock.error(request, **params)
        assert error["code"] == "conflict" and "streaming" in error["message"], (request, error)
    elsewhere = await sock.ok("message.send", chat_id=other["id"], content="in parallel")
    assert elsewhere["assistant_message"]["status"] == "streaming"
    history = (await sock.ok("message.list", chat_id=chat["id"]))["messages"]
    assert [m["content"] for m in history if m["role"] == "user"] == [first["message"]["content"]]
    await sock.ok("message.stop", message_id=reply_id)
    again = await sock.ok("message.send", chat_id=chat["id"], content="now it may")
    assert again["message"]["parent_id"] == reply_id  # built on the finished (stopped) reply
    for answer in (again, elsewhere):
        await sock.ok("message.stop", message_id=answer["assistant_message"]["id"])


async def test_two_sends_racing_into_one_chat_start_one_reply(slow, connect):
    user = await register(slow, "race@example.com")
    sockets = [await connect(user, on=slow) for _ in range(2)]
    chat = await sockets[0].ok("chat.create")
    answers = await asyncio.gather(*[
        s.call("message.send", chat_id=chat["id"], content=f"racer {i} " + "w " * 30)
        for i, s in enumerate(sockets)])
    assert sorted(a["ok"] for a in answers) == [False, True], answers
    refused = next(a for a in answers if not a["ok"])
    assert refused["error"]["code"] == "conflict"
    started = next(a for a in answers if a["ok"])
    await sockets[0].ok("message.stop", message_id=started["data"]["assistant_message"]["id"])
    assert (await sockets[0].ok("balance.get"))["reserved"] == 0


async def test_a_message_kept_for_lack_of_credits_is_answered_once_they_arrive(make_client,
                                                                              connect):
    poor = await make_client(signup_credits=0)
    user = await register(poor, "broke@example.com")
    sock = await connect(user, on=poor)
    chat = await sock.ok("chat.create")
    error = await sock.error("message.send", chat_id=chat["id"], content="ответь, пожалуйста")
    assert error["code"] == "insufficient_balance"
    assert "micro" not in error["message"] and " credits and 0 are available" in error["message"]
    admin = await make_admin(poor)
    status, _ = await deposit(poor, admin, user["user"]["id"], {"amount": 5_000_000})
    assert status == 201
    retried = await sock.ok("message.regenerate", message_id=error["message_id"])
    assert retried["assistant_message"]["parent_id"] == error["message_id"]
    done = (await reply_events(sock, retried["assistant_message"]["id"]))[-1]
    assert done["type"] == "message.done" and done["message"]["content"] == "ответь, пожалуйста"
    history = (await sock.ok("message.list", chat_id=chat["id"]))["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"]  # the message once, answered


async def test_hello_says_how_large_a_frame_may_be(make_client, alice_on, connect):
    small = await make_client(ws_max_frame_bytes=4096)
    sock = await connect(await alice_on(small), on=small)
    assert sock.hello["max_frame_bytes"] == 4096


async def test_a_streaming_reply_refuses_the_next_send_first_even_when_credits_or_caps_would(
        slow, connect):
    """The send's transaction checks the chat's streaming reply only when no new reply is written
    (the unique index refuses the other case): the answer is still `conflict`, nothing stored."""
    from server.web.state import CONTEXT

    user = await register(slow, "first@example.com")
    sock = await connect(user, on=slow)
    chat = await sock.ok("chat.create")
    first = await sock.ok("message.send", chat_id=chat["id"], content=" ".join(["slow"] * 40))
    reply_id = first["assistant_message"]["id"]
    await deltas_of(sock, reply_id, 1)
    db = slow.app[CONTEXT].services.db
    count = "SELECT COUNT(*) AS n FROM messages WHERE chat_id = ?"
    before = await db.fetchval(count, (chat["id"],))

    admin = await make_admin(slow)
    resp = await slow.patch(f"/api/v1/admin/users/{user['user']['id']}", json={"daily_cap": 0},
                            headers={"Authorization": f"Bearer {admin}"})
    assert resp.status == 200
    capped = await sock.error("message.send", chat_id=chat["id"], content="past the cap")
    assert capped["code"] == "conflict" and "streaming" in capped["message"]
    resp = await slow.patch(f"/api/v1/admin/users/{user['user']['id']}", json={"daily_cap": None},
                            headers={"Authorization": f"Bearer {admin}"})
    assert resp.status == 200

    await db.execute("UPDATE users SET balance = reserved WHERE id = ?", (user["user"]["id"],))
    short = await sock.error("message.send", chat_id=chat["id"], content="no credits left")
    assert short["code"] == "conflict" and "streaming" in short["message"]
    assert await db.fetchval(count, (chat["id"],)) == before  # neither message was kept
    await sock.ok("message.stop", message_id=reply_id)
