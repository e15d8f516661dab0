"""The model catalogue at runtime (issue 23, item 4): admins list, add and change models and
prices over REST; a change reaches every instance (through Redis) without a restart, every open
socket hears `models.updated`, the next reply is charged at the new price, and a reply in flight
keeps the price it reserved at. A non-admin changes nothing."""
import asyncio

import pytest

from server.web.state import CONTEXT
from tests.fakes.vendors import Script
from tests.helpers import make_admin, read_until_done, register, vendor_providers

MODELS = "/api/v1/admin/models"
CHEAP = {"input_price": 1_000_000, "output_price": 2_000_000}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


async def patch(server, token, model_id, body):
    resp = await server.patch(f"{MODELS}/{model_id}", json=body, headers=bearer(token))
    return resp.status, await resp.json()


@pytest.fixture
async def two_instances(make_client, redis_url, vendor):
    providers = vendor_providers(vendor.url)
    return (await make_client(redis_url=redis_url, providers=providers),
            await make_client(redis_url=redis_url, providers=providers))


async def test_a_price_change_reaches_every_instance_and_the_next_reply(two_instances, vendor,
                                                                        connect):
    a, b = two_instances
    admin = await make_admin(a)
    user = await register(a, "alice@example.com")
    on_b = await connect(user, on=b)
    listed = (await (await a.get(MODELS, headers=bearer(admin))).json())["models"]
    mini = next(m for m in listed if m["id"] == "gpt-4o-mini")
    assert mini["enabled"] and mini["available"] and mini["input_price"] == 150_000

    status, body = await patch(a, admin, "gpt-4o-mini", {**CHEAP, "name": "Mini (cheap)"})
    assert status == 200 and body["model"]["input_price"] == 1_000_000
    assert (await on_b.event("models.updated")) == {"type": "models.updated"}
    offered = {m["id"]: m for m in (await on_b.ok("models.list"))["models"]}
    assert offered["gpt-4o-mini"]["name"] == "Mini (cheap)"
    assert offered["gpt-4o-mini"]["input_price"] == 1_000_000

    chat = await on_b.ok("chat.create", model="gpt-4o-mini")
    sent = await on_b.ok("message.send", chat_id=chat["id"], content="hi")
    await read_until_done(on_b, sent["assistant_message"]["id"])
    row = (await on_b.ok("chat.get", chat_id=chat["id"]))["messages"][-1]
    model = b.app[CONTEXT].services.catalogue.models["gpt-4o-mini"]
    assert row["cost"] == model.cost(11, 4) == -(-(11 * 1_000_000 + 4 * 2_000_000) // 1_000_000)


async def test_a_reply_in_flight_keeps_the_price_it_reserved_at(vendored, vendor, alice_on,
                                                                connect):
    admin = await make_admin(vendored)
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    vendor.script = Script(tokens=["slow"] * 6, delay=0.15)
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="hi")
    await asyncio.sleep(0.3)  # streaming by now
    assert (await patch(vendored, admin, "gpt-4o-mini", {"output_price": 900_000_000}))[0] == 200
    await read_until_done(sock, sent["assistant_message"]["id"])
    row = (await sock.ok("chat.get", chat_id=chat["id"]))["messages"][-1]
    assert row["cost"] == -(-(11 * 150_000 + 6 * 600_000) // 1_000_000)  # the old prices
    again = await sock.ok("message.send", chat_id=chat["id"], content="again")
    await read_until_done(sock, again["assistant_message"]["id"])
    row = (await sock.ok("chat.get", chat_id=chat["id"]))["messages"][-1]
    assert row["cost"] == -(-(row["prompt_tokens"] * 150_000 + 6 * 900_000_000) // 1_000_000)


async def test_models_are_added_disabled_and_enabled_again(vendored, alice_on, connect):
    admin = await make_admin(vendored)
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    new = {"id": "gpt-house", "provider": "openai", "upstream": "gpt-4o-mini", "name": "House",
           **CHEAP, "context_window": 64_000, "max_output_tokens": 2048, "vision": False}
    resp = await vendored.post(MODELS, json=new, headers=bearer(admin))
    assert resp.status == 201 and (await resp.json())["model"]["id"] == "gpt-house"
    await sock.event("models.updated")
    assert "gpt-house" in {m["id"] for m in (await sock.ok("models.list"))["models"]}
    chat = await sock.ok("chat.create", model="gpt-house")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="hi")
    await read_until_done(sock, sent["assistant_message"]["id"])

    assert (await patch(vendored, admin, "gpt-house", {"enabled": False}))[0] == 200
    assert "gpt-house" not in {m["id"] for m in (await sock.ok("models.list"))["models"]}
    error = await sock.error("message.send", chat_id=chat["id"], content="more", model="gpt-house")
    assert error["code"] == "bad_request"
    listed = (await (await vendored.get(MODELS, headers=bearer(admin))).json())["models"]
    assert next(m for m in listed if m["id"] == "gpt-house")["enabled"] is False
    assert (await patch(vendored, admin, "gpt-house", {"enabled": True}))[0] == 200
    assert "gpt-house" in {m["id"] for m in (await sock.ok("models.list"))["models"]}


async def test_bad_catalogue_changes_are_refused_and_change_nothing(vendored, alice_on):
    admin = await make_admin(vendored)
    alice = await alice_on(vendored)
    good = {"id": "gpt-x", "provider": "openai", "upstream": "gpt-4o", **CHEAP,
            "context_window": 1000, "max_output_tokens": 100}
    before = (await (await vendored.get(MODELS, headers=bearer(admin))).json())["models"]
    for body, status, field in [
        ({**good, "id": "gpt-4o-mini"}, 409, "id"),  # collides
        ({**good, "provider": "yandex"}, 400, "provider"),  # not configured here
        ({**good, "provider": "nobody"}, 400, "provider"),
        ({**good, "input_price": -1}, 400, "input_price"),
        ({**good, "output_price": 1.5}, 400, "output_price"),
        ({**good, "max_output_tokens": 2000}, 400, "max_output_tokens"),
        ({k: v for k, v in good.items() if k != "upstream"}, 400, "upstream"),
        ({**good, "surprise": 1}, 400, None),
    ]:
        resp = await vendored.post(MODELS, json=body, headers=bearer(admin))
        error = (await resp.json())["error"]
        assert resp.status == status, (body, error)
        assert error.get("field") == field or field is None, (body, error)
    for model_id, body, status in [("gpt-4o-mini", {"input_price": -5}, 400),
                                   ("gpt-4o-mini", {"context_window": 10}, 400),
                                   ("gpt-4o-mini", {}, 400),
                                   ("no-such-model", {"name": "x"}, 404)]:
        assert (await patch(vendored, admin, model_id, body))[0] == status, (model_id, body)
    # A user is no admin: forbidden, on every route.
    user = bearer(alice["access_token"])
    assert (await vendored.get(MODELS, headers=user)).status == 403
    assert (await vendored.post(MODELS, json=good, headers=user)).status == 403
    assert (await vendored.patch(f"{MODELS}/gpt-4o-mini", json=CHEAP, headers=user)).status == 403
    vendored.session.cookie_jar.clear()  # the last sign-up's cookie: none at all now
    assert (await vendored.get(MODELS)).status == 401
    after = (await (await vendored.get(MODELS, headers=bearer(admin))).json())["models"]
    assert after == before
