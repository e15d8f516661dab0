"""The operator's console over REST: find users, see one, change role / status / caps, end
sessions, move credits, read the audit log; a non-admin is refused every call and changes
nothing. Both engines."""
import pytest

from tests.helpers import PASSWORD, auth, deposit, make_admin


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


async def get(client, path, token):
    resp = await client.get(path, headers=bearer(token))
    return resp.status, await resp.json()


async def patch(client, path, token, body):
    resp = await client.patch(path, json=body, headers=bearer(token))
    return resp.status, await resp.json()


async def audit_count(client, admin):
    return len((await get(client, "/api/v1/admin/audit", admin))[1]["entries"])


async def test_find_a_user_by_email_sort_and_page(client, alice, bob):
    admin = await make_admin(client)
    status, found = await get(client, "/api/v1/admin/users?q=ALICE", admin)
    assert status == 200 and [u["email"] for u in found["users"]] == ["alice@example.com"]
    assert found["users"][0]["balance"] == 100_000_000 and found["users"][0]["disabled"] is False
    await deposit(client, admin, bob["user"]["id"], {"amount": 5})
    _, by_balance = await get(client, "/api/v1/admin/users?sort=balance", admin)
    assert by_balance["users"][0]["email"] == "bob@example.com"
    # Paging: 3 users, pages of 50 → one page; a cursor from elsewhere is refused.
    assert len(by_balance["users"]) == 3 and by_balance["next_cursor"] is None
    status, bad = await get(client, "/api/v1/admin/users?cursor=nonsense", admin)
    assert status == 400 and bad["error"]["code"] == "bad_request"
    for query in ("sort=height", "days=401", "days=x"):
        status, bad = await get(client, f"/api/v1/admin/users?{query}", admin)
        assert status == 400 and bad["error"]["code"] == "bad_request", query


async def test_a_users_page(client, alice, connect):
    admin = await make_admin(client)
    status, page = await get(client, f"/api/v1/admin/users/{alice['user']['id']}", admin)
    assert status == 200
    assert page["user"]["email"] == "alice@example.com" and page["user"]["role"] == "user"
    assert page["account"]["balance"] == 100_000_000
    assert page["transactions"]["transactions"][0]["note"] == "welcome credits"
    assert len(page["sessions"]) == 1 and page["caps"] == {"daily": None, "monthly": None}
    assert (await get(client, "/api/v1/admin/users/" + "0" * 32, admin))[0] == 404


async def test_disable_closes_sockets_and_refuses_log_in_and_refresh(client, alice, connect):
    admin = await make_admin(client)
    sock = await connect(alice)
    status, after = await patch(client, f"/api/v1/admin/users/{alice['user']['id']}", admin,
                                {"disabled": True})
    assert status == 200 and after["disabled"] is True
    assert await sock.closed() == 4403
    login = await client.post("/api/v1/auth/login",
                              json={"email": "alice@example.com", "password": PASSWORD})
    assert login.status == 403 and (await login.json())["error"]["code"] == "account_disabled"
    refresh = await client.post("/api/v1/auth/refresh",
                                json={"refresh_token": alice["refresh_token"]})
    assert (await refresh.json())["error"]["code"] == "account_disabled"
    me = await client.get("/api/v1/auth/me", headers=auth(alice))
    assert (await me.json())["error"]["code"] == "account_disabled"
    # Enabled again: nothing was lost, the old session works again.
    await patch(client, f"/api/v1/admin/users/{alice['user']['id']}", admin, {"disabled": False})
    sock = await connect(alice)
    assert (await sock.ok("balance.get"))["balance"] == 100_000_000
    entries = (await get(client, "/api/v1/admin/audit?action=user.update", admin))[1]["entries"]
    assert [(e["before"]["disabled"], e["after"]["disabled"]) for e in entries] == [
        (True, False), (False, True)]
    assert entries[0]["actor_email"] == "root@example.com" and entries[0]["address"]
    assert entries[0]["target_email"] == "alice@example.com"


async def test_role_sessions_and_the_last_admin(client, alice, connect):
    admin = await make_admin(client)
    root_id = (await get(client, "/api/v1/admin/users?q=root", admin))[1]["users"][0]["id"]
    user_url = f"/api/v1/admin/users/{alice['user']['id']}"
    for body in ({"disabled": True}, {"role": "user"}):
        status, refused = await patch(client, f"/api/v1/admin/users/{root_id}", admin, body)
        assert status == 409 and refused["error"]["code"] == "conflict", body
    tab = await connect(alice)
    assert (await patch(client, user_url, admin, {"role": "admin"}))[0] == 200
    assert (await tab.event("account.updated"))["user"]["role"] == "admin"
    assert (await patch(client, f"/api/v1/admin/users/{root_id}", admin, {"role": "user"}))[0] == 200
    # Alice is the only admin now; root lost the role and with it the console.
    assert (await get(client, "/api/v1/admin/users", admin))[0] == 403
    sock = await connect(alice)
    resp = await client.delete(f"{user_url}/sessions", headers=auth(alice))
    assert resp.status == 200 and (await resp.json())["revoked"] == 1
    assert await sock.closed() == 4401


@pytest.mark.parametrize("body", [
    {"role": "owner"}, {"daily_cap": -1}, {"monthly_cap": 1.5}, {"disabled": "yes"}, {},
    {"daily_cap": 10**16}, {"email": "x@example.com"}])
async def test_bad_changes_are_typed_and_change_nothing(client, alice, body):
    admin = await make_admin(client)
    url = f"/api/v1/admin/users/{alice['user']['id']}"
    status, refused = await patch(client, url, admin, body)
    assert status == 400 and refused["error"]["code"] == "bad_request"
    page = (await get(client, url, admin))[1]
    assert page["user"]["role"] == "user" and page["caps"] == {"daily": None, "monthly": None}
    assert await audit_count(client, admin) == 0


@pytest.mark.parametrize(("body", "code"), [
    ({"amount": -5}, "bad_request"), ({"amount": 2.5}, "bad_request"),
    ({"amount": 10**16}, "bad_request"), ({"amount": 5, "kind": "adjustment"}, "bad_request"),
    ({"amount": "5"}, "bad_request")])
async def test_bad_deposits_are_typed_and_change_nothing(client, alice, body, code):
    admin = await make_admin(client)
    status, refused = await deposit(client, admin, alice["user"]["id"], body)
    assert status == 400 and refused["error"]["code"] == code
    page = (await get(client, f"/api/v1/admin/users/{alice['user']['id']}", admin))[1]
    assert page["account"]["balance"] == 100_000_000 and await audit_count(client, admin) == 0


async def test_a_deposit_is_audited_once_and_a_reused_key_with_another_body_conflicts(
        client, alice, connect):
    admin = await make_admin(client)
    sock = await connect(alice)
    body = {"amount": 3_000_000, "kind": "adjustment", "note": "refund for outage"}
    assert (await deposit(client, admin, alice["user"]["id"], body, key="k1"))[0] == 201
    assert (await deposit(client, admin, alice["user"]["id"], body, key="k1"))[0] == 200
    status, clash = await deposit(client, admin, alice["user"]["id"], {**body, "amount": 4},
                                  key="k1")
    assert status == 409 and clash["error"]["code"] == "conflict"
    assert (await sock.event("balance.updated"))["balance"] == 103_000_000
    entries = (await get(client, "/api/v1/admin/audit", admin))[1]["entries"]
    assert [(e["action"], e["before"]["balance"], e["after"]["balance"]) for e in entries] == [
        ("credits.adjustment", 100_000_000, 103_000_000)]
    status, bad = await get(client, "/api/v1/admin/audit?action=user.delete", admin)
    assert status == 400 and bad["error"]["code"] == "bad_request"


ROUTES = [("GET", "/api/v1/admin/users", None), ("GET", "/api/v1/admin/users/{id}", None),
          ("PATCH", "/api/v1/admin/users/{id}", {"role": "admin"}),
          ("PATCH", "/api/v1/admin/users/{id}", {"disabled": True}),
          ("PATCH", "/api/v1/admin/users/{id}", {"daily_cap": 0}),
          ("DELETE", "/api/v1/admin/users/{id}/sessions", None),
          ("POST", "/api/v1/admin/users/{id}/deposits", {"amount": 5}),
          ("GET", "/api/v1/admin/audit", None), ("GET", "/api/v1/admin/presence", None)]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_a_non_admin_is_forbidden_and_nothing_changes(client, alice, bob, connect,
                                                            method, path, body):
    admin = await make_admin(client)
    sock = await connect(bob)
    resp = await client.request(method, path.replace("{id}", bob["user"]["id"]), json=body,
                                headers=auth(alice))
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
    page = (await get(client, f"/api/v1/admin/users/{bob['user']['id']}", admin))[1]
    assert page["user"]["role"] == "user" and not page["user"]["disabled"]
    assert page["account"]["balance"] == 100_000_000 and len(page["sessions"]) == 1
    assert page["caps"]["daily"] is None and await audit_count(client, admin) == 0
    assert (await sock.ok("ping")) is not None
