"""What every HTTP answer carries, however it was made (`answer_headers` in
server/web/middlewares.py): its request id, for a bug report, and the security headers — on a JSON
answer, a typed error, a raised 404 outside the API, and on the answers streamed from inside their
handlers (the account export, /v1's events), which a middleware's last step never saw."""
from tests.helpers import auth

GUARDS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
          "X-Frame-Options": "DENY"}
ASKED = {"X-Request-Id": "lb-7f3a"}  # a proxy's id is kept


def carries(resp, request_id="lb-7f3a"):
    assert {name: resp.headers.get(name) for name in GUARDS} == GUARDS, resp.url
    assert resp.headers.get("X-Request-Id") == request_id, resp.url


async def test_every_answer_names_its_request_and_carries_the_security_headers(client, alice,
                                                                               connect):
    resp = await client.get("/api/v1/auth/me", headers={**auth(alice), **ASKED})
    assert resp.status == 200
    carries(resp)
    resp = await client.post("/api/v1/auth/login", headers=ASKED, json={  # a typed error
        "email": "alice@example.com", "password": "not the password"})
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "unauthorized"
    carries(resp)
    resp = await client.get("/no-such-page", headers=ASKED)  # aiohttp's own 404
    assert resp.status == 404
    carries(resp)
    resp = await client.get("/api/v1/auth/me", headers=auth(alice))  # none asked: one made
    made = resp.headers["X-Request-Id"]
    assert made and made != ASKED["X-Request-Id"]

    resp = await client.get("/api/v1/account/export", headers={**auth(alice), **ASKED})
    assert resp.status == 200 and resp.headers["Transfer-Encoding"] == "chunked"
    await resp.read()
    carries(resp)

    made = await (await connect(alice)).ok("apikey.create", name="script")
    resp = await client.post("/v1/chat/completions", headers={
        "Authorization": f"Bearer {made['key']}", **ASKED}, json={
        "model": "echo", "stream": True, "messages": [{"role": "user", "content": "привет"}]})
    assert resp.status == 200 and resp.content_type == "text/event-stream"
    assert (await resp.read()).endswith(b"data: [DONE]\n\n")
    carries(resp)
