"""Uploads on S3-compatible object storage (S3_BUCKET), against a real local S3 server (moto in
server mode): the same product as on disk — owner-only downloads, quota and type checks, images
to vision models, deletion, account export and deletion — with the bytes in the bucket, reached
by every instance, and a storage that stops answering refused with `unavailable`, nothing half
written."""
import asyncio
import base64
import io
import logging
import uuid
import zipfile
from dataclasses import replace
from pathlib import Path

import aiohttp
import boto3
import pytest
from moto.server import ThreadedMotoServer

from server.config import ConfigError
from server.services import build
from server.web.state import CONTEXT
from tests import samples
from tests.helpers import (PASSWORD, auth, free_port, read_until_done, register, reply_events, upload,
                           vendor_providers)

PREFIX = "uploads"
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def start_moto() -> tuple[ThreadedMotoServer, str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def s3_endpoint():
    """One S3-compatible server for the run; each test has a bucket of its own."""
    server, url = start_moto()
    yield url
    server.stop()


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS)


def new_bucket(endpoint: str) -> str:
    name = f"chatwire-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    """What the bucket holds: key → bytes."""
    client = s3_client(endpoint)
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def on_s3(endpoint: str, bucket: str, **extra):
    return dict(s3_bucket=bucket, s3_endpoint_url=endpoint, s3_region="us-east-1",
                s3_prefix=f"{PREFIX}/", **KEYS, **extra)


@pytest.fixture
def bucket(s3_endpoint):
    return new_bucket(s3_endpoint)


@pytest.fixture
async def instance(make_client, vendor, s3_endpoint, bucket):
    """A server whose uploads go to the bucket and whose vendors are the fake one."""
    return await make_client(providers=vendor_providers(vendor.url), **on_s3(s3_endpoint, bucket))


async def file_rows(instance) -> int:
    return await instance.app[CONTEXT].services.db.fetchval("SELECT COUNT(*) FROM files")


def disk_files(instance) -> list[Path]:
    """Files kept on this instance's disk (with S3, none once an upload has finished)."""
    root = instance.app[CONTEXT].settings.upload_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_a_file_is_kept_in_the_bucket_served_to_its_owner_and_deleted_with_its_object(
        instance, alice_on, s3_endpoint, bucket, connect):
    alice = await alice_on(instance)
    sock = await connect(alice, on=instance)
    data = samples.png(color="green")
    status, body = await upload(instance, alice, "фото кота.png", data, "text/html")
    assert status == 201, body
    info = body["file"]
    assert info["kind"] == "image" and info["mime"] == "image/png" and info["size"] == len(data)
    stored = objects(s3_endpoint, bucket)
    assert list(stored.values()) == [data] and disk_files(instance) == []
    (key,) = stored
    assert key.startswith(f"{PREFIX}/") and "кота" not in key and ".png" not in key
    head = s3_client(s3_endpoint).head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "image/png"  # what was found in the bytes, not what was claimed

    resp = await instance.get(f"/api/v1/files/{info['id']}", headers=auth(alice))
    assert resp.status == 200 and await resp.read() == data
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["Content-Length"] == str(len(data))
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert resp.headers["Cache-Control"] == "private, max-age=0, must-revalidate"
    assert "filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE" in resp.headers["Content-Disposition"]
    assert resp.headers["ETag"] == f'"{info["sha256"]}"'
    assert resp.headers["X-Request-Id"]  # as on every answer

    part = await instance.get(f"/api/v1/files/{info['id']}", headers={**auth(alice), "Range": "bytes=8-23"})
    assert part.status == 206 and await part.read() == data[8:24]
    assert part.headers["Content-Range"] == f"bytes 8-23/{len(data)}"
    tail = await instance.get(f"/api/v1/files/{info['id']}", headers={**auth(alice), "Range": "bytes=-10"})
    assert tail.status == 206 and await tail.read() == data[-10:]
    beyond = await instance.get(f"/api/v1/files/{info['id']}",
                                headers={**auth(alice), "Range": f"bytes={len(data)}-"})
    assert beyond.status == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    cached = await instance.get(f"/api/v1/files/{info['id']}",
                                headers={**auth(alice), "If-None-Match": resp.headers["ETag"]})
    assert cached.status == 304

    other = await register(instance, "bob@example.com")
    for method in ("get", "delete"):  # someone else's file does not exist for them
        resp = await getattr(instance, method)(f"/api/v1/files/{info['id']}", headers=auth(other))
        assert resp.status == 404
    assert len(objects(s3_endpoint, bucket)) == 1

    assert (await sock.ok("file.list"))["files"] == [info]
    deleted = await instance.delete(f"/api/v1/files/{info['id']}", headers=auth(alice))
    assert deleted.status == 200
    assert objects(s3_endpoint, bucket) == {} and await file_rows(instance) == 0
    assert (await instance.get(f"/api/v1/files/{info['id']}", headers=auth(alice))).status == 404


async def test_an_image_in_the_bucket_reaches_a_vision_model_and_documents_their_text(
        instance, vendor, alice_on, connect):
    alice = await alice_on(instance)
    sock = await connect(alice, on=instance)
    image = samples.png(color="red")
    _, picture = await upload(instance, alice, "leaf.png", image)
    _, pdf = await upload(instance, alice, "report.pdf", samples.pdf("Revenue grew 12 percent"))
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="What is this?",
                         file_ids=[picture["file"]["id"], pdf["file"]["id"]])
    await reply_events(sock, sent["assistant_message"]["id"])
    content = vendor.requests[-1]["body"]["messages"][-1]["content"]
    assert {"type": "image_url", "image_url": {
        "url": f"data:image/png;base64,{base64.b64encode(image).decode()}"}} in content
    assert any("Revenue grew 12 percent" in part.get("text", "") for part in content)


async def test_an_object_gone_from_the_bucket_is_410_and_no_longer_available_to_the_model(
        instance, vendor, alice_on, connect, s3_endpoint, bucket):
    alice = await alice_on(instance)
    _, body = await upload(instance, alice, "leaf.png", samples.png())
    (key,) = objects(s3_endpoint, bucket)
    s3_client(s3_endpoint).delete_object(Bucket=bucket, Key=key)  # lost behind the server's back
    resp = await instance.get(f"/api/v1/files/{body['file']['id']}", headers=auth(alice))
    assert resp.status == 410
    sock = await connect(alice, on=instance)
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="And this?",
                         file_ids=[body["file"]["id"]])
    await reply_events(sock, sent["assistant_message"]["id"])
    assert "(this image is no longer available)" in str(vendor.requests[-1]["body"]["messages"][-1])


HOSTILE = [("page.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "unsupported_file_type"),
           ("program.exe", b"MZ\x90\x00\x03", "unsupported_file_type"),
           ("huge.png", samples.png_bomb(), "too_large"),
           ("../../x.txt", b"hello", "bad_request"),
           ("empty.txt", b"", "bad_request")]


async def test_type_and_quota_checks_refuse_as_on_disk_and_leave_the_bucket_empty(
        make_client, alice_on, s3_endpoint, bucket):
    tight = await make_client(user_storage_mb=1, **on_s3(s3_endpoint, bucket))
    alice = await alice_on(tight)
    for name, data, code in HOSTILE:
        status, body = await upload(tight, alice, name, data)
        assert body["error"]["code"] == code, (name, body)
    assert objects(s3_endpoint, bucket) == {} and await file_rows(tight) == 0
    assert disk_files(tight) == []  # no temp file left behind either
    status, _ = await upload(tight, alice, "a.txt", b"a" * 700_000)
    assert status == 201
    status, body = await upload(tight, alice, "b.txt", b"b" * 700_000)
    assert status == 413 and body["error"]["code"] == "too_large" and "quota" in body["error"]["message"]
    assert list(objects(s3_endpoint, bucket).values()) == [b"a" * 700_000]
    assert await file_rows(tight) == 1 and disk_files(tight) == []


async def test_two_instances_one_bucket_upload_on_one_download_and_attach_on_the_other(
        make_client, vendor, alice_on, connect, redis_url, s3_endpoint, bucket, tmp_path):
    shared = dict(providers=vendor_providers(vendor.url), redis_url=redis_url,
                  **on_s3(s3_endpoint, bucket))
    a = await make_client(instance_id=f"a-{uuid.uuid4().hex[:6]}", upload_dir=tmp_path / "a", **shared)
    b = await make_client(instance_id=f"b-{uuid.uuid4().hex[:6]}", upload_dir=tmp_path / "b", **shared)
    alice = await alice_on(a)
    data = samples.jpeg()
    status, body = await upload(a, alice, "cat.jpg", data)
    assert status == 201
    file_id = body["file"]["id"]

    resp = await b.get(f"/api/v1/files/{file_id}", headers=auth(alice))  # no disk in common
    assert resp.status == 200 and await resp.read() == data
    on_b = await connect(alice, on=b)
    chat = await on_b.ok("chat.create", model="gpt-4o-mini")
    sent = await on_b.ok("message.send", chat_id=chat["id"], content="Who is this?", file_ids=[file_id])
    await reply_events(on_b, sent["assistant_message"]["id"])
    sent_image = vendor.requests[-1]["body"]["messages"][-1]["content"][1]["image_url"]["url"]
    assert sent_image == f"data:image/jpeg;base64,{base64.b64encode(data).decode()}"

    assert (await b.delete(f"/api/v1/files/{file_id}", headers=auth(alice))).status == 200
    assert objects(s3_endpoint, bucket) == {}
    assert (await a.get(f"/api/v1/files/{file_id}", headers=auth(alice))).status == 404


async def test_the_account_export_holds_the_objects_and_deleting_the_account_removes_them(
        instance, alice_on, connect, s3_endpoint, bucket):
    alice = await alice_on(instance)
    other = await register(instance, "bob@example.com")
    picture, notes = samples.png(64, 64, "blue"), "# Список\n- молоко".encode()
    _, image = await upload(instance, alice, "кот.png", picture)
    _, text = await upload(instance, alice, "notes.md", notes)
    _, bobs = await upload(instance, other, "bob.txt", b"Bob's own")

    resp = await instance.get("/api/v1/account/export", headers=auth(alice))
    assert resp.status == 200
    archive = zipfile.ZipFile(io.BytesIO(await resp.read()))
    assert archive.testzip() is None
    assert archive.read(f"files/{image['file']['id']}-кот.png") == picture
    assert archive.read(f"files/{text['file']['id']}-notes.md") == notes
    assert len(objects(s3_endpoint, bucket)) == 3

    sock = await connect(alice, on=instance)
    chat = await sock.ok("chat.create")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="hi", file_ids=[text["file"]["id"]])
    await read_until_done(sock, sent["assistant_message"]["id"])
    assert await sock.ok("account.delete", password=PASSWORD) == {"deleted": True}
    assert list(objects(s3_endpoint, bucket).values()) == [b"Bob's own"]  # Bob's stays
    resp = await instance.get(f"/api/v1/files/{bobs['file']['id']}", headers=auth(other))
    assert await resp.read() == b"Bob's own"


async def test_a_storage_that_stops_answering_is_refused_with_unavailable_and_nothing_half_written(
        make_client, vendor, alice_on, connect):
    server, endpoint = start_moto()
    try:
        bucket = new_bucket(endpoint)
        inst = await make_client(providers=vendor_providers(vendor.url), **on_s3(endpoint, bucket))
        alice = await alice_on(inst)
        _, kept = await upload(inst, alice, "kept.png", samples.png())
        sock = await connect(alice, on=inst)
        chat = await sock.ok("chat.create", model="gpt-4o-mini")
        assert (await inst.get("/readyz")).status == 200
    finally:
        server.stop()
    kept_id = kept["file"]["id"]

    status, body = await upload(inst, alice, "new.txt", b"written while the storage is away")
    assert status == 503 and body["error"]["code"] == "unavailable", body
    assert body["error"]["service"] == "storage" and body["error"]["message"]
    assert await file_rows(inst) == 1 and disk_files(inst) == []  # no row, no temp file

    resp = await inst.get(f"/api/v1/files/{kept_id}", headers=auth(alice))
    assert resp.status == 503 and (await resp.json())["error"]["code"] == "unavailable"
    resp = await inst.delete(f"/api/v1/files/{kept_id}", headers=auth(alice))
    assert resp.status == 503 and (await resp.json())["error"]["code"] == "unavailable"
    assert (await sock.ok("file.list"))["files"][0]["id"] == kept_id  # still there to delete later

    before = await inst.app[CONTEXT].services.db.fetchval("SELECT COUNT(*) FROM messages")
    error = await sock.error("message.send", chat_id=chat["id"], content="What is it?",
                             file_ids=[kept_id])
    assert error["code"] == "unavailable" and error["service"] == "storage"
    assert await inst.app[CONTEXT].services.db.fetchval("SELECT COUNT(*) FROM messages") == before

    ready = await inst.get("/readyz")
    assert ready.status == 503 and (await ready.json())["checks"]["storage"] is False


class CuttingProxy:
    """A TCP proxy in front of the S3 server that, once told to, closes a connection after
    `cut_after` bytes of an answer: a storage that fails in the middle of a body."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port, self.cut_after, self.server = upstream_port, None, None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader, writer):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def pipe(src, dst, limit):
            sent = 0
            try:
                while data := await src.read(65536):
                    if limit is not None and sent + len(data) > limit:
                        dst.write(data[:limit - sent])
                        break
                    sent += len(data)
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                for w in (writer, up_writer):
                    w.close()

        await asyncio.gather(pipe(reader, up_writer, None), pipe(up_reader, writer, self.cut_after))

    async def stop(self):
        self.server.close()
        await self.server.wait_closed()


async def test_a_storage_failing_midway_through_a_download_cuts_it_short_never_serves_it_whole(
        make_client, alice_on, s3_endpoint, bucket):
    proxy = CuttingProxy(int(s3_endpoint.rsplit(":", 1)[1]))
    inst = await make_client(**on_s3(await proxy.start(), bucket))
    try:
        alice = await alice_on(inst)
        data = ("строка текста\n" * 40_000).encode()
        status, body = await upload(inst, alice, "big.txt", data)
        assert status == 201, body
        proxy.cut_after = 300_000
        resp = await inst.get(f"/api/v1/files/{body['file']['id']}", headers=auth(alice))
        assert resp.status == 200 and resp.headers["Content-Length"] == str(len(data))
        with pytest.raises(aiohttp.ClientPayloadError):
            async with asyncio.timeout(10):  # cut short, not left hanging
                await resp.read()
        export = await inst.get("/api/v1/account/export", headers=auth(alice))
        assert export.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):  # the zip, likewise: never a whole one
            async with asyncio.timeout(10):
                await export.read()
        proxy.cut_after = None
        again = await inst.get(f"/api/v1/files/{body['file']['id']}", headers=auth(alice))
        assert await again.read() == data  # the next request is served whole
    finally:
        await proxy.stop()


async def test_no_credential_reaches_the_log_even_at_debug(make_client, alice_on, s3_endpoint,
                                                          bucket, caplog):
    caplog.set_level(logging.DEBUG)
    secret, token = "sec-" + uuid.uuid4().hex, "tok-" + uuid.uuid4().hex
    inst = await make_client(**{**on_s3(s3_endpoint, bucket), "aws_access_key_id": "AKIATESTKEYID",
                                "aws_secret_access_key": secret, "aws_session_token": token})
    alice = await alice_on(inst)
    _, body = await upload(inst, alice, "n.txt", b"note")
    assert (await inst.get(f"/api/v1/files/{body['file']['id']}", headers=auth(alice))).status == 200
    assert caplog.records  # the log was on
    for needle in (secret, token, "AKIATESTKEYID"):
        assert needle not in caplog.text
    assert secret not in repr(inst.app[CONTEXT].settings)


async def test_a_missing_bucket_or_an_endpoint_that_does_not_answer_stops_the_start(
        settings, s3_endpoint):
    missing = replace(settings, **on_s3(s3_endpoint, "chatwire-no-such-bucket"))
    with pytest.raises(ConfigError, match="S3_BUCKET=chatwire-no-such-bucket: no such bucket"):
        await build(missing, migrate=False)
    away = replace(settings, **on_s3(f"http://127.0.0.1:{free_port()}", "chatwire-anything"))
    with pytest.raises(ConfigError, match="does not answer") as raised:
        await build(away, migrate=False)
    assert "testing" not in str(raised.value)  # no credential in the message
