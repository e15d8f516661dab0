"""POST /api/v1/chats/import over a real server, on both engines: ChatGPT's conversations.json and
our own JSON export, all or nothing, size-capped, the caller's own, announced to open devices."""
import io
from pathlib import Path

import orjson
import pytest

from tests.helpers import auth, multipart, reply_events

CHATGPT = (Path(__file__).resolve().parent.parent / "fixtures" / "chatgpt_conversations.json").read_bytes()
IMPORT = "/api/v1/chats/import"


async def post_file(client, user, data: bytes, name="conversations.json"):
    body, boundary = multipart(name, data, "application/json")
    resp = await client.post(IMPORT, data=io.BytesIO(body), headers={
        **auth(user), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    return resp.status, await resp.json()


async def post_json(client, user, data: bytes, **headers):
    resp = await client.post(IMPORT, data=io.BytesIO(data), headers={
        **auth(user), "Content-Type": "application/json", **headers})
    return resp.status, await resp.json()


async def test_a_chatgpt_export_becomes_chats_with_their_branches(client, alice, connect):
    sock, other_device = await connect(alice), await connect(alice)
    before = await sock.ok("balance.get")
    status, body = await post_file(client, alice, CHATGPT)
    assert status == 201, body
    assert [(c["title"], c["message_count"]) for c in body["chats"]] == [("Trip to Kazan", 6),
                                                                           ("Хайку о чае", 2)]
    assert body["skipped"] == 0
    trip_id = body["chats"][0]["id"]
    for device in (sock, other_device):  # every open device hears of both chats
        created = [await device.event("chat.created") for _ in range(2)]
        assert [e["chat"]["title"] for e in created] == ["Trip to Kazan", "Хайку о чае"]
    trip = await sock.ok("chat.get", chat_id=trip_id)
    # the active branch is the edited question and the answer found after a web search
    assert [(m["role"], m["content"], m["model"], m["status"]) for m in trip["messages"]] == [
        ("user", "What should I see in Kazan?", None, "complete"),
        ("assistant", "The Kremlin, Kul Sharif mosque and Bauman street.", "gpt-4o", "complete"),
        ("user", "And where to eat cheaply?", None, "complete"),
        ("assistant", "Dom Chaya, a canteen: mains from 150 roubles.", "gpt-4o-mini", "complete")]
    assert trip["current_message_id"] == trip["messages"][-1]["id"]
    edited = trip["messages"][2]
    assert len(edited["sibling_ids"]) == 2 and edited["sibling_ids"][1] == edited["id"]
    await sock.ok("message.switch", message_id=edited["sibling_ids"][0])  # the branch switcher
    first = await sock.ok("message.list", chat_id=trip_id)
    assert [m["content"] for m in first["messages"]][2:] == [
        "And where to eat?", "Try chak-chak at the Tatar restaurants on Bauman street."]
    assert await sock.ok("balance.get") == before  # imported chats cost nothing
    assert [t["kind"] for t in (await sock.ok("transactions.list"))["transactions"]] == ["deposit"]
    listed = await sock.ok("chat.list")
    assert {c["id"] for c in listed["chats"]} == {c["id"] for c in body["chats"]}
    # an imported chat carries on like any other
    turn = await sock.ok("message.send", chat_id=trip_id, content="Thanks!")
    await reply_events(sock, turn["assistant_message"]["id"])
    assert turn["message"]["parent_id"] == first["messages"][-1]["id"]  # the branch switched to


def tree_of(export):
    """The export's tree by position (parents first), without ids or times."""
    position = {m["id"]: i for i, m in enumerate(export["messages"])}
    messages = [(position.get(m["parent_id"]), m["role"], m["content"], m["model"], m["status"])
                for m in export["messages"]]
    chat = export["chat"]
    return (messages, position[chat["current_message_id"]], chat["title"], chat["tags"],
            chat["favorite"], chat["system_prompt"], chat["model"])


async def test_our_json_export_round_trips_tree_models_and_active_branch(client, alice, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create", title="Round trip", tags=["trips"], system_prompt="Brief")
    first = await sock.ok("message.send", chat_id=chat["id"], content="Где поесть?")
    await reply_events(sock, first["assistant_message"]["id"])
    again = await sock.ok("message.regenerate", message_id=first["assistant_message"]["id"])
    await reply_events(sock, again["assistant_message"]["id"])
    edit = await sock.ok("message.edit", message_id=first["message"]["id"], content="Где выпить чаю?")
    await reply_events(sock, edit["assistant_message"]["id"])
    await sock.ok("message.switch", message_id=first["assistant_message"]["id"])
    exported = await client.get(f"/api/v1/chats/{chat['id']}/export?format=json", headers=auth(alice))
    original = orjson.loads(await exported.read())
    assert len(original["messages"]) == 5
    status, body = await post_json(client, alice, orjson.dumps(original))
    assert status == 201, body
    (imported,) = body["chats"]
    assert imported["id"] != chat["id"] and imported["message_count"] == 5
    again_exported = await client.get(f"/api/v1/chats/{imported['id']}/export?format=json",
                                      headers=auth(alice))
    copy = orjson.loads(await again_exported.read())
    assert tree_of(copy) == tree_of(original)
    assert all(m["cost"] == 0 and m["prompt_tokens"] == 0 for m in copy["messages"])
    assert {m["id"] for m in copy["messages"]}.isdisjoint(m["id"] for m in original["messages"])
    # a list of exports is a list of chats
    status, body = await post_json(client, alice, orjson.dumps([original, original]))
    assert status == 201 and len(body["chats"]) == 2


def endless(total: int, chunk: int = 1024 * 1024):
    async def body():
        for _ in range(total // chunk):
            yield b" " * chunk
    return body()


async def chat_count(sock) -> int:
    return len((await sock.ok("chat.list"))["chats"])


def loop_of(n):
    return [{"title": "loop", "current_node": "n0", "mapping": {
        f"n{i}": {"id": f"n{i}", "parent": f"n{(i + 1) % n}", "children": [f"n{(i - 1) % n}"],
                  "message": {"author": {"role": "user"}, "create_time": 1717000000 + i,
                              "content": {"content_type": "text", "parts": [f"m{i}"]}}}
        for i in range(n)}}]


def with_bad_node():
    data = orjson.loads(CHATGPT)  # the first conversation is fine: nothing of it may be stored
    data[1]["mapping"]["7d3e-a1"]["parent"] = "no-such-node"
    return orjson.dumps(data)


BAD = [
    ("empty", b"", "the file is empty"),
    ("not json", b'[{"title": "x", "mapping": ', "not valid JSON"),
    ("a cycle", orjson.dumps(loop_of(10)), "10 nodes form a cycle"),
    ("a missing node", with_bad_node(), "conversation 1 ('Хайку о чае'), node 7d3e-a1: parent"),
    ("a wrong type", orjson.dumps([{"title": ["x"], "mapping": {}}]), "title: expected text"),
    ("not a conversation", orjson.dumps({"hello": "world"}), "neither a Chatwire export"),
    ("too many conversations", orjson.dumps([{"title": "", "mapping": {}}] * 1001),
     "at most 1000 conversations"),
]


@pytest.mark.parametrize("name, data, says", BAD, ids=[b[0] for b in BAD])
async def test_a_bad_file_is_refused_whole_and_the_server_carries_on(client, alice, connect,
                                                                     name, data, says):
    sock = await connect(alice)
    for send in (post_file, post_json):
        status, body = await send(client, alice, data)
        assert status == 400 and body["error"]["code"] == "bad_request", body
        assert says in body["error"]["message"], body
    assert await chat_count(sock) == 0
    await sock.no_event()  # no chat.created for the good conversation before the bad one
    status, body = await post_file(client, alice, CHATGPT)
    assert status == 201 and await chat_count(sock) == 2


async def test_too_many_messages_is_refused(client, alice, connect):
    sock = await connect(alice)
    chain = {f"n{i}": {"parent": f"n{i - 1}" if i else None, "message": None}
             for i in range(50_001)}
    status, body = await post_json(client, alice, orjson.dumps({"title": "big", "mapping": chain}))
    assert status == 400 and "more than 50000 messages" in body["error"]["message"]
    assert await chat_count(sock) == 0


async def test_a_body_over_the_cap_is_refused_without_being_read(client, make_client, alice,
                                                                 alice_on, connect):
    sock = await connect(alice)
    declared = 200 * 1024 * 1024  # 200 MB said up front: refused before a byte of it is read
    resp = await client.post(IMPORT, data=endless(declared), headers={
        **auth(alice), "Content-Type": "application/json", "Content-Length": str(declared)})
    assert resp.status == 413 and (await resp.json())["error"]["code"] == "too_large"
    small = await make_client(import_max_mb=1)
    resp = await small.post(IMPORT, data=endless(4 * 1024 * 1024, 64 * 1024), headers={
        **auth(alice), "Content-Type": "application/json"})  # streamed: no length to go by
    body = await resp.json()
    assert resp.status == 413 and "at most 1 MB" in body["error"]["message"]
    status, body = await post_file(small, alice, b" " * (1024 * 1024 + 70_000))
    assert status == 413 and body["error"]["code"] == "too_large"
    assert await chat_count(sock) == 0
    status, _ = await post_file(small, alice, CHATGPT)
    assert status == 201


async def test_the_import_is_the_caller_s_and_needs_a_login(client, alice, bob, connect):
    status, body = await post_file(client, bob, CHATGPT)
    assert status == 201
    alices = await connect(alice)
    assert await chat_count(alices) == 0
    error = await alices.error("chat.get", chat_id=body["chats"][0]["id"])
    assert error["code"] == "not_found"
    await alices.no_event()  # bob's chats were announced to bob alone
    bobs = await connect(bob)
    # the cookie (Bob signed up last) imports only from the web client's own origin
    foreign = await client.post(IMPORT, data=CHATGPT, headers={
        "Content-Type": "application/json", "Origin": "https://evil.example"})
    assert foreign.status == 401
    own = await client.post(IMPORT, data=CHATGPT, headers={
        "Content-Type": "application/json", "Origin": str(client.make_url("")).rstrip("/")})
    assert own.status == 201, await own.text()
    assert await chat_count(bobs) == 4 and await chat_count(alices) == 0
    client.session.cookie_jar.clear()
    resp = await client.post(IMPORT, data=CHATGPT, headers={"Content-Type": "application/json"})
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "unauthorized"
