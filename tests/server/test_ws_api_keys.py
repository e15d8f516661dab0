"""Personal API keys over the WebSocket (issue 25 section 1): `apikey.create` shows the key once
and stores its hash only, `apikey.list` and `apikey.revoke`, at most 20 live keys, a typed error
for every bad input; admins list and revoke anyone's keys over REST."""
import hashlib

import pytest

from server.domain.recovery import Recovery
from server.domain.runner import StreamSettings
from server.web.state import CONTEXT
from storage import ledger as ledger_rows
from tests.helpers import make_admin


async def test_a_key_is_shown_once_stored_as_a_hash_listed_and_revoked(client, alice, connect):
    sock = await connect(alice)
    other = await connect(alice)
    made = await sock.ok("apikey.create", name="  Laptop script ", models=["gpt-4o-mini"],
                         monthly_cap=5_000_000, expires_at="2027-06-01T12:00:00+03:00")
    key, api_key = made["key"], made["api_key"]
    assert key.startswith("cwk-") and len(key) > 40 and api_key["prefix"] == key[:12]
    assert api_key["name"] == "Laptop script" and api_key["monthly_cap"] == 5_000_000
    assert api_key["expires_at"] == "2027-06-01T09:00:00.000000Z"
    assert api_key["last_used_at"] is None and api_key["revoked_at"] is None
    created = await other.event("apikey.created")
    assert created["api_key"] == api_key and "key" not in created

    stored = await client.app[CONTEXT].services.db.fetchall("SELECT * FROM api_keys")
    assert key not in str(stored)
    assert stored[0]["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    listed = await sock.ok("apikey.list")
    assert listed == {"api_keys": [api_key], "next_cursor": None}
    assert key not in str(listed)

    revoked = await sock.ok("apikey.revoke", api_key_id=api_key["id"])
    assert revoked["api_key"]["revoked_at"] is not None
    assert (await other.event("apikey.revoked"))["api_key_id"] == api_key["id"]
    assert (await sock.ok("apikey.list"))["api_keys"] == []
    again = await sock.error("apikey.revoke", api_key_id=api_key["id"])
    assert again["code"] == "not_found"


async def test_someone_elses_key_is_not_found(client, alice, bob, connect):
    mine = (await (await connect(alice)).ok("apikey.create", name="a"))["api_key"]
    theirs = await connect(bob)
    assert (await theirs.error("apikey.revoke", api_key_id=mine["id"]))["code"] == "not_found"
    assert (await theirs.ok("apikey.list"))["api_keys"] == []
    assert len((await (await connect(alice)).ok("apikey.list"))["api_keys"]) == 1


async def test_at_most_twenty_live_keys(client, alice, connect):
    sock = await connect(alice)
    made = [await sock.ok("apikey.create", name=f"k{i}") for i in range(20)]
    refused = await sock.error("apikey.create", name="one too many")
    assert refused["code"] == "conflict" and "20" in refused["message"]
    await sock.ok("apikey.revoke", api_key_id=made[0]["api_key"]["id"])
    await sock.ok("apikey.create", name="in its place")


@pytest.mark.parametrize("params,field", [
    ({}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "k", "models": []}, "models"),
    ({"name": "k", "models": ["gpt-17"]}, "models"),
    ({"name": "k", "models": "gpt-4o-mini"}, "models"),
    ({"name": "k", "monthly_cap": 0}, "monthly_cap"),
    ({"name": "k", "monthly_cap": "5"}, "monthly_cap"),
    ({"name": "k", "expires_at": "next tuesday"}, "expires_at"),
    ({"name": "k", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
    ({"name": "k", "expires_at": "2999-01-01T00:00:00Z"}, "expires_at"),
    ({"name": "k", "scopes": ["all"]}, None),
])
async def test_every_bad_input_is_a_typed_error_and_creates_nothing(client, alice, connect,
                                                                    params, field):
    sock = await connect(alice)
    refused = await sock.error("apikey.create", **params)
    assert refused["code"] == "bad_request"
    assert refused.get("field") == field or field is None
    assert (await sock.ok("apikey.list"))["api_keys"] == []


async def test_an_admin_lists_and_revokes_anyones_keys(client, alice, bob, connect):
    sock = await connect(alice)
    live = (await sock.ok("apikey.create", name="live"))["api_key"]
    gone = (await sock.ok("apikey.create", name="gone"))["api_key"]
    await sock.ok("apikey.revoke", api_key_id=gone["id"])
    assert (await sock.event("apikey.revoked"))["api_key_id"] == gone["id"]
    root = {"Authorization": f"Bearer {await make_admin(client)}"}
    user_id = alice["user"]["id"]
    resp = await client.get(f"/api/v1/admin/users/{user_id}/api-keys", headers=root)
    listed = (await resp.json())["api_keys"]
    assert resp.status == 200 and [k["name"] for k in listed] == ["gone", "live"]
    resp = await client.delete(f"/api/v1/admin/api-keys/{live['id']}", headers=root)
    assert resp.status == 200 and (await resp.json())["api_key"]["revoked_at"]
    assert (await sock.event("apikey.revoked"))["api_key_id"] == live["id"]
    resp = await client.delete(f"/api/v1/admin/api-keys/{live['id']}", headers=root)
    assert resp.status == 404
    resp = await client.get("/api/v1/admin/users/nobody/api-keys", headers=root)
    assert resp.status == 404
    as_bob = {"Authorization": f"Bearer {bob['access_token']}"}
    resp = await client.get(f"/api/v1/admin/users/{user_id}/api-keys", headers=as_bob)
    assert resp.status == 403
    resp = await client.delete(f"/api/v1/admin/api-keys/{live['id']}", headers=as_bob)
    assert resp.status == 403


async def test_an_api_calls_hold_left_by_a_crash_is_released_once_stale(client, alice):
    services = client.app[CONTEXT].services
    user_id = alice["user"]["id"]
    async with services.db.transaction() as tx:
        await services.ledger.reserve(tx, user_id, "api:somekey:somecall", 1000)
    recovery = Recovery(services.db, services.ledger, "elsewhere", StreamSettings())
    await recovery.sweep()  # maybe another instance's call, still in flight: kept
    assert (await services.ledger.balance(user_id))["reserved"] == 1000
    await services.db.execute("UPDATE holds SET created_at = ?", ("2020-01-01T00:00:00.000000Z",))
    await recovery.sweep()
    assert (await services.ledger.balance(user_id))["reserved"] == 0
    assert await ledger_rows.orphan_holds(services.db) == []
    assert await services.ledger.check() == []
