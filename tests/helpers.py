"""Plain helpers the test modules share: people, sockets, replies, uploads, a server in its own
process, the browser client, and one way to wait for a state (`until`) instead of sleeping.

Test modules import from here, never from one another or from a conftest (tests/test_test_layout.py
checks); fixtures stay in the conftest files, which may import from here too.
"""
from __future__ import annotations

import asyncio
import inspect
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import aiohttp

from protocol import decode, encode, request
from providers.factory import ProviderSettings
from tests.client import WSClient

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


# -- waiting ------------------------------------------------------------------------------------

async def until(condition: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02,
                what: str | None = None) -> Any:
    """Poll `condition` (a function, or a coroutine function) until it returns something truthy,
    and return that; fail the test if `timeout` seconds pass first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        await asyncio.sleep(interval)


# -- people -------------------------------------------------------------------------------------

async def register(client: Any, email: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
    resp = await client.post("/api/v1/auth/register", json={"email": email, "password": password,
                                                           **extra})
    body = await resp.json()
    assert resp.status == 201, body
    return body


async def make_admin(instance: Any) -> str:
    """An admin account on `instance`; its access token."""
    from server.web.state import CONTEXT
    ctx = instance.app[CONTEXT]
    await ctx.services.accounts.create_user("root@example.com", PASSWORD, "Root", role="admin")
    resp = await instance.post("/api/v1/auth/login", json={"email": "root@example.com",
                                                           "password": PASSWORD})
    return (await resp.json())["access_token"]


async def deposit(instance: Any, admin_token: str, user_id: str, body: dict[str, Any],
                  key: str | None = None) -> tuple[int, Any]:
    """An admin's deposit through the REST route: (status, body)."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    if key:
        headers["Idempotency-Key"] = key
    resp = await instance.post(f"/api/v1/admin/users/{user_id}/deposits", json=body, headers=headers)
    return resp.status, await resp.json()


def auth(user: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {user['access_token']}"}


# -- sockets and replies ------------------------------------------------------------------------

async def open_socket(server: Any, user: dict[str, Any], path: str = "/ws", **options: Any) -> WSClient:
    """An authenticated socket (bearer header) on `server`, its `hello` consumed (in `.hello`)."""
    ws = await server.ws_connect(path, headers=auth(user))
    sock = WSClient(ws, **options)
    sock.hello = await sock._next_frame()
    assert sock.hello["type"] == "hello", sock.hello
    return sock


async def send_from_each(sockets: list[WSClient], content: str) -> tuple[list, list]:
    """Each socket sends `content` into a chat of its own, all at once: (started, refused) replies."""
    chats = [await sock.ok("chat.create") for sock in sockets]
    answers = await asyncio.gather(*[
        sock.call("message.send", chat_id=chat["id"], content=content)
        for sock, chat in zip(sockets, chats)])
    return [a for a in answers if a["ok"]], [a for a in answers if not a["ok"]]


async def reply_events(sock: WSClient, message_id: str,
                       final: tuple[str, ...] = ("message.done", "message.stopped", "message.error"),
                       ) -> list[dict[str, Any]]:
    """Every event about `message_id` up to its final one."""
    seen = []
    while True:
        frame = await sock.event_any()
        if frame.get("message_id") == message_id:
            seen.append(frame)
            if frame["type"] in final:
                return seen


FINAL = ("message.done", "message.stopped", "message.error", "message.interrupted")


async def deltas_of(sock: WSClient, message_id: str, count: int, after_seq: int = -1) -> str:
    """Wait until `count` deltas of the reply `message_id` (with a seq over `after_seq`) have
    arrived; return their text. Fails if the reply ends first: the caller wants it streaming."""
    text = ""
    while count:
        frame = await sock.event_any()
        if frame.get("message_id") != message_id:
            continue
        assert frame["type"] not in FINAL, f"the reply ended before {count} more deltas: {frame}"
        if frame["type"] == "message.delta" and frame["seq"] > after_seq:
            text += frame["delta"]
            count -= 1
    return text


def collect(frames: list[dict[str, Any]], message_id: str) -> tuple[list[int], str, Any]:
    """(seqs of every event, the reply's text from its deltas, its final frame) as a client sees."""
    seqs = [f["seq"] for f in frames if "seq" in f]
    text = "".join(f["delta"] for f in frames
                   if f.get("type") == "message.delta" and f["message_id"] == message_id)
    final = next((f for f in frames if f.get("message_id") == message_id
                  and f["type"] in ("message.done", "message.stopped")), None)
    return seqs, text, final


async def drain(sock: WSClient, settle: float = 0.4) -> None:
    """Read whatever is still on its way to `sock` (the balance after a reply's end, say), until
    nothing has come for `settle` seconds."""
    while True:
        try:
            await sock._next_frame(timeout=settle)
        except asyncio.TimeoutError:
            return


async def read_until_done(sock: WSClient, message_id: str, timeout: float = 10) -> None:
    while True:
        frame = await sock._next_frame(timeout)
        if frame.get("message_id") != message_id:
            continue
        if frame["type"] == "message.done":
            return
        assert frame["type"] not in ("message.error", "message.interrupted", "message.stopped"), frame


# -- model vendors ------------------------------------------------------------------------------

def vendor_providers(url: str, **overrides: Any) -> ProviderSettings:
    """Provider settings pointing every vendor at the fake one (tests/fakes/vendors.py) at `url`."""
    values = dict(openai_api_key="sk-test-openai", openai_base_url=f"{url}/v1",
                  anthropic_api_key="sk-ant-test", anthropic_base_url=url,
                  google_api_key="g-test-key", google_base_url=url,
                  echo_tokens_per_second=0, max_retries=0,
                  first_token_timeout_s=2.0, idle_timeout_s=2.0, connect_timeout_s=2.0)
    values.update(overrides)
    return ProviderSettings(**values)


# -- files ----------------------------------------------------------------------------------------

def multipart(name: str, data: bytes, content_type: str = "application/octet-stream",
              boundary: str = "chatwire-b0undary") -> tuple[bytes, str]:
    """A form-data body as a browser sends it: the file name raw UTF-8, quotes escaped as %22."""
    quoted = name.replace('"', "%22").encode("utf-8", "surrogatepass")
    head = (f"--{boundary}\r\n".encode()
            + b'Content-Disposition: form-data; name="file"; filename="' + quoted + b'"\r\n'
            + f"Content-Type: {content_type}\r\n\r\n".encode())
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


async def upload(client: Any, user: dict[str, Any], name: str, data: bytes,
                 content_type: str = "application/octet-stream") -> tuple[int, Any]:
    body, boundary = multipart(name, data, content_type)
    resp = await client.post("/api/v1/files", data=io.BytesIO(body), headers={
        **auth(user), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    return resp.status, await resp.json()


# -- rate limits ----------------------------------------------------------------------------------

async def inside_one_window(window_s: float = 60, margin_s: float = 8) -> None:
    """Limits count in fixed windows: start where the whole scenario fits in one."""
    left = window_s - time.time() % window_s
    if left < margin_s:
        # Time passing is the point: the next window starts when the clock gets there.
        await asyncio.sleep(left + 0.05)


# -- a server in its own process ------------------------------------------------------------------

async def make_user(db: Any, email: str = "u@example.com") -> dict[str, Any]:
    """A user row written straight through storage (the storage tests, below the domain)."""
    from storage import new_id, users, utcnow

    return await users.insert(db, id=new_id(), email=email, email_key=email, password_hash="x",
                              display_name="u", role="user", now=utcnow())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url: str, tmp_path: Path, port: int, stderr: Any = subprocess.DEVNULL,
                 *, args: tuple[str, ...] = (), stdout: Any = subprocess.DEVNULL,
                 **extra_env: str) -> subprocess.Popen:
    """`run.py serve [args]` in its own process, as an operator starts it (its log to `stderr`)."""
    env = {**os.environ, "DATABASE_URL": database_url, "VAR_DIR": str(tmp_path / "var"),
           "PORT": str(port), "SECRET_KEY": "k" * 40, "JWT_SECRET_KEY": "j" * 40,
           "ECHO_TOKENS_PER_SECOND": "20", "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024",
           "INSTANCE_ID": "crash-test", "SIGNUP_CREDITS": "10000000", **extra_env}
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", *args], cwd=tmp_path,
                            env=env, stdout=stdout, stderr=stderr, text=stdout is not subprocess.DEVNULL)


async def wait_ready(session: aiohttp.ClientSession, base: str, timeout: float = 10.0) -> None:
    """Until the server at `base` answers /healthz."""
    async def healthy() -> bool:
        try:
            async with session.get(f"{base}/healthz") as resp:
                return resp.status == 200
        except aiohttp.ClientError:
            return False
    await until(healthy, timeout, interval=0.1, what=f"{base} to start")


async def call(ws: aiohttp.ClientWebSocketResponse, request_type: str, rid: str, /,
               **params: Any) -> Any:
    """Send a request on a bare socket; return its data (other frames are skipped)."""
    await ws.send_str(encode(request(request_type, rid, **params)).decode())
    while True:
        frame = decode((await ws.receive(timeout=10)).data)
        if frame.get("type") == "reply" and frame.get("id") == rid:
            assert frame["ok"], frame
            return frame["data"]


async def until_closed(ws: aiohttp.ClientWebSocketResponse,
                       timeout: float = 15) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame until the server closes the socket, and the code its close frame carried (None
    if the connection dropped without one): what a browser's CloseEvent.code shows.

    Not `ws.close_code`: aiohttp's server closes TCP right after its close frame when a reader is
    waiting on the socket, and the aiohttp client, if it only gets to that frame once the
    connection is gone, fails to write its reply and reports 1006 over the code it was sent."""
    frames = []
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type != aiohttp.WSMsgType.TEXT:
            return frames, msg.data if msg.type == aiohttp.WSMsgType.CLOSE else None
        frames.append(decode(msg.data))


# -- the web client in a browser ------------------------------------------------------------------

SHOTS = Path(tempfile.gettempdir()) / "chatwire-screenshots"


async def in_page(page: Any, expression: str, timeout: float = 8.0) -> Any:
    """Until a JavaScript expression is truthy in `page` (the page's CSP forbids Playwright's own
    string-evaluating wait_for_function)."""
    return await until(lambda: page.evaluate(expression), timeout, interval=0.05, what=expression)


async def sign_up(page: Any, email: str = "anna@example.com", name: str = "Анна") -> None:
    """Sign up in the form; return once the app has started: connected, and a chat open."""
    await page.get_by_test_id("switch-auth").click()
    await page.get_by_test_id("email").fill(email)
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("name").fill(name)
    await page.get_by_test_id("submit").click()
    await page.get_by_test_id("composer").wait_for()
    await page.wait_for_selector('[data-testid="connection"][data-state="connected"]')
    await chat_open(page)


# The phone drawer at rest: slid away, or fully in, with no transition still running.
DRAWER_CLOSED = ("(() => { const d = document.querySelector('.sidebar');"
                 " return d.getBoundingClientRect().right <= 0 && d.getAnimations().length === 0; })()")
DRAWER_OPEN = ("(() => { const d = document.querySelector('.sidebar');"
               " return d.getBoundingClientRect().left >= 0 && d.getAnimations().length === 0; })()")


async def chat_open(page: Any) -> None:
    """Until the app has a chat open and drawn (or a new, unsaved one), its models and balance
    read. Connected is not enough: the app reads those next."""
    await in_page(page, "(() => { const app = window.chatwire;"
                        " return Boolean(app && (app.store.state.chatId"
                        " ? app.store.state.chat?.id === app.store.state.chatId : app.store.state.drafting)"
                        " && app.store.state.models.length"
                        " && app.store.state.account); })()")


async def send(page: Any, text: str) -> None:
    """Type a message and send it; return once the app shows it with its reply under it."""
    await page.get_by_test_id("composer").fill(text)
    await page.get_by_test_id("composer").press("Enter")
    await in_page(page, "(() => { const m = window.chatwire.store.state.messages;"
                        " return m.length >= 2 && m.at(-1).role === 'assistant'"
                        " && m.at(-2).role === 'user'"
                        f" && m.at(-2).content === {json.dumps(text.strip())}; }})()")


async def last_reply(page: Any, status: str = "complete") -> Any:
    """The last message shown, once it is a reply with `status`. (Any reply with that status would
    not do: an earlier one, already complete, would pass before the new one has ended.)"""
    await in_page(page, "(() => { const last = [...document.querySelectorAll("
                        "'[data-testid=messages] > article')].at(-1);"
                        " return last?.classList.contains('assistant')"
                        f" && last.dataset.status === {json.dumps(status)}; }})()")
    return page.locator(f'article.assistant[data-status="{status}"]').last
