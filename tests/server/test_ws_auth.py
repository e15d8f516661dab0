"""Getting onto the socket: bearer header, session cookie (same origin only), or a first auth frame."""

from protocol import encode, request
from tests.client import WSClient
from tests.helpers import PASSWORD, register


async def test_bearer_header_gets_a_hello_with_the_user(client, alice, connect):
    sock = await connect(alice)
    assert sock.hello["user"]["email"] == "alice@example.com"
    assert sock.hello["connection_id"]
    assert (await sock.ok("ping"))["pong"] is True


async def test_first_frame_auth_works_for_clients_that_cannot_set_headers(client, alice):
    ws = await client.ws_connect("/ws")
    await ws.send_str(encode(request("auth", "a1", token=alice["access_token"])).decode())
    sock = WSClient(ws)
    reply = await sock.reply("a1")
    assert reply["ok"] and reply["data"]["user"]["id"] == alice["user"]["id"]
    assert (await sock.event("hello"))["user"]["id"] == alice["user"]["id"]
    assert (await sock.ok("ping"))["pong"]


async def test_a_request_before_auth_is_refused_and_closed_4401(client, alice):
    ws = await client.ws_connect("/ws")
    await ws.send_str('{"type":"chat.list","id":"1"}')
    sock = WSClient(ws)
    assert await sock.closed() == 4401
    assert sock.frames[0]["type"] == "error"
    assert sock.frames[0]["error"]["code"] == "unauthorized"


async def test_silence_after_connecting_times_out_with_4401(client):
    ws = await client.ws_connect("/ws")
    sock = WSClient(ws)
    assert await sock.closed() == 4401
    assert sock.frames[0]["error"]["code"] == "unauthorized"


async def test_a_bad_bearer_token_is_refused_with_4401(client):
    ws = await client.ws_connect("/ws", headers={"Authorization": "Bearer not-a-token"})
    sock = WSClient(ws)
    assert await sock.closed() == 4401
    assert sock.frames[0]["error"]["code"] == "unauthorized"


async def test_a_bad_auth_frame_is_refused_with_4401(client):
    ws = await client.ws_connect("/ws")
    await ws.send_str('{"type":"auth","token":"forged"}')
    assert await WSClient(ws).closed() == 4401


async def login_cookie(client):
    resp = await client.post("/api/v1/auth/login", json={"email": "alice@example.com",
                                                         "password": PASSWORD})
    assert resp.status == 200


async def test_the_session_cookie_works_from_our_own_origin(client, alice):
    await login_cookie(client)
    origin = f"http://{client.host}:{client.port}"
    ws = await client.ws_connect("/ws", headers={"Origin": origin})
    sock = WSClient(ws)
    hello = await sock.event("hello")
    assert hello["user"]["email"] == "alice@example.com"


async def test_the_session_cookie_is_ignored_from_a_foreign_origin(client, alice):
    """Cross-site WebSocket hijacking: evil.example cannot ride the user's cookie."""
    await login_cookie(client)
    ws = await client.ws_connect("/ws", headers={"Origin": "https://evil.example"})
    sock = WSClient(ws)
    assert await sock.closed() == 4401
    assert all(f["type"] != "hello" for f in sock.frames)


async def test_the_session_cookie_needs_an_origin_at_all(client, alice):
    await login_cookie(client)
    ws = await client.ws_connect("/ws")
    assert await WSClient(ws).closed() == 4401


async def test_an_origin_listed_in_cors_origins_may_use_the_cookie(make_client, settings):
    app_client = await make_client(cors_origins=("https://app.example",))
    await register(app_client, "alice@example.com")
    ws = await app_client.ws_connect("/ws", headers={"Origin": "https://app.example"})
    assert (await WSClient(ws).event("hello"))["user"]["email"] == "alice@example.com"


async def test_an_oversized_frame_closes_with_1009(client, alice, connect):
    sock = await connect(alice)
    await sock.ws.send_str('{"type":"ping","pad":"' + "x" * (70 * 1024) + '"}')
    assert await sock.closed() == 1009


async def test_logout_closes_the_users_open_sockets(client, alice, connect):
    first, second = await connect(alice), await connect(alice)
    resp = await client.post("/api/v1/auth/logout",
                             headers={"Authorization": f"Bearer {alice['access_token']}"})
    assert resp.status == 204
    assert await first.closed() == 4401
    assert await second.closed() == 4401
    # and the token that opened them no longer opens a new one
    ws = await client.ws_connect("/ws", headers={
        "Authorization": f"Bearer {alice['access_token']}"})
    assert await WSClient(ws).closed() == 4401


async def test_logout_leaves_other_users_sockets_alone(client, alice, bob, connect):
    bobs = await connect(bob)
    await client.post("/api/v1/auth/logout",
                      headers={"Authorization": f"Bearer {alice['access_token']}"})
    assert (await bobs.ok("ping"))["pong"]


async def test_permessage_deflate_is_off_by_default(client, alice):
    ws = await client.ws_connect("/ws", compress=15, headers={
        "Authorization": f"Bearer {alice['access_token']}"})
    assert ws.compress == 0
    await ws.close()


async def test_binary_frames_get_a_typed_error_and_the_socket_stays(client, alice, connect):
    sock = await connect(alice)
    await sock.ws.send_bytes(b'{"type":"ping"}')
    frame = await sock._next_frame()
    assert frame["ok"] is False and frame["error"]["code"] == "bad_request"
    assert (await sock.ok("ping"))["pong"]


async def test_a_page_of_another_scheme_on_our_host_cannot_ride_the_cookie(client, alice):
    """An http:// page (anyone on the path can write one) against the https:// site, and back."""
    await login_cookie(client)
    ws = await client.ws_connect("/ws", headers={"Origin": f"https://{client.host}:{client.port}"})
    assert await WSClient(ws).closed() == 4401  # this server is plain HTTP
    # A client cannot claim TLS for itself: X-Forwarded-Proto counts only from a trusted proxy.
    ws = await client.ws_connect("/ws", headers={"Origin": f"https://{client.host}:{client.port}",
                                                 "X-Forwarded-Proto": "https"})
    assert await WSClient(ws).closed() == 4401


async def test_behind_a_trusted_tls_proxy_the_https_page_is_our_own(make_client):
    behind = await make_client(forwarded_allow_ips=("127.0.0.1",))
    await register(behind, "alice@example.com")
    here = f"{behind.host}:{behind.port}"
    tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    ws = await behind.ws_connect("/ws", headers={"Origin": f"https://{here}", **tls})
    assert (await WSClient(ws).event("hello"))["user"]["email"] == "alice@example.com"
    ws = await behind.ws_connect("/ws", headers={"Origin": f"http://{here}", **tls})
    assert await WSClient(ws).closed() == 4401  # the plain-HTTP page of a TLS site is not ours
