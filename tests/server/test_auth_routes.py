"""Signing up, logging in, refreshing and logging out over REST, as a client app would."""
import asyncio

import pytest

from tests.helpers import PASSWORD, inside_one_window, register

AUTH = "/api/v1/auth"


async def count_users(client):
    from server.web.state import CONTEXT
    return await client.app[CONTEXT].services.db.fetchval("SELECT COUNT(*) AS n FROM users")


async def test_register_returns_oauth_style_tokens_and_the_user(client):
    body = await register(client, "Ann@Example.com", display_name="Анна")
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["access_token"] and body["refresh_token"]
    assert body["user"]["email"] == "Ann@Example.com"
    assert body["user"]["display_name"] == "Анна"
    assert "password" not in str(body["user"]) and "hash" not in str(body["user"])
    me = await client.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status == 200 and (await me.json())["id"] == body["user"]["id"]


async def test_email_is_unique_whatever_its_case(client):
    await register(client, "ann@example.com")
    resp = await client.post(f"{AUTH}/register", json={"email": "ANN@Example.COM",
                                                       "password": PASSWORD})
    assert resp.status == 409
    assert (await resp.json())["error"]["code"] == "conflict"
    assert await count_users(client) == 1


@pytest.mark.parametrize("body,status,field", [
    ({"email": "not-an-email", "password": PASSWORD}, 400, "email"),
    ({"email": "a@b", "password": PASSWORD}, 400, "email"),
    ({"email": "x" * 300 + "@example.com", "password": PASSWORD}, 400, "email"),
    ({"email": "ann@example.com", "password": "short"}, 400, "password"),
    ({"email": "ann@example.com", "password": "password123"}, 400, "password"),
    ({"email": "ann@example.com", "password": "aaaaaaaaaaaa"}, 400, "password"),
    ({"email": "ann@example.com", "password": "x" * 2000}, 400, "password"),
    ({"email": "ann@example.com"}, 400, "password"),
    ({"password": PASSWORD}, 400, "email"),
    ({"email": 5, "password": PASSWORD}, 400, "email"),
    ({"email": "ann@example.com", "password": PASSWORD, "display_name": "d" * 201}, 400,
     "display_name"),
    ({"email": "ann@example.com", "password": PASSWORD, "role": "admin"}, 400, None),
])
async def test_bad_sign_ups_are_refused_with_a_code_and_write_nothing(client, body, status, field):
    resp = await client.post(f"{AUTH}/register", json=body)
    error = (await resp.json())["error"]
    assert resp.status == status and error["code"] == "bad_request"
    assert error["message"]
    if field:
        assert error.get("field") == field or field in error["message"]
    assert await count_users(client) == 0


@pytest.mark.parametrize("raw", [b"{oops", b"[]", b'"x"', b"", b"\xff\xfe"])
async def test_a_body_that_is_not_a_json_object_is_a_bad_request(client, raw):
    resp = await client.post(f"{AUTH}/register", data=raw,
                             headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "bad_request"
    assert await count_users(client) == 0


async def test_an_oversized_body_is_refused(client):
    resp = await client.post(f"{AUTH}/login", data=b'{"email":"' + b"a" * 20000 + b'"}')
    assert resp.status == 413 and (await resp.json())["error"]["code"] == "too_large"


async def test_login_gives_the_same_answer_for_unknown_email_and_wrong_password(client, alice):
    wrong = await client.post(f"{AUTH}/login", json={"email": "alice@example.com",
                                                    "password": "not the password"})
    unknown = await client.post(f"{AUTH}/login", json={"email": "nobody@example.com",
                                                      "password": "not the password"})
    assert wrong.status == unknown.status == 401
    assert await wrong.json() == await unknown.json()


async def test_login_is_case_insensitive_on_email_and_sets_the_session_cookie(client, alice):
    resp = await client.post(f"{AUTH}/login", json={"email": "ALICE@example.com",
                                                    "password": PASSWORD})
    assert resp.status == 200
    assert "chatwire_session" in resp.cookies
    cookie = resp.cookies["chatwire_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert (await resp.json())["user"]["email"] == "alice@example.com"


async def test_repeated_failures_throttle_the_account(client, alice):
    await inside_one_window(15 * 60)
    for _ in range(5):
        resp = await client.post(f"{AUTH}/login", json={"email": "alice@example.com",
                                                        "password": "guess guess"})
        assert resp.status == 401
    resp = await client.post(f"{AUTH}/login", json={"email": "alice@example.com",
                                                    "password": PASSWORD})
    assert resp.status == 429
    assert (await resp.json())["error"]["code"] == "rate_limited"
    assert int(resp.headers["Retry-After"]) > 0


async def test_refresh_rotates_and_replaying_a_rotated_token_kills_the_family(client, alice):
    first = alice["refresh_token"]
    resp = await client.post(f"{AUTH}/refresh", json={"refresh_token": first})
    assert resp.status == 200
    second = await resp.json()
    assert second["refresh_token"] != first

    replay = await client.post(f"{AUTH}/refresh", json={"refresh_token": first})
    assert replay.status == 401 and (await replay.json())["error"]["code"] == "unauthorized"
    # The thief's replay ended the session: the legitimate newer token is dead too,
    # and so are access tokens minted for that session.
    assert (await client.post(f"{AUTH}/refresh",
                              json={"refresh_token": second["refresh_token"]})).status == 401
    me = await client.get(f"{AUTH}/me",
                          headers={"Authorization": f"Bearer {second['access_token']}"})
    assert me.status == 401


async def test_concurrent_use_of_one_refresh_token_is_treated_as_a_replay(client, alice):
    results = await asyncio.gather(*[
        client.post(f"{AUTH}/refresh", json={"refresh_token": alice["refresh_token"]})
        for _ in range(2)])
    assert sorted(r.status for r in results) == [200, 401]


async def test_garbage_or_tampered_tokens_are_unauthorized(client, alice):
    assert (await client.post(f"{AUTH}/refresh", json={"refresh_token": "nope"})).status == 401
    token = alice["access_token"]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in ("garbage", tampered, ""):
        resp = await client.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {bad}"})
        assert resp.status == 401


async def test_a_token_signed_with_another_algorithm_is_refused(client, alice):
    import jwt
    forged = jwt.encode({"sub": alice["user"]["id"], "sid": "x", "typ": "access", "iat": 1,
                         "exp": 2**40, "jti": "j"}, key=None, algorithm="none")
    resp = await client.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {forged}"})
    assert resp.status == 401


async def test_logout_ends_the_session_and_its_tokens(client, alice):
    headers = {"Authorization": f"Bearer {alice['access_token']}"}
    resp = await client.post(f"{AUTH}/logout", headers=headers,
                             json={"refresh_token": alice["refresh_token"]})
    assert resp.status == 204
    assert (await client.get(f"{AUTH}/me", headers=headers)).status == 401
    again = await client.post(f"{AUTH}/refresh", json={"refresh_token": alice["refresh_token"]})
    assert again.status == 401


async def test_the_session_cookie_authenticates_me_until_logout(client, alice):
    await client.post(f"{AUTH}/login", json={"email": "alice@example.com", "password": PASSWORD})
    me = await client.get(f"{AUTH}/me")
    assert me.status == 200 and (await me.json())["email"] == "alice@example.com"
    own_origin = {"Origin": str(client.make_url("")).rstrip("/")}  # as the browser sends it
    assert (await client.post(f"{AUTH}/logout", headers=own_origin)).status == 204
    assert (await client.get(f"{AUTH}/me")).status == 401


async def test_unknown_api_routes_and_methods_answer_json_errors(client):
    resp = await client.get("/api/v1/nothing-here")
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    resp = await client.get(f"{AUTH}/login")
    assert resp.status == 405 and (await resp.json())["error"]["code"] == "bad_request"


async def test_a_body_sent_in_small_pieces_is_read_whole(client):
    async def trickle():
        body = b'{"email":"slow@example.com","password":"correct horse battery"}'
        for i in range(0, len(body), 7):
            yield body[i:i + 7]
            await asyncio.sleep(0.01)  # time passing is the point: a slow client

    resp = await client.post(f"{AUTH}/register", data=trickle(),
                             headers={"Content-Type": "application/json"})
    assert resp.status == 201, await resp.text()


async def test_a_chunked_body_over_the_limit_is_refused(client):
    async def flood():
        yield b'{"email":"'
        for _ in range(40):
            yield b"a" * 1024

    resp = await client.post(f"{AUTH}/register", data=flood())
    assert resp.status == 413 and (await resp.json())["error"]["code"] == "too_large"
    assert await count_users(client) == 0


async def test_many_people_signing_up_at_once_on_a_fresh_server_all_succeed(make_client):
    """The password hasher's backend loads lazily; the first hashes run in threads at once."""
    import asyncio
    fresh = await make_client()
    results = await asyncio.gather(*[
        fresh.post("/api/v1/auth/register", json={"email": f"rush{i}@example.com",
                                                  "password": "correct horse battery"})
        for i in range(24)])
    assert [r.status for r in results] == [201] * 24
