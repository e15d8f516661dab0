"""The admin paths of the OpenAPI document (/api/v1/admin/...), merged into it by openapi.py.

Kept apart so the main document stays small; the request bodies come from the tables
admin_routes.py validates with. `h` is openapi.py's helpers (passed in: no import cycle).
"""
from __future__ import annotations

from typing import Any

from server.domain.audit import ACTIONS

from .admin_models_routes import EDITABLE, NEW_MODEL
from .admin_orders_routes import RESOLVE
from .admin_packs_routes import EDITABLE as PACK_EDITABLE, NEW_PACK
from .admin_routes import DEPOSIT, PATCH

Schema = dict[str, Any]
INT, STR = {"type": "integer"}, {"type": "string"}
NSTR, NINT = {"type": ["string", "null"]}, {"type": ["integer", "null"]}
LISTED = {"type": "object", "required": ["id", "email", "role", "disabled", "balance"],
          "properties": {"id": STR, "email": STR, "display_name": NSTR, "role": STR,
                         "disabled": {"type": "boolean"}, "disabled_at": NSTR, "balance": INT,
                         "reserved": INT, "created_at": STR, "last_active_at": NSTR,
                         "spend": INT, "daily_cap": NINT, "monthly_cap": NINT}}
CAP = {"type": ["object", "null"], "properties": {"cap": INT, "spent": INT, "left": INT,
                                                  "resets_at": STR}}
ENTRY = {"type": "object", "required": ["id", "action", "created_at"],
         "properties": {"id": STR, "actor_id": NSTR, "actor_email": STR, "action": STR,
                        "target_id": NSTR, "target_email": NSTR, "before": {}, "after": {}, "address": STR,
                        "created_at": STR}}


MONEY = {"type": ["object", "null"], "properties": {"amount": INT, "currency": STR},
         "description": "minor units (cents, kopecks) and the currency"}
ORDER = {"type": "object", "required": ["id", "email", "provider", "status", "amount", "currency"],
         "properties": {"id": STR, "user_id": STR, "email": STR, "provider": STR, "pack_id": STR,
                        "amount": INT, "currency": STR, "credits": INT,
                        "status": {"enum": ["pending", "paid", "failed", "flagged", "reversed"]},
                        "payment_id": NSTR, "charge_ref": NSTR, "receipt_url": NSTR,
                        "flag_reason": NSTR, "expected": MONEY, "received": MONEY,
                        "resolution": {"type": ["object", "null"], "properties": {
                            "action": {"enum": ["credit", "dismiss"]}, "note": STR, "by": STR,
                            "at": STR}},
                        "created_at": STR, "updated_at": STR}}


def _q(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def admin_paths(h: Any) -> dict[str, Schema]:
    op, errors, json, ref, body, path_id = h._op, h._errors, h._json, h._ref, h._body, h._path_id
    account = h.ACCOUNT
    bearer = h.BEARER
    deposit_answer = {"type": "object", "required": ["transaction", *account],
                      "properties": {"transaction": ref("Transaction"), **account}}
    user_id = [path_id("user_id")]
    return {
        "/api/v1/admin/users": {"get": op(
            "Find users: search by email or name, sort, page (admin)",
            {"200": json({"type": "object", "required": ["users", "next_cursor"], "properties": {
                "users": {"type": "array", "items": LISTED}, "next_cursor": NSTR}}, "a page"),
             **errors(400, 401, 403)}, tag="admin", security=bearer,
            params=[_q("q", {"type": "string", "maxLength": 200}, "part of an email or name"),
                    _q("sort", {"enum": ["created", "last_active", "balance", "spend"]},
                       "largest / newest first (default created: sign-up)"),
                    _q("days", {"type": "string", "pattern": "^[0-9]{1,3}$"},
                       "the period `spend` covers, 1 to 400 days (default 30)"),
                    _q("cursor", {"type": "string", "maxLength": 200},
                       "the next_cursor of the previous page")])},
        "/api/v1/admin/users/{user_id}": {
            "get": op("One user: role, status, balance, caps, ledger page, sessions, usage (admin)",
                      {"200": json({"type": "object", "required": ["user", "account", "caps"],
                                    "properties": {
                                        "user": LISTED, "account": {"type": "object"},
                                        "caps": {"type": "object", "properties": {
                                            "daily": CAP, "monthly": CAP}},
                                        "transactions": {"type": "object"},
                                        "sessions": {"type": "array"},
                                        "usage": {"type": "object"}}}, "the user"),
                       **errors(401, 403, 404)}, tag="admin", security=bearer, params=user_id),
            "patch": op(
                "Change a user's role, status (disabled: log-in refused, sockets closed with "
                "4403) or spend caps in micro-credits (null: none); yourself disabled or the "
                "last admin removed: conflict (admin)",
                {"200": json({"type": "object", "required": ["id", "role", "disabled"],
                              "properties": {"id": STR, "role": STR, "disabled": {"type": "boolean"},
                                             "daily_cap": NINT, "monthly_cap": NINT}}, "after"),
                 **errors(400, 401, 403, 404, 409, 413)}, tag="admin", security=bearer,
                body=body(PATCH), params=user_id)},
        "/api/v1/admin/users/{user_id}/sessions": {"delete": op(
            "End every session of a user; their sockets close with 4401 (admin)",
            {"200": json({"type": "object", "required": ["revoked"],
                          "properties": {"revoked": INT}}, "sessions ended"),
             **errors(401, 403, 404)}, tag="admin", security=bearer, params=user_id)},
        "/api/v1/admin/users/{user_id}/deposits": {"post": op(
            "Deposit (or adjust, with a note) a user's credits, idempotent on Idempotency-Key; "
            "the user's open tabs get balance.updated (admin)",
            {"200": json(deposit_answer, "the same key and body again: the first result, "
                                         "nothing written"),
             "201": json(deposit_answer, "written"),
             **errors(400, 401, 403, 404, 409, 413)},
            tag="admin", security=bearer, body=body(DEPOSIT),
            params=[*user_id, {"name": "Idempotency-Key", "in": "header", "required": False,
                               "schema": {"type": "string", "minLength": 1, "maxLength": 200}}])},
        "/api/v1/admin/audit": {"get": op(
            "The audit log, newest first: every admin action with actor, target, before and "
            "after, time and address; read-only (admin)",
            {"200": json({"type": "object", "required": ["entries", "next_cursor"], "properties": {
                "entries": {"type": "array", "items": ENTRY}, "next_cursor": NSTR}}, "a page"),
             **errors(400, 401, 403)}, tag="admin", security=bearer,
            params=[_q("actor", {"type": "string", "maxLength": 320}, "an admin's id or email"),
                    _q("action", {"enum": list(ACTIONS)}, "one kind"),
                    _q("cursor", {"type": "string", "maxLength": 200},
                       "the next_cursor of the previous page")])},
        "/api/v1/admin/models": {
            "get": op("The model catalogue, disabled models too (admin)",
                      {"200": json({"type": "object", "required": ["models"], "properties": {
                          "models": {"type": "array", "items": {"type": "object"}}}},
                          "every model"), **errors(401, 403)}, tag="admin", security=bearer),
            "post": op("Add a model for a configured provider (admin); every instance hears",
                       {"201": json({"type": "object", "required": ["model"],
                                     "properties": {"model": {"type": "object"}}}, "added"),
                        **errors(400, 401, 403, 409, 413)}, tag="admin", security=bearer,
                       body=body(NEW_MODEL))},
        "/api/v1/admin/models/{model_id}": {"patch": op(
            "Change a model: name, prices, sizes, vision, enabled (admin); every instance hears",
            {"200": json({"type": "object", "required": ["model"],
                          "properties": {"model": {"type": "object"}}}, "changed"),
             **errors(400, 401, 403, 404, 413)}, tag="admin", security=bearer,
            body=body(EDITABLE), params=[path_id("model_id")])},
        "/api/v1/admin/presence": {"get": op(
            "Users online on every instance, sockets on this one (admin)",
            {"200": json({"type": "object", "required": ["online_users", "sockets_here"],
                          "properties": {"online_users": INT, "sockets_here": INT}}, "counts"),
             **errors(401, 403)}, tag="admin", security=bearer)},
        **order_paths(h),
        **pack_paths(h),
    }


def order_paths(h: Any) -> dict[str, Schema]:
    """/api/v1/admin/orders: every order, and a flagged one resolved (admin_orders_routes.py)."""
    op, errors, json, body, path_id = h._op, h._errors, h._json, h._body, h._path_id
    resolve = body(RESOLVE)
    resolve["content"]["application/json"]["schema"]["properties"]["action"] = {
        "enum": ["credit", "dismiss"]}
    return {
        "/api/v1/admin/orders": {"get": op(
            "Every order, newest first, with its user's email, the provider's payment id and, for "
            "a flagged one, what was expected and what the provider reported; `flagged` counts "
            "the orders waiting for an operator (admin)",
            {"200": json({"type": "object", "required": ["orders", "flagged", "next_cursor"],
                          "properties": {"orders": {"type": "array", "items": ORDER},
                                         "flagged": INT, "next_cursor": NSTR}}, "a page"),
             **errors(400, 401, 403)}, tag="admin", security=h.BEARER,
            params=[_q("status", {"enum": ["pending", "paid", "failed", "flagged", "reversed"]},
                       "only orders in this state"),
                    _q("cursor", {"type": "string", "maxLength": 200},
                       "the next_cursor of the previous page")])},
        "/api/v1/admin/orders/{order_id}/resolve": {"post": op(
            "Resolve a flagged order with a note: `credit` deposits its pack once (the key a "
            "webhook would use, so none credits it again), `dismiss` closes it as failed with "
            "nothing credited; audit-logged. Not flagged: conflict (admin)",
            {"200": json({"type": "object", "required": ["order"],
                          "properties": {"order": ORDER}}, "the order after"),
             **errors(400, 401, 403, 404, 409, 413)}, tag="admin", security=h.BEARER,
            body=resolve, params=[path_id("order_id")])},
    }


# usage analytics
USAGE_ROW = {"type": "object", "description": "the columns named in `columns`, by group_by",
             "properties": {"model": STR, "day": STR, "user_id": STR, "email": STR,
                            "provider": STR, "replies": INT, "prompt_tokens": INT,
                            "completion_tokens": INT, "active_users": INT, "charges": INT,
                            "cost": INT, "error_rate": {"type": "number"},
                            "ttft_p50_ms": NINT, "ttft_p95_ms": NINT}}
USAGE = {"type": "object", "required": ["from", "to", "group_by", "columns", "rows", "totals"],
         "properties": {"from": STR, "to": STR, "group_by": STR,
                        "columns": {"type": "array", "items": STR},
                        "rows": {"type": "array", "items": USAGE_ROW},
                        "totals": {"type": "object", "properties": {
                            "cost": INT, "replies": INT, "prompt_tokens": INT,
                            "completion_tokens": INT, "active_users": INT}}}}


def usage_paths(h: Any) -> dict[str, Schema]:
    """`GET /api/v1/admin/usage`: the console's analytics, JSON or CSV."""
    day = {"type": "string", "format": "date", "maxLength": 10}
    return {"/api/v1/admin/usage": {"get": h._op(
        "Usage for whole UTC days from..to (at most 400; default the last 30): cost (from the "
        "ledger, micro-credits), tokens and replies by model or day (with active users), the "
        "top 50 users by spend, replies by provider and status with the error rate and time to "
        "first token p50/p95; `format=csv`: the table as CSV (admin)",
        {"200": {"description": "the report", "content": {
            "application/json": {"schema": USAGE},
            "text/csv": {"schema": {"type": "string"}}}},
         **h._errors(400, 401, 403)}, tag="admin", security=h.BEARER,
        params=[_q("from", day, "the first day, YYYY-MM-DD (UTC)"),
                _q("to", day, "the last day, inclusive (default today)"),
                _q("group_by", {"enum": ["model", "day", "user", "provider"]},
                   "the table's rows (default day)"),
                _q("format", {"enum": ["json", "csv"]}, "csv: the table as a download")])}}


PACK = {"type": "object", "required": ["id", "title", "price", "currency", "credits", "enabled"],
        "properties": {"id": STR, "title": STR, "price": INT, "currency": STR, "credits": INT,
                       "enabled": {"type": "boolean"}, "sellable": {"type": "boolean"},
                       "position": INT, "created_at": STR, "updated_at": STR}}


def pack_paths(h: Any) -> dict[str, Schema]:
    """/api/v1/admin/packs: the credit packs on sale, edited at runtime (admin_packs_routes.py)."""
    op, errors, json, body, path_id = h._op, h._errors, h._json, h._body, h._path_id
    one = json({"type": "object", "required": ["pack"], "properties": {"pack": PACK}}, "the pack")
    return {
        "/api/v1/admin/packs": {
            "get": op("Every credit pack, disabled ones too; `sellable`: an enabled provider "
                      "takes its currency; `currencies`: what the enabled providers take (admin)",
                      {"200": json({"type": "object", "required": ["packs", "currencies"],
                                    "properties": {"packs": {"type": "array", "items": PACK},
                                                   "currencies": {"type": "array",
                                                                  "items": STR}}},
                                   "every pack"), **errors(401, 403)},
                      tag="admin", security=h.BEARER),
            "post": op("Add a credit pack: price in the currency's minor unit, credits in "
                       "micro-credits, a currency an enabled provider takes; an id in use: "
                       "conflict; audit-logged, every instance hears (admin)",
                       {"201": one, **errors(400, 401, 403, 409, 413)}, tag="admin",
                       security=h.BEARER, body=body(NEW_PACK))},
        "/api/v1/admin/packs/{pack_id}": {"patch": op(
            "Change a pack: title, price, currency, credits, enabled; orders already made keep "
            "their amount; audit-logged, every instance hears (admin)",
            {"200": one, **errors(400, 401, 403, 404, 413)}, tag="admin", security=h.BEARER,
            body=body(PACK_EDITABLE), params=[path_id("pack_id")])},
    }
