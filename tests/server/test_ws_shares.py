"""Share links (issue 22, section 5): a frozen snapshot of the active branch behind an
unguessable id, readable by anyone with the link and nothing more; revoked, trashed or unknown
is 404; a signed-in reader continues it in a chat of their own."""
import base64

from server.web.access import logged_path
from tests.helpers import auth, read_until_done, reply_events


async def chat_with_two_turns(sock):
    chat = await sock.ok("chat.create", title="Пельмени")
    first = await sock.ok("message.send", chat_id=chat["id"], content="How do I make пельмени?")
    await reply_events(sock, first["assistant_message"]["id"])
    second = await sock.ok("message.send", chat_id=chat["id"], content="And the dough?")
    await reply_events(sock, second["assistant_message"]["id"])
    return chat, first, second


async def test_a_share_is_a_snapshot_that_later_messages_and_edits_do_not_change(
        client, alice, connect):
    sock, other = await connect(alice), await connect(alice)
    chat, first, second = await chat_with_two_turns(sock)
    shared = (await sock.ok("chat.share", chat_id=chat["id"]))["share"]
    assert shared["url"] == f"/s/{shared['id']}" and shared["message_count"] == 4
    assert len(base64.urlsafe_b64decode(shared["id"] + "==")) * 8 >= 128  # unguessable
    assert (await other.event("share.created"))["share"] == shared

    # Later: another turn, and an edit that makes a new branch. The link still shows the old one.
    more = await sock.ok("message.send", chat_id=chat["id"], content="Later message")
    await reply_events(sock, more["assistant_message"]["id"])
    edited = await sock.ok("message.edit", message_id=first["message"]["id"], content="Edited")
    await reply_events(sock, edited["assistant_message"]["id"])

    resp = await client.get(f"/api/v1/shares/{shared['id']}")  # no credentials at all
    assert resp.status == 200
    assert resp.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert resp.headers["Cache-Control"] == "no-store"
    body = await resp.json()
    assert body["share"]["title"] == "Пельмени"
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("user", "How do I make пельмени?"), ("assistant", "How do I make пельмени?"),
        ("user", "And the dough?"), ("assistant", "And the dough?")]
    raw = await resp.text()
    assert "alice" not in raw.lower() and alice["user"]["id"] not in raw  # nothing of the owner

    page = await client.get(f"/s/{shared['id']}")
    assert page.status == 200 and "noindex" in await page.text()
    assert page.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"

    assert [s["id"] for s in (await sock.ok("share.list"))["shares"]] == [shared["id"]]
    assert (await sock.ok("chat.unshare", share_id=shared["id"])) == {
        "share_id": shared["id"], "revoked": True}
    assert (await other.event("share.revoked"))["share_id"] == shared["id"]
    assert (await client.get(f"/api/v1/shares/{shared['id']}")).status == 404
    gone = await client.get(f"/s/{shared['id']}")
    assert gone.status == 404 and "no longer shared" in await gone.text()
    assert "noindex" in gone.headers["X-Robots-Tag"]
    assert (await sock.ok("share.list"))["shares"] == []


async def test_trashing_a_chat_revokes_its_links_and_purging_deletes_them(client, alice, connect):
    sock = await connect(alice)
    chat, _, _ = await chat_with_two_turns(sock)
    one = (await sock.ok("chat.share", chat_id=chat["id"]))["share"]
    two = (await sock.ok("chat.share", chat_id=chat["id"]))["share"]
    assert one["id"] != two["id"]
    await sock.ok("chat.delete", chat_id=chat["id"])
    for share in (one, two):
        assert (await client.get(f"/api/v1/shares/{share['id']}")).status == 404
    assert (await sock.error("chat.share", chat_id=chat["id"]))["code"] == "bad_request"
    await sock.ok("chat.restore", chat_id=chat["id"])  # restoring does not share again
    assert (await client.get(f"/api/v1/shares/{one['id']}")).status == 404
    three = (await sock.ok("chat.share", chat_id=chat["id"]))["share"]
    await sock.ok("chat.delete", chat_id=chat["id"])
    await sock.ok("chat.purge", chat_id=chat["id"])
    assert (await client.get(f"/api/v1/shares/{three['id']}")).status == 404
    assert (await sock.ok("share.list"))["shares"] == []


async def test_a_signed_in_reader_continues_the_snapshot_in_a_chat_of_their_own(
        client, alice, bob, connect):
    sock, bobs = await connect(alice), await connect(bob)
    chat, _, _ = await chat_with_two_turns(sock)
    shared = (await sock.ok("chat.share", chat_id=chat["id"]))["share"]

    resp = await client.post(f"/api/v1/shares/{shared['id']}/continue", headers=auth(bob))
    assert resp.status == 201
    copy = (await resp.json())["chat"]
    assert copy["title"] == "Пельмени" and copy["id"] != chat["id"]
    assert (await bobs.event("chat.created"))["chat"]["id"] == copy["id"]
    opened = await bobs.ok("chat.get", chat_id=copy["id"])
    assert [m["content"] for m in opened["messages"]] == [
        "How do I make пельмени?", "How do I make пельмени?", "And the dough?", "And the dough?"]
    assert all(m["cost"] == 0 for m in opened["messages"])
    going_on = await bobs.ok("message.send", chat_id=copy["id"], content="Thanks!")
    await read_until_done(bobs, going_on["assistant_message"]["id"])
    assert len((await bobs.ok("chat.get", chat_id=copy["id"]))["messages"]) == 6

    over_socket = await bobs.ok("share.continue", share_id=shared["id"])
    assert over_socket["chat"]["id"] != copy["id"]
    assert (await sock.ok("chat.get", chat_id=chat["id"]))["messages"][-1]["content"] == \
        "And the dough?"  # the owner's chat is untouched
    assert (await client.post(f"/api/v1/shares/{shared['id']}/continue")).status == 401


async def test_bad_share_input_is_refused_and_changes_nothing(client, alice, bob, connect):
    sock, bobs = await connect(alice), await connect(bob)
    chat, _, _ = await chat_with_two_turns(sock)
    shared = (await sock.ok("chat.share", chat_id=chat["id"]))["share"]
    empty = await sock.ok("chat.create")
    for request, params, code in [
        ("chat.share", {"chat_id": "no-such-chat"}, "not_found"),
        ("chat.share", {"chat_id": empty["id"]}, "bad_request"),
        ("chat.share", {}, "bad_request"),
        ("chat.unshare", {"share_id": "no-such-share"}, "not_found"),
        ("share.continue", {"share_id": "no-such-share"}, "not_found"),
    ]:
        assert (await sock.error(request, **params))["code"] == code, (request, params)
    # Bob can read the link (anyone can) but not share Alice's chat nor revoke her link.
    assert (await bobs.error("chat.share", chat_id=chat["id"]))["code"] == "not_found"
    assert (await bobs.error("chat.unshare", share_id=shared["id"]))["code"] == "not_found"
    assert (await bobs.ok("share.list"))["shares"] == []
    assert (await client.get(f"/api/v1/shares/{shared['id']}")).status == 200
    for path in ("/api/v1/shares/nope", "/s/nope", f"/s/{shared['id'][:-1]}"):
        assert (await client.get(path)).status == 404, path
    resp = await client.get("/api/v1/shares/nope")
    assert (await resp.json())["error"]["code"] == "not_found"
    assert [s["id"] for s in (await sock.ok("share.list"))["shares"]] == [shared["id"]]
    assert (await sock.ok("ping"))["pong"]


def test_the_access_log_never_holds_a_share_links_id():
    assert logged_path("/s/Abc-_xyz123") == "/s/…"
    assert logged_path("/api/v1/shares/Abc-_xyz123/continue") == "/api/v1/shares/…/continue"
    assert logged_path("/api/v1/chats/c1/export") == "/api/v1/chats/c1/export"
