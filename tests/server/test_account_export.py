"""“Download my data” (`GET /api/v1/account/export`, issue 22): one zip, streamed, with every chat's
whole tree, the profile, every transaction and the files' bytes — the user's own, nobody else's."""
import io
import zipfile

import orjson

from tests.helpers import auth, read_until_done, upload
from tests.samples import png


async def download(client, user=None, query=""):
    resp = await client.get(f"/api/v1/account/export{query}",
                            headers=auth(user) if user else {})
    return resp, await resp.read()


async def test_the_zip_holds_chats_profile_transactions_and_files(client, alice, bob, connect):
    sock = await connect(alice)
    picture = png(64, 64, "green")
    _, image = await upload(client, alice, "кот.png", picture, "image/png")
    _, notes = await upload(client, alice, "notes.md", "# Список\n- молоко".encode())
    chat = await sock.ok("chat.create", title="Поездка в Казань")
    first = await sock.ok("message.send", chat_id=chat["id"], content="Что посмотреть?",
                          file_ids=[notes["file"]["id"]])
    await read_until_done(sock, first["assistant_message"]["id"])
    again = await sock.ok("message.regenerate", message_id=first["assistant_message"]["id"])
    await read_until_done(sock, again["assistant_message"]["id"])
    trashed = await sock.ok("chat.create", title="в корзине")
    await sock.ok("chat.delete", chat_id=trashed["id"])
    await sock.ok("profile.update", interests=[{"text": "архитектура"}])
    bobs = await (await connect(bob)).ok("chat.create", title="Bob's secret")

    resp, body = await download(client, alice, "?lang=ru")
    assert resp.status == 200 and resp.content_type == "application/zip"
    assert resp.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in resp.headers
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="chatwire-data-')
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    names = set(archive.namelist())
    assert "Ваши данные в Chatwire" in archive.read("README.txt").decode()

    profile = orjson.loads(archive.read("profile.json"))
    assert profile["user"]["email"] == "alice@example.com"
    assert [i["text"] for i in profile["profile"]["interests"]] == ["архитектура"]

    assert {n for n in names if n.startswith("chats/")} == {f"chats/{chat['id']}.json",
                                                            f"chats/{trashed['id']}.json"}
    tree = orjson.loads(archive.read(f"chats/{chat['id']}.json"))
    assert tree["format"] == "chatwire.chat/1" and tree["chat"]["title"] == "Поездка в Казань"
    assert {m["id"] for m in tree["messages"] if m["role"] == "assistant"} == {
        first["assistant_message"]["id"], again["assistant_message"]["id"]}  # both branches
    assert bobs["id"] not in str(names)

    ledger = orjson.loads(archive.read("transactions.json"))["transactions"]
    listed = (await sock.ok("transactions.list", limit=100))["transactions"]
    assert ledger == listed and {t["kind"] for t in ledger} == {"deposit", "usage"}

    files = {f["id"]: f for f in orjson.loads(archive.read("files.json"))["files"]}
    assert set(files) == {image["file"]["id"], notes["file"]["id"]}
    assert archive.read(files[image["file"]["id"]]["path"]) == picture
    assert archive.read(files[notes["file"]["id"]]["path"]).decode() == "# Список\n- молоко"
    assert files[image["file"]["id"]]["path"] == f"files/{image['file']['id']}-кот.png"


async def test_many_transactions_are_paged_into_the_zip(client, alice):
    from server.web.state import CONTEXT

    ledger = client.app[CONTEXT].services.ledger
    for n in range(450):  # more than two of the export's pages
        await ledger.credit(alice["user"]["id"], 1 + n, note=f"top-up {n}")
    _, body = await download(client, alice)
    rows = orjson.loads(zipfile.ZipFile(io.BytesIO(body)).read("transactions.json"))["transactions"]
    assert len(rows) == 451 and len({r["id"] for r in rows}) == 451
    assert "Your Chatwire data" in zipfile.ZipFile(io.BytesIO(body)).read("README.txt").decode()


async def test_the_cookie_works_and_no_login_is_refused(client, alice):
    client.session.cookie_jar.clear()  # the sign-up's cookie
    resp, body = await download(client)
    assert resp.status == 401 and orjson.loads(body)["error"]["code"] == "unauthorized"
    resp, _ = await download(client, {"access_token": "not-a-token"})
    assert resp.status == 401
    resp, body = await download(client, alice, "?lang=de")
    assert resp.status == 400 and orjson.loads(body)["error"]["field"] == "lang"
    login = await client.post("/api/v1/auth/login", json={
        "email": "alice@example.com", "password": "correct horse battery"})
    assert login.status == 200
    resp, body = await download(client)  # the session cookie the log-in set
    assert resp.status == 200
    assert "profile.json" in zipfile.ZipFile(io.BytesIO(body)).namelist()
