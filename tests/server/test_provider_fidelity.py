"""Each vendor through its SDK, over the socket: silence bounded from the first token on, long
healthy streams never cut, and charges from the vendor's own counts (issue 28)."""
import asyncio

import pytest

from tests.helpers import deltas_of, reply_events

MODELS = ["gpt-4o-mini", "claude-3-5-haiku", "gemini-2.5-flash"]


async def started(vendored, alice_on, connect, model, content="hello"):
    sock = await connect(await alice_on(vendored), on=vendored)
    chat = await sock.ok("chat.create", model=model)
    sent = await sock.ok("message.send", chat_id=chat["id"], content=content)
    return sock, sent["assistant_message"]["id"]


@pytest.fixture
async def patient(make_client, vendor):
    """Limits as an operator sets them: a long wait for the first token, a short one after."""
    from tests.helpers import vendor_providers

    return await make_client(providers=vendor_providers(vendor.url, first_token_timeout_s=4.0,
                                                        idle_timeout_s=1.5))


@pytest.mark.parametrize("model", MODELS)
async def test_silence_after_the_first_tokens_errors_within_the_idle_limit(patient, vendor,
                                                                           alice_on, connect,
                                                                           model):
    """A vendor that sends two tokens and goes quiet for 6 s is cut ~1.5 s into the silence (it
    used to end `done` after it: the watchdog first woke at the first-token deadline)."""
    vendor.script.tokens = ["one", " two", " three", " four"]
    vendor.script.pause_after, vendor.script.pause_s = 2, 6.0
    sock, reply_id = await started(patient, alice_on, connect, model)
    await deltas_of(sock, reply_id, 1)
    silent_from = asyncio.get_running_loop().time()
    events = await reply_events(sock, reply_id)
    waited = asyncio.get_running_loop().time() - silent_from
    assert events[-1]["type"] == "message.error", events[-1]
    assert events[-1]["error"]["code"] == "provider_unavailable"
    assert "stopped sending mid-reply" in events[-1]["error"]["message"]
    assert events[-1]["message"]["content"] == "one two"  # what came is kept, nothing charged
    assert events[-1]["message"]["cost"] == 0
    assert 1.0 < waited < 3.5, waited


@pytest.mark.parametrize("model", MODELS)
async def test_the_first_token_deadline_holds_before_it_not_the_idle_one(patient, vendor,
                                                                         alice_on, connect,
                                                                         model):
    vendor.script.first_delay = 2.5  # past the idle limit, within the first-token one: fine
    sock, reply_id = await started(patient, alice_on, connect, model)
    assert (await reply_events(sock, reply_id))[-1]["type"] == "message.done"
    vendor.script.first_delay = 8.0  # past the first-token limit
    chat = await sock.ok("chat.create", model=model)
    sent = await sock.ok("message.send", chat_id=chat["id"], content="again")
    began = asyncio.get_running_loop().time()
    events = await reply_events(sock, sent["assistant_message"]["id"])
    assert events[-1]["type"] == "message.error"
    assert "sent nothing in time" in events[-1]["error"]["message"]
    assert 3.5 < asyncio.get_running_loop().time() - began < 6.5


async def test_a_long_healthy_stream_is_never_cut_on_any_vendor(make_client, vendor, alice_on,
                                                                connect):
    """14 s of a token every 0.5 s, with connect and idle limits of 2 s: Gemini's SDK timeout
    used to be the whole request's (connect + idle), cutting every reply past it."""
    from tests.helpers import vendor_providers

    server = await make_client(providers=vendor_providers(vendor.url))
    vendor.script.tokens = [f" w{i}" for i in range(28)]
    vendor.script.delay = 0.5
    sock = await connect(await alice_on(server), on=server)
    replies = []
    for model in MODELS:
        chat = await sock.ok("chat.create", model=model)
        sent = await sock.ok("message.send", chat_id=chat["id"], content="talk for a while")
        replies.append(sent["assistant_message"]["id"])
    finals = {}
    while len(finals) < len(replies):
        frame = await sock.event_any(timeout=30)
        if frame.get("message_id") in replies and frame["type"] in (
                "message.done", "message.error", "message.stopped"):
            finals[frame["message_id"]] = frame
    for reply_id, model in zip(replies, MODELS):
        assert finals[reply_id]["type"] == "message.done", (model, finals[reply_id])
        assert finals[reply_id]["message"]["content"] == "".join(vendor.script.tokens)


# Every part of the usage at a non-trivial value: 1,200 prompt tokens of which 1,000 were read from
# the cache (Anthropic: 50 more written to it), 5 tokens of text and 300 of thinking.
USAGE = {"prompt_tokens": 1200, "cached_tokens": 1000, "reasoning_tokens": 300}
CHARGES = [
    # OpenAI: cached reads inside prompt_tokens, reasoning inside completion_tokens.
    # 200 × 150,000 + 1,000 × 75,000 + 305 × 600,000 = 288,000,000 → 288
    ("gpt-4o-mini", {}, {"prompt_tokens": 1200, "completion_tokens": 305, "cached_tokens": 1000,
                         "cache_write_tokens": 0, "reasoning_tokens": 300}, 288),
    # Anthropic: input_tokens (150) leaves out the cache reads (1,000) and writes (50).
    # 150 × 800,000 + 1,000 × 80,000 + 50 × 1,000,000 + 5 × 4,000,000 = 270,000,000 → 270
    ("claude-3-5-haiku", {"cache_write_tokens": 50, "reasoning_tokens": 0},
     {"prompt_tokens": 1200, "completion_tokens": 5, "cached_tokens": 1000,
      "cache_write_tokens": 50, "reasoning_tokens": 0}, 270),
    # Gemini: thoughtsTokenCount is billed as output beside candidatesTokenCount.
    # 200 × 300,000 + 1,000 × 75,000 + 305 × 2,500,000 = 897,500,000 → 898 (rounded up)
    ("gemini-2.5-flash", {}, {"prompt_tokens": 1200, "completion_tokens": 305,
                              "cached_tokens": 1000, "cache_write_tokens": 0,
                              "reasoning_tokens": 300}, 898),
]


@pytest.mark.parametrize("model,extra,usage,charge", CHARGES)
async def test_cached_thinking_and_cache_write_tokens_are_charged_once_at_their_prices(
        vendored, vendor, alice_on, connect, model, extra, usage, charge):
    for key, value in {**USAGE, **extra}.items():
        setattr(vendor.script, key, value)
    vendor.script.tokens = ["Да", ", ", "это", " так", "."]
    sock, reply_id = await started(vendored, alice_on, connect, model)
    events = await reply_events(sock, reply_id)
    done = events[-1]
    assert done["type"] == "message.done", done
    assert done["usage"] == {**usage, "estimated": []}
    assert done["cost"] == charge and done["message"]["cost"] == charge
    assert {k: done["message"][k] for k in usage} == usage  # kept on the row
    ledger = await sock.ok("transactions.list")
    spent = [t for t in ledger["transactions"] if t["kind"] == "usage"]
    assert [t["amount"] for t in spent] == [-charge]


@pytest.mark.parametrize("model", ["claude-3-5-haiku", "gemini-2.5-flash"])
async def test_a_stopped_reply_is_priced_with_the_vendor_s_prompt_count(vendored, vendor, alice_on,
                                                                        connect, model):
    """Anthropic says the prompt's count at message_start, Gemini on every chunk: a reply stopped
    midway pays for that count, not our estimate; only its completion is estimated."""
    vendor.script.prompt_tokens = 4321  # far from what our estimate of "hello" would be
    vendor.script.tokens = [f" слово{i}" for i in range(40)]
    vendor.script.delay = 0.1
    sock, reply_id = await started(vendored, alice_on, connect, model)
    await deltas_of(sock, reply_id, 2)
    await sock.ok("message.stop", message_id=reply_id)
    stopped = (await reply_events(sock, reply_id))[-1]
    assert stopped["type"] == "message.stopped"
    usage = stopped["usage"]
    assert usage["prompt_tokens"] == 4321 and usage["estimated"] == ["completion_tokens"]
    text = stopped["message"]["content"]
    assert usage["completion_tokens"] == (len(text.encode()) + 3) // 4  # our estimate of it
    price = {"claude-3-5-haiku": (800_000, 4_000_000), "gemini-2.5-flash": (300_000, 2_500_000)}
    inp, out = price[model]
    assert stopped["cost"] == -(-(4321 * inp + usage["completion_tokens"] * out) // 1_000_000)


async def test_a_stopped_openai_reply_says_both_figures_were_estimated(vendored, vendor, alice_on,
                                                                       connect):
    """Chat completions report usage only at the end: a stopped reply has no vendor count."""
    vendor.script.tokens = [f" t{i}" for i in range(40)]
    vendor.script.delay = 0.1
    sock, reply_id = await started(vendored, alice_on, connect, "gpt-4o-mini")
    await deltas_of(sock, reply_id, 2)
    await sock.ok("message.stop", message_id=reply_id)
    stopped = (await reply_events(sock, reply_id))[-1]
    assert stopped["usage"]["estimated"] == ["prompt_tokens", "completion_tokens"]
    assert stopped["cost"] > 0
