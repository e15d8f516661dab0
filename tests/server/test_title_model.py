"""Chat titles asked of a model (TITLE_MODEL, issue 22 section 1): the vendor-faithful fake
answers; the title is cleaned, charged like a reply (reserved first, a usage row with a note),
and the offline title stands in when the call fails or the balance cannot cover it."""
import json

from providers import registry
from server.domain.title_model import PROMPT, clean_title
from server.web.state import CONTEXT
from tests.fakes.vendors import Script
from tests.helpers import read_until_done, register, vendor_providers

PRICEY = {"id": "gpt-pricey", "name": "Pricey", "provider": "openai", "upstream": "gpt-4o",
          "input_price": 10**12, "output_price": 10**12, "context_window": 128000,
          "max_output_tokens": 4096, "vision": False}


async def titled(make_client, vendor, tmp_path, model="gpt-4o-mini"):
    models = tmp_path / "models.json"
    models.write_text(json.dumps([m.public() for m in registry.load(None).values()] + [PRICEY]))
    return await make_client(providers=vendor_providers(vendor.url), title_model=model,
                             models_file=models)


async def first_turn(server, sock, content):
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    sent = await sock.ok("message.send", chat_id=chat["id"], content=content)
    await read_until_done(sock, sent["assistant_message"]["id"])
    await server.app[CONTEXT].services.titles.drain()
    return chat


async def test_the_model_names_the_chat_and_the_call_is_charged_through_the_ledger(
        make_client, vendor, tmp_path, connect):
    vendor.scripts_for = [(PROMPT[:30], Script(tokens=["Title: «Пельмени", " по-сибирски»."]))]
    server = await titled(make_client, vendor, tmp_path)
    alice = await register(server, "alice@example.com")
    sock, other = await connect(alice, on=server), await connect(alice, on=server)
    chat = await first_turn(server, sock, "Как приготовить **пельмени**? Расскажи подробно.")

    renamed = await other.event("chat.updated")
    while not renamed["chat"]["title"]:  # the send's own updates come first
        renamed = await other.event("chat.updated")
    assert renamed["chat"]["title"] == "Пельмени по-сибирски"
    asked = vendor.requests[-1]["body"]
    assert asked["messages"][0] == {"role": "system", "content": PROMPT}
    assert "Как приготовить **пельмени**?" in asked["messages"][1]["content"]
    assert asked["max_tokens"] == 40 or asked.get("max_completion_tokens") == 40

    usage = (await sock.ok("transactions.list", kind="usage"))["transactions"]
    title_row = next(t for t in usage if t["message_id"] is None)
    model = server.app[CONTEXT].services.generations.models["gpt-4o-mini"]
    assert title_row["note"] == "chat title (gpt-4o-mini)"
    assert title_row["amount"] == -model.cost(11, 2)  # the fake's prompt count, two tokens out
    assert len(usage) == 2  # the reply's, and the title's
    assert await server.app[CONTEXT].services.ledger.check() == []
    account = await sock.ok("balance.get")
    assert account["reserved"] == 0
    # A title the user set is never asked for again, nor charged.
    await sock.ok("chat.update", chat_id=chat["id"], title="Мой заголовок")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="Ещё")
    await read_until_done(sock, sent["assistant_message"]["id"])
    assert len((await sock.ok("transactions.list", kind="usage"))["transactions"]) == 3


async def test_a_failing_title_model_leaves_the_offline_title_and_charges_nothing_for_it(
        make_client, vendor, tmp_path, connect):
    vendor.scripts_for = [(PROMPT[:30], Script(status=400))]
    server = await titled(make_client, vendor, tmp_path)
    alice = await register(server, "alice@example.com")
    sock = await connect(alice, on=server)
    chat = await first_turn(server, sock, "How do I fix a flat tyre? Step by step please.")
    assert (await sock.ok("chat.get", chat_id=chat["id"]))["title"] == "How do I fix a flat tyre?"
    usage = (await sock.ok("transactions.list", kind="usage"))["transactions"]
    assert [t["message_id"] is None for t in usage] == [False]
    assert (await sock.ok("balance.get"))["reserved"] == 0


async def test_a_title_the_balance_cannot_cover_is_not_asked_for(make_client, vendor, tmp_path,
                                                                 connect):
    server = await titled(make_client, vendor, tmp_path, model="gpt-pricey")
    alice = await register(server, "alice@example.com")
    sock = await connect(alice, on=server)
    asked_before = len(vendor.requests)
    chat = await first_turn(server, sock, "Kazan in May: what to see?")
    assert len(vendor.requests) == asked_before + 1  # the reply only
    assert (await sock.ok("chat.get", chat_id=chat["id"]))["title"] == "Kazan in May: what to see?"
    assert len((await sock.ok("transactions.list", kind="usage"))["transactions"]) == 1


def test_an_answer_is_cleaned_into_a_title_or_refused():
    assert clean_title('Title: "Kazan in May"') == "Kazan in May"
    assert clean_title("**Поездка в Казань**\nВторая строка") == "Поездка в Казань"
    assert clean_title("Название: «План поездки».") == "План поездки"
    assert clean_title("\n\n  # Trip planning  \n") == "Trip planning"
    long = clean_title(" ".join(["word"] * 30))
    assert len(long) <= 60 and not long.endswith(" ")
    for nothing in ("", "  \n ", '""', "«»", "***", "…"):
        assert clean_title(nothing) == ""
