"""Uploading, reading and deleting files; every hostile upload refused with nothing left behind."""
import hashlib

import pytest

from server.web.state import CONTEXT
from tests import samples
from tests.helpers import auth, multipart, upload


async def stored_files(client):
    """What the server keeps: database rows, and bytes on disk outside the incoming folder."""
    ctx = client.app[CONTEXT]
    rows = await ctx.services.db.fetchval("SELECT COUNT(*) FROM files")
    root = ctx.settings.upload_dir
    on_disk = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    return rows, on_disk


async def test_an_image_is_uploaded_downloaded_by_its_owner_only_and_deleted(client, alice, bob,
                                                                            connect):
    sock = await connect(alice)
    data = samples.png()
    status, body = await upload(client, alice, "фото кота.png", data, "text/html")
    assert status == 201, body
    info = body["file"]
    assert info["kind"] == "image" and info["mime"] == "image/png"  # the content decides
    assert info["name"] == "фото кота.png" and info["size"] == len(data)
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert (await sock.event("file.created"))["file"] == info
    rows, on_disk = await stored_files(client)
    assert rows == 1 and len(on_disk) == 1 and on_disk[0].read_bytes() == data
    assert "кота" not in str(on_disk[0]) and ".png" not in on_disk[0].name  # a random name

    resp = await client.get(f"/api/v1/files/{info['id']}", headers=auth(alice))
    assert resp.status == 200 and await resp.read() == data
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE" in resp.headers["Content-Disposition"]

    for method in ("get", "delete"):  # someone else's file does not exist for them
        resp = await getattr(client, method)(f"/api/v1/files/{info['id']}", headers=auth(bob))
        assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    client.session.cookie_jar.clear()  # no bearer, no session cookie: nobody
    assert (await client.get(f"/api/v1/files/{info['id']}")).status == 401

    listed = await sock.ok("file.list")
    assert listed == {"files": [info], "next_cursor": None}
    deleted = await client.delete(f"/api/v1/files/{info['id']}", headers=auth(alice))
    assert deleted.status == 200
    assert (await sock.event("file.deleted"))["file_id"] == info["id"]
    assert await stored_files(client) == (0, [])
    assert (await client.get(f"/api/v1/files/{info['id']}", headers=auth(alice))).status == 404


@pytest.mark.parametrize("name, data, mime", [
    ("notes.txt", "Заметки: купить молоко\n".encode(), "text/plain"),
    ("README.md", b"# Title\n\n*bold*\n", "text/markdown"),
    ("table.csv", b"a,b\n1,2\n", "text/csv"),
    ("data.json", b'{"a": [1, 2]}', "application/json"),
    ("report.pdf", samples.pdf("Quarterly report: revenue grew"), "application/pdf"),
    ("letter.docx", samples.docx("Дорогой друг,\nпривет"),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("photo.jpg", samples.jpeg(), "image/jpeg"),
    ("no extension", b"just text", "text/plain"),
])
async def test_every_accepted_kind_is_recognised_by_its_content(client, alice, name, data, mime):
    status, body = await upload(client, alice, name, data)
    assert status == 201, body
    assert body["file"]["mime"] == mime


async def test_files_are_listed_newest_first_and_deleted_over_the_socket(client, alice, connect):
    sock = await connect(alice)
    ids = [(await upload(client, alice, f"n{i}.txt", f"note {i}".encode()))[1]["file"]["id"]
           for i in range(3)]
    first = await sock.ok("file.list", limit=2)
    assert [f["id"] for f in first["files"]] == ids[:0:-1]
    rest = await sock.ok("file.list", limit=2, cursor=first["next_cursor"])
    assert [f["id"] for f in rest["files"]] == [ids[0]] and rest["next_cursor"] is None
    assert (await sock.ok("file.delete", file_id=ids[1]))["deleted"] is True
    assert (await sock.error("file.delete", file_id=ids[1]))["code"] == "not_found"
    assert [f["id"] for f in (await sock.ok("file.list"))["files"]] == [ids[2], ids[0]]


HOSTILE = [
    ("../../x.txt", b"hello", "bad_request"),
    ("..\\..\\x.txt", b"hello", "bad_request"),
    ("%2e%2e%2fx.txt", b"hello", "bad_request"),
    ("a\x00.txt", b"hello", "bad_request"),
    ("a.png.html", samples.png(), "unsupported_file_type"),
    ("page.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "unsupported_file_type"),
    ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
     "unsupported_file_type"),
    ("app.png", b"fetch('/api/v1/auth/me').then(r => r.text())", "unsupported_file_type"),
    ("page.txt", b"  <html><body onload=alert(1)>", "unsupported_file_type"),
    ("huge.png", samples.png_bomb(), "too_large"),
    ("bomb.docx", samples.docx_bomb(), "unsupported_file_type"),
    ("archive.docx", samples.pdf("not a zip"), "unsupported_file_type"),
    ("empty.txt", b"", "bad_request"),
    ("broken.png", samples.png()[:40], "unsupported_file_type"),
    ("latin1.txt", "café".encode("latin-1"), "unsupported_file_type"),
    ("program.exe", b"MZ\x90\x00\x03", "unsupported_file_type"),
    ("bad.json", b"{not json", "bad_request"),
]


@pytest.mark.parametrize("name, data, code", HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_a_hostile_upload_is_refused_and_nothing_is_stored(client, alice, name, data, code):
    status, body = await upload(client, alice, name, data)
    assert body["error"]["code"] == code, body
    assert status in (400, 413, 415) and body["error"]["message"]
    assert await stored_files(client) == (0, [])
    status, body = await upload(client, alice, "fine.txt", b"the server is unaffected")
    assert status == 201


async def test_an_upload_over_the_cap_is_refused_as_soon_as_it_passes_it(make_client, alice_on):
    small = await make_client(max_upload_mb=1)
    alice = await alice_on(small)
    status, body = await upload(small, alice, "big.txt", b"a" * (1024 * 1024 + 1))
    assert status == 413 and body["error"]["code"] == "too_large"
    assert await stored_files(small) == (0, [])

    async def endless():  # no Content-Length: the cap is enforced while streaming
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\n\r\n"
        for _ in range(64):
            yield b"a" * 65536
    resp = await small.post("/api/v1/files", data=endless(), headers={
        **auth(alice), "Content-Type": "multipart/form-data; boundary=b"})
    assert resp.status == 413 and (await resp.json())["error"]["code"] == "too_large"
    assert await stored_files(small) == (0, [])


async def test_a_truncated_or_malformed_multipart_body_is_refused(client, alice):
    head = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\n\r\n"
            b"half of the fi")
    for body, content_type in ((head, "multipart/form-data; boundary=b"),
                               (b"garbage", "multipart/form-data; boundary=b"),
                               (b"just bytes", "application/octet-stream"),
                               (b'--b\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--b--\r\n',
                                "multipart/form-data; boundary=b")):
        resp = await client.post("/api/v1/files", data=body,
                                 headers={**auth(alice), "Content-Type": content_type})
        assert resp.status == 400, await resp.text()
        assert (await resp.json())["error"]["code"] == "bad_request"
    assert await stored_files(client) == (0, [])


async def test_the_storage_quota_is_per_user(make_client, alice_on):
    tight = await make_client(user_storage_mb=1)
    alice = await alice_on(tight)
    status, _ = await upload(tight, alice, "a.txt", b"a" * 700_000)
    assert status == 201
    status, body = await upload(tight, alice, "b.txt", b"b" * 700_000)
    assert status == 413 and body["error"]["code"] == "too_large" and "quota" in body["error"]["message"]
    rows, on_disk = await stored_files(tight)
    assert rows == 1 and len(on_disk) == 1


async def test_the_web_clients_cookie_uploads_only_from_its_own_origin(client, alice):
    body, boundary = multipart("note.txt", b"from the page")
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}  # the cookie, no bearer
    foreign = await client.post("/api/v1/files", data=body,
                                headers={**headers, "Origin": "https://evil.example"})
    assert foreign.status == 401
    assert await stored_files(client) == (0, [])
    own = await client.post("/api/v1/files", data=body,
                            headers={**headers, "Origin": str(client.make_url("")).rstrip("/")})
    assert own.status == 201, await own.text()
