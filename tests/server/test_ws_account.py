"""A user's own account over the socket: name and default model, password, sessions (issue 22)."""
from tests.helpers import PASSWORD

NEW_PASSWORD = "a much newer horse battery"


async def log_in(client, email="alice@example.com", password=PASSWORD, agent="Browser B"):
    resp = await client.post("/api/v1/auth/login", json={"email": email, "password": password},
                             headers={"User-Agent": agent})
    body = await resp.json()
    assert resp.status == 200, body
    return body


async def test_name_and_default_model_change_and_every_device_hears(client, alice, connect):
    sock, other = await connect(alice), await connect(alice)
    answer = await sock.ok("account.update", display_name="  Алиса  ", default_model="echo")
    assert answer["user"]["display_name"] == "Алиса" and answer["user"]["default_model"] == "echo"
    heard = await other.event("account.updated")
    assert heard["user"]["display_name"] == "Алиса"
    assert (await sock.ok("account.update", default_model=None))["user"]["default_model"] is None
    for params, field in [({"default_model": "no-such-model"}, "default_model"),
                          ({"display_name": "x" * 201}, "display_name"), ({}, None)]:
        error = await sock.error("account.update", **params)
        assert error["code"] == "bad_request" and error.get("field") == field, error
    hello_again = await connect(alice)
    assert hello_again.hello["user"]["display_name"] == "Алиса"


async def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(client, alice, connect):
    here = await connect(alice)
    elsewhere_login = await log_in(client)
    elsewhere = await connect(elsewhere_login)
    error = await here.error("account.password", current_password="wrong one",
                             new_password=NEW_PASSWORD)
    assert error["code"] == "unauthorized" and error["field"] == "current_password"
    error = await here.error("account.password", current_password=PASSWORD, new_password="short")
    assert error["code"] == "bad_request"
    changed = await here.ok("account.password", current_password=PASSWORD,
                            new_password=NEW_PASSWORD)
    assert changed == {"changed": True, "other_sessions_ended": True}
    assert await elsewhere.closed() == 4401  # the other session's socket
    assert (await here.ok("ping"))["pong"]  # this one stays
    resp = await client.post("/api/v1/auth/refresh",
                             json={"refresh_token": elsewhere_login["refresh_token"]})
    assert resp.status == 401
    await log_in(client, password=NEW_PASSWORD)
    resp = await client.post("/api/v1/auth/login", json={"email": "alice@example.com",
                                                         "password": PASSWORD})
    assert resp.status == 401


async def test_sessions_are_listed_and_one_can_be_ended_from_another(client, alice, bob, connect):
    here = await connect(alice)
    other_login = await log_in(client, agent="Phone Safari")
    other = await connect(other_login)
    sessions = (await here.ok("session.list"))["sessions"]
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
    phone = next(s for s in sessions if not s["current"])
    assert phone["user_agent"] == "Phone Safari" and phone["created_at"] <= phone["last_used_at"]
    bobs = (await (await connect(bob)).ok("session.list"))["sessions"]
    assert (await here.error("session.revoke", session_id=bobs[0]["id"]))["code"] == "not_found"
    assert (await here.ok("session.revoke", session_id=phone["id"])) == {"revoked": phone["id"]}
    assert await other.closed() == 4401
    assert (await here.ok("ping"))["pong"]
    assert [s["current"] for s in (await here.ok("session.list"))["sessions"]] == [True]
    assert (await here.error("session.revoke", session_id=phone["id"]))["code"] == "not_found"


async def test_an_operator_s_password_reset_ends_every_session(client, alice, connect):
    from server.web.state import CONTEXT

    sock = await connect(alice)
    await client.app[CONTEXT].services.accounts.set_password("ALICE@example.com", NEW_PASSWORD)
    assert await sock.closed() == 4401
    resp = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice["refresh_token"]})
    assert resp.status == 401
    await log_in(client, password=NEW_PASSWORD)
