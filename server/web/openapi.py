"""The REST surface as OpenAPI 3.1 (`/api/openapi.json`), and Swagger UI for it (`/api/docs`).

Request bodies come from the same field tables the routes validate with (`protocol.wire_schema`
turns them into JSON Schema), so the document and the code cannot disagree on what is accepted.
Swagger UI is vendored under `static/vendor/swagger-ui/` and works offline.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from protocol.errors import ERROR_CODES
from protocol.wire_schema import ROWS, object_schema
from server.domain import credentials
from server.errors import HTTP_STATUS

from . import openapi_admin
from .auth_routes import LOGIN, LOGOUT, REFRESH, REGISTER
from .mail_routes import CONFIRM, RESEND, RESET, VERIFY
from .openapi_v1 import SECURITY_SCHEME, paths as v1_paths

Schema = dict[str, Any]
OPENAPI = web.AppKey("openapi", dict)
DOCS_PAGE = Path(__file__).resolve().parents[2] / "static" / "api-docs.html"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _rows() -> dict[str, Schema]:
    """The rows shared with the WebSocket schema, their references rewritten for OpenAPI."""
    text = orjson.dumps(ROWS).decode().replace("#/$defs/", "#/components/schemas/")
    return orjson.loads(text)


ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"enum": list(ERROR_CODES)}, "message": {"type": "string"},
                   "retry_after": {"type": "integer"}}}}}
TOKENS = {"type": "object", "required": ["access_token", "refresh_token", "token_type", "expires_in",
                                         "user"],
          "properties": {"access_token": {"type": "string"}, "refresh_token": {"type": "string"},
                         "token_type": {"const": "bearer"}, "expires_in": {"type": "integer"},
                         "user": _ref("user")}}
ACCOUNT = {"balance": {"type": "integer"}, "reserved": {"type": "integer"},
           "available": {"type": "integer"}}
TRANSACTION = {"type": "object", "required": ["id", "kind", "amount", "balance_after", "created_at"],
               "properties": {"id": {"type": "string"}, "kind": {"type": "string"},
                              "amount": {"type": "integer"}, "balance_after": {"type": "integer"},
                              "message_id": {"type": ["string", "null"]},
                              "idempotency_key": {"type": ["string", "null"]},
                              "created_by": {"type": ["string", "null"]},
                              "note": {"type": ["string", "null"]},
                              "created_at": {"type": "string", "format": "date-time"}}}

CHATGPT = {"type": "object", "required": ["mapping"], "description": "one ChatGPT conversation",
           "properties": {"title": {"type": ["string", "null"]}, "mapping": {"type": "object"},
                          "current_node": {"type": ["string", "null"]},
                          "create_time": {"type": ["number", "null"]},
                          "update_time": {"type": ["number", "null"]}}}
EXPORTED = {"type": "object", "required": ["format", "chat", "messages"],
            "description": "one chat as GET /api/v1/chats/{chat_id}/export?format=json writes it",
            "properties": {"format": {"const": "chatwire.chat/1"}, "chat": {"type": "object"},
                           "messages": {"type": "array", "items": {"type": "object"}}}}
IMPORT_FILE = {"anyOf": [EXPORTED, CHATGPT,
                         {"type": "array", "minItems": 1, "items": {"anyOf": [EXPORTED, CHATGPT]}}]}

ERRORS = {  # status -> when; the codes each status carries come from server/errors.py
    400: "malformed: not JSON, an unknown, missing or wrongly typed field",
    401: "not logged in, or the token is invalid or expired",
    403: "logged in but not allowed (or the email is not verified yet)",
    404: "no such row, or it is someone else's",
    409: "clashes with the current state",
    413: "over a size limit",
    415: "the file's content is not an accepted type",
    429: "too many requests; see the Retry-After header",
    503: "the database or Redis did not answer in time; retry",
}
BEARER = [{"bearer": []}, {"cookie": []}]
SHARED = {"type": "object", "required": ["share", "messages"], "properties": {
    "share": {"type": "object", "required": ["id", "title", "created_at"], "properties": {
        "id": {"type": "string"}, "title": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"}}},
    "messages": {"type": "array", "items": {
        "type": "object", "required": ["role", "content", "model", "created_at"], "properties": {
            "role": {"enum": ["user", "assistant"]}, "content": {"type": "string"},
            "model": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"}}}}}}


def _codes(status: int) -> str:
    return ", ".join(f"`{code}`" for code, s in HTTP_STATUS.items() if s == status)


def _errors(*statuses: int) -> dict[str, Schema]:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in (*statuses, 503)}


def _body(spec: dict, required: bool = True) -> Schema:
    return {"required": required,
            "content": {"application/json": {"schema": object_schema(spec)}}}


def _register_body() -> Schema:
    """REGISTER's table checks types and sizes; the account rules are narrower, and said here."""
    body = _body(REGISTER)
    fields = body["content"]["application/json"]["schema"]["properties"]
    fields["email"].update(maxLength=credentials.MAX_EMAIL, pattern=credentials.EMAIL_PATTERN)
    fields["password"].update(minLength=credentials.MIN_PASSWORD,
                              maxLength=credentials.MAX_PASSWORD,
                              description="at least 8 characters and 4 different ones; not a "
                                          "common password, not the email")
    fields["display_name"]["anyOf"][0]["maxLength"] = credentials.MAX_DISPLAY_NAME
    return body


def _op(summary: str, responses: dict[str, Schema], *, tag: str, body: Schema | None = None,
        security: list | None = None, params: list | None = None) -> Schema:
    op: Schema = {"summary": summary, "tags": [tag], "responses": responses}
    if body is not None:
        op["requestBody"] = body
    op["security"] = security if security is not None else []
    if params:
        op["parameters"] = params
    return op


def _path_id(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 64}}


def _mail_paths(tag: str) -> Schema:
    """Links sent by mail. Without SMTP_URL the routes that send answer 404 (`not_found`)."""
    link_token = "the token from the link (`#reset=` / `#verify=`)"
    confirm = _body(CONFIRM)
    fields = confirm["content"]["application/json"]["schema"]["properties"]
    fields["token"]["description"] = link_token
    fields["password"].update(minLength=credentials.MIN_PASSWORD,
                              maxLength=credentials.MAX_PASSWORD)
    sent = {"type": "object", "required": ["verified", "sent"],
            "properties": {"verified": {"type": "boolean"}, "sent": {"type": "boolean"}}}
    return {
        "/api/v1/auth/password-reset": {"post": _op(
            "Mail a password-reset link (30 minutes, single use) if the email has an account; "
            "the answer is the same either way, and the mail goes in the background",
            {"202": _json({"type": "object", "required": ["requested"],
                           "properties": {"requested": {"const": True}}}, "asked"),
             **_errors(400, 404, 413, 429)}, tag=tag, body=_body(RESET))},
        "/api/v1/auth/password-reset/confirm": {"post": _op(
            "Set a new password with a reset link's token; every session of the account ends",
            {"200": _json({"type": "object", "required": ["changed", "email"],
                           "properties": {"changed": {"const": True},
                                          "email": {"type": "string"}}}, "changed; log in"),
             **_errors(400, 413, 429)}, tag=tag, body=confirm)},
        "/api/v1/auth/verify-email": {"post": _op(
            "Confirm an account's email with a verification link's token (no session needed)",
            {"200": _json({"type": "object", "required": ["verified", "email"],
                           "properties": {"verified": {"const": True},
                                          "email": {"type": "string"}}}, "verified"),
             **_errors(400, 413, 429)}, tag=tag, body=_body(VERIFY))},
        "/api/v1/auth/verify-email/resend": {"post": _op(
            "Mail another verification link (limited per address and per email)",
            {"200": _json(sent, "already verified: nothing sent"),
             "202": _json(sent, "a new link is on its way"),
             **_errors(400, 401, 404, 413, 429)},
            tag=tag, body=_body(RESEND, required=False), security=BEARER)},
    }


def _billing_paths(tag: str) -> Schema:
    """The payment providers' webhooks (no session: Stripe's signature, or YooKassa's API, is the
    proof) and the page they send the user back to. Without billing the webhooks are 404."""
    received = _json({"type": "object", "required": ["received", "outcome"], "properties": {
        "received": {"const": True}, "outcome": {"type": "string", "enum": [
            "credited", "duplicate", "settled", "flagged", "failed", "reversed", "ignored",
            "pending"]}}}, "committed (or nothing of ours): the provider stops retrying")
    event = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}},
             "description": "the provider's event, read raw (at most 64 KiB)"}
    return {
        "/api/v1/billing/webhooks/stripe": {"post": _op(
            "Stripe's events (checkout.session.*, charge.refunded, charge.dispute.created), "
            "verified by the Stripe-Signature header over the raw body; a paid order is credited "
            "exactly once", {"200": received, **_errors(400, 404, 413, 503)}, tag=tag,
            body=event, params=[{"name": "Stripe-Signature", "in": "header", "required": True,
                                 "schema": {"type": "string"}}])},
        "/api/v1/billing/webhooks/yookassa": {"post": _op(
            "YooKassa's notifications; the payment or refund named is fetched from YooKassa's "
            "API and only its answer is trusted", {"200": received, **_errors(400, 404, 413, 503)},
            tag=tag, body=event)},
        "/billing/return": {"get": _op(
            "Where the provider sends the user back: the web client, showing 'payment pending' "
            "until the webhook credits the order. It credits nothing",
            {"200": {"description": "the page",
                     "content": {"text/html": {"schema": {"type": "string"}}}}},
            tag=tag, params=[{"name": "order", "in": "query", "required": False,
                              "schema": {"type": "string"}}])},
    }


def document() -> Schema:
    schemas = {**_rows(), "Error": ERROR, "Tokens": TOKENS, "Transaction": TRANSACTION}
    auth = "auth"
    paths: Schema = {
        "/api/v1/auth/register": {"post": _op(
            "Create an account; answers tokens and sets the session cookie",
            {"201": _json(_ref("Tokens"), "the account and its first tokens"),
             **_errors(400, 409, 413, 429)}, tag=auth, body=_register_body())},
        "/api/v1/auth/login": {"post": _op(
            "Log in; answers tokens and sets the session cookie",
            {"200": _json(_ref("Tokens"), "a new session"), **_errors(400, 401, 413, 429)},
            tag=auth, body=_body(LOGIN))},
        "/api/v1/auth/refresh": {"post": _op(
            "Trade a refresh token for a new pair (the old one is spent; reusing it ends the "
            "session)", {"200": _json(_ref("Tokens"), "a new token pair"),
                         **_errors(400, 401, 413)}, tag=auth, body=_body(REFRESH))},
        "/api/v1/auth/logout": {"post": _op(
            "End the session (and its sockets)", {"204": {"description": "logged out"},
                                                  **_errors(400, 401, 413)},
            tag=auth, body=_body(LOGOUT, required=False), security=BEARER)},
        "/api/v1/auth/me": {"get": _op(
            "The logged-in user", {"200": _json(_ref("user"), "the user"), **_errors(401)},
            tag=auth, security=BEARER)},
        "/api/v1/auth/session": {"get": _op(
            "Who is signed in here, or null (200 either way: the web client's first probe)",
            {"200": _json({"type": "object", "required": ["user", "mail", "email_verification"],
                           "properties": {"user": {"anyOf": [_ref("user"), {"type": "null"}]},
                                          "mail": {"type": "boolean", "description":
                                                   "the server sends mail: offer a password reset"},
                                          "email_verification": {"type": "boolean", "description":
                                                                 "REQUIRE_EMAIL_VERIFICATION is on"}}},
                          "the user, or null; and what the login screen may offer")},
            tag=auth, security=[{}, *BEARER])},
        **_mail_paths(auth),
        **_billing_paths("billing"),
        "/api/v1/chats/{chat_id}/export": {"get": _op(
            "Download one chat: its active branch as Markdown, or its whole tree as JSON",
            {"200": {"description": "the chat, as a file", "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}}}},
             **_errors(400, 401, 404)}, tag="chats", security=BEARER,
            params=[_path_id("chat_id"),
                    {"name": "format", "in": "query", "required": False,
                     "schema": {"enum": ["md", "json"], "default": "md"}},
                    {"name": "lang", "in": "query", "required": False,
                     "schema": {"enum": ["en", "ru"], "default": "en"}}])},
        "/api/v1/shares/{share_id}": {"get": _op(
            "A share link's snapshot (anyone with the link; nothing of its owner)",
            {"200": _json(SHARED, "the title, when it was shared, the messages"),
             **_errors(404)}, tag="shares", params=[_path_id("share_id")])},
        "/api/v1/shares/{share_id}/continue": {"post": _op(
            "Copy a shared snapshot into a new chat of your own (free; the owner's is untouched)",
            {"201": _json({"type": "object", "required": ["chat"],
                           "properties": {"chat": _ref("chat")}}, "the new chat"),
             **_errors(401, 404, 429)}, tag="shares", security=BEARER,
            params=[_path_id("share_id")])},
        "/s/{share_id}": {"get": _op(
            "The public page of a share link (HTML, noindex; a revoked or unknown id is 404)",
            {"200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}},
             "404": {"description": "no such share", "content": {"text/html": {"schema": {"type": "string"}}}}},
            tag="shares", params=[_path_id("share_id")])},
        "/api/v1/account/export": {"get": _op(
            "Download my data: one zip (streamed) of the profile, every chat's whole tree, every "
            "transaction and the files' bytes; see docs/PROTOCOL.md for its entries",
            {"200": {"description": "the zip, chunked", "content": {
                "application/zip": {"schema": {"type": "string", "contentMediaType":
                                               "application/zip"}}}},
             **_errors(400, 401)}, tag="account", security=BEARER,
            params=[{"name": "lang", "in": "query", "required": False,
                     "schema": {"enum": ["en", "ru"]},
                     "description": "the README's language (default: Accept-Language)"}])},
        "/api/v1/chats/import": {"post": _op(
            "Import chats: our JSON export (one chat or a list) or ChatGPT's conversations.json, "
            "as the body or a multipart field `file`; all of it or nothing, free of charge",
            {"201": _json({"type": "object", "required": ["chats", "skipped"], "properties": {
                "chats": {"type": "array", "items": {
                    "type": "object", "required": ["id", "title", "message_count"],
                    "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                   "message_count": {"type": "integer"}}}},
                "skipped": {"type": "integer", "description": "conversations with nothing "
                                                             "to show, left out"}}},
                "the chats made, in the file's order"),
             **_errors(400, 401, 413, 429)}, tag="chats", security=BEARER,
            body={"required": True, "content": {
                "application/json": {"schema": IMPORT_FILE},
                "multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string",
                                            "contentMediaType": "application/json"}}}}}})},
        "/api/v1/files": {"post": _op(
            "Upload a file (multipart, field `file`); its type is read from its bytes",
            {"201": _json({"type": "object", "required": ["file"],
                           "properties": {"file": _ref("file")}}, "stored"),
             **_errors(400, 401, 403, 413, 415, 429)}, tag="files", security=BEARER,
            body={"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "contentMediaType":
                                        "application/octet-stream"}}}}}})},
        "/api/v1/files/{file_id}": {
            "get": _op("Download one of your files (as an attachment)",
                       {"200": {"description": "the bytes", "content": {
                           "application/octet-stream": {"schema": {}}}},
                        "206": {"description": "one byte range (`Range: bytes=…`)", "content": {
                            "application/octet-stream": {"schema": {}}}},
                        "410": {"description": "the stored bytes are gone"},
                        **_errors(401, 404)},
                       tag="files", security=BEARER, params=[_path_id("file_id")]),
            "delete": _op("Delete one of your files",
                          {"200": _json({"type": "object", "required": ["file_id", "deleted"],
                                         "properties": {"file_id": {"type": "string"},
                                                        "deleted": {"const": True}}}, "deleted"),
                           **_errors(401, 403, 404)},
                          tag="files", security=BEARER, params=[_path_id("file_id")])},
        "/healthz": {"get": _op("Liveness", {"200": _json(
            {"type": "object", "properties": {"status": {"const": "ok"}, "worker": {
                "type": "integer", "minimum": 1,
                "description": "which worker process answered (run.py serve --workers N)"}}},
            "alive")}, tag="ops")},
        "/readyz": {"get": _op("Readiness: database and broker (and the S3 bucket, with S3_BUCKET) answer, not shutting down", {
            "200": _json({"type": "object", "required": ["ready"],
                          "properties": {"ready": {"const": True}, "checks": {"type": "object"}}},
                         "ready"),
            "503": _json({"type": "object", "required": ["ready"],
                          "properties": {"ready": {"const": False}, "checks": {"type": "object"},
                                         "draining": {"type": "boolean"}}}, "not ready")},
            tag="ops")},
        "/metrics": {"get": _op("Prometheus metrics", {
            "200": {"description": "Prometheus text format",
                    "content": {"text/plain": {"schema": {"type": "string"}}}},
            "401": {"$ref": "#/components/responses/E401"}}, tag="ops",
            security=[{}, {"metrics": []}])},
    }
    paths.update(v1_paths(lambda status: {"$ref": f"#/components/responses/E{status}"}))
    paths.update(openapi_admin.admin_paths(sys.modules[__name__]))
    paths.update(openapi_admin.usage_paths(sys.modules[__name__]))
    responses = {f"E{status}": _json(_ref("Error"), f"{text} ({_codes(status)})")
                 for status, text in ERRORS.items()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Chatwire REST API", "version": "1",
                 "description": "Auth, files, chat export and import, operations, and the OpenAI-compatible `/v1` routes (with a personal API key). Everything else (chats, messages, "
                                "streaming, credits, profile) is on the WebSocket at `/ws`: see "
                                "docs/PROTOCOL.md and docs/frames.schema.json."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "chatwire_session",
                           "description": "the web client's session; state changes also need a "
                                          "same-origin Origin header"},
                "apikey": SECURITY_SCHEME,
                "metrics": {"type": "http", "scheme": "bearer",
                            "description": "METRICS_TOKEN, when the server sets one"},
            },
        },
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


async def docs_page(request: web.Request) -> web.FileResponse:
    response = web.FileResponse(DOCS_PAGE)
    # Swagger UI sets inline styles; no inline scripts, nothing from another origin.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
    return response



def add_routes(app: web.Application) -> None:
    app[OPENAPI] = document()
    app.router.add_get("/api/openapi.json", openapi_json)
    app.router.add_get("/api/docs", docs_page)
