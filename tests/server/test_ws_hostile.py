"""Hostile and broken frames: each gets a typed error, the socket stays open, nothing changes."""
import pytest

from protocol import REQUESTS


async def snapshot(client):
    from server.web.state import CONTEXT
    db = client.app[CONTEXT].services.db
    out = {}
    for table in ("users", "chats", "chat_tags", "messages", "refresh_tokens"):
        out[table] = await db.fetchall(f"SELECT * FROM {table} ORDER BY 1")
    return out


BROKEN = [
    ("{not json", "bad_request"),
    ("", "bad_request"),
    ("null", "bad_request"),
    ("[]", "bad_request"),
    ('"chat.list"', "bad_request"),
    ("12", "bad_request"),
    ('{"id":"1"}', "bad_request"),
    ('{"type":"chat.destroy_everything","id":"1"}', "unknown_type"),
    ('{"type":"","id":"1"}', "bad_request"),
    ('{"type":"chat.get","id":"1"}', "bad_request"),
    ('{"type":"chat.get","id":"1","chat_id":["x"]}', "bad_request"),
    ('{"type":"chat.get","id":"1","chat_id":"' + "x" * 65 + '"}', "bad_request"),
    ('{"type":"chat.create","id":"1","title":{"$gt":""}}', "bad_request"),
    ('{"type":"chat.create","id":"1","favorite":1}', "bad_request"),
    ('{"type":"chat.create","id":"1","tags":"work"}', "bad_request"),
    ('{"type":"chat.create","id":"1","title":"\\ud800"}', "bad_request"),
    ('{"type":"chat.create","id":"1","system_prompt":"nul\\u0000byte"}', "bad_request"),
    ('{"type":"chat.update","id":"1","chat_id":"x"}', "bad_request"),
    ('{"type":"chat.list","id":"1","cursor":"%%%not-base64"}', "bad_request"),
    ('{"type":"chat.list","id":"1","cursor":"WyJ4Il0"}', "bad_request"),
    ('{"type":"chat.list","id":"1","limit":-5}', "bad_request"),
    ('{"type":"chat.list","id":"1","limit":99999999999999999999999}', "bad_request"),
    ('{"type":"message.list","id":"1","chat_id":"x","limit":"10"}', "bad_request"),
    ('{"type":"resume","id":"1","last_seq":"10"}', "bad_request"),
]


@pytest.mark.parametrize("data,code", BROKEN)
async def test_a_broken_frame_gets_a_typed_error_and_changes_nothing(client, alice, connect,
                                                                     data, code):
    sock = await connect(alice)
    await sock.ok("chat.create", title="keep me", tags=["a"])
    await sock.event("chat.created")
    before = await snapshot(client)
    await sock.send_raw(data)
    frame = await sock._next_frame()
    assert frame["type"] == "reply" and frame["ok"] is False
    assert frame["error"]["code"] == code and frame["error"]["message"]
    assert (await sock.ok("ping"))["pong"]  # the socket is still open and serving
    assert await snapshot(client) == before
    await sock.no_event()


@pytest.mark.parametrize("kind", ["chat.get", "chat.update", "chat.delete", "chat.restore",
                                  "chat.purge", "message.list"])
async def test_another_users_chat_is_not_found_and_untouched(client, alice, bob, connect, kind):
    a, b = await connect(alice), await connect(bob)
    chat = await a.ok("chat.create", title="Alice's secret", tags=["private"])
    await a.event("chat.created")
    if kind == "chat.purge":
        chat = await a.ok("chat.delete", chat_id=chat["id"])
        await a.event("chat.deleted")
    before = await snapshot(client)
    params = {"chat_id": chat["id"]}
    if kind == "chat.update":
        params.update(title="pwned", favorite=True, tags=["x"])
    error = await b.error(kind, **params)
    missing = await b.error(kind, **{**params, "chat_id": "does-not-exist"})
    assert error["code"] == "not_found"
    # indistinguishable from a chat that does not exist, apart from the id it names
    assert error["message"].replace(chat["id"], "ID") == missing["message"].replace(
        "does-not-exist", "ID")
    assert await snapshot(client) == before
    await a.no_event()


async def test_another_users_chats_never_appear_in_lists_or_search(client, alice, bob, connect):
    a, b = await connect(alice), await connect(bob)
    await a.ok("chat.create", title="Alice plans Kazan", tags=["shared-tag"], favorite=True)
    for params in ({}, {"q": "kazan"}, {"tag": "shared-tag"}, {"favorite": True},
                   {"trashed": True}):
        assert (await b.ok("chat.list", **params))["chats"] == []


async def test_bobs_events_never_reach_alices_socket(client, alice, bob, connect):
    a, b = await connect(alice), await connect(bob)
    await b.ok("chat.create", title="bob's")
    await a.no_event()


def test_every_request_type_has_a_handler():
    from server.web.handlers import HANDLERS
    assert set(HANDLERS) == set(REQUESTS)
