"""The OpenAPI part for API keys: the OpenAI-compatible `/v1` routes (their bodies and errors in
OpenAI's shapes) and the admin's key routes. Merged into the document by `openapi.document`."""
from __future__ import annotations

from typing import Any

from server.domain.openai_api import MAX_STOPS

Schema = dict[str, Any]
API_KEY = [{"apikey": []}]
ADMIN = [{"bearer": []}, {"cookie": []}]
SECURITY_SCHEME = {"type": "http", "scheme": "bearer",
                   "description": "a personal API key (`cwk-…`), from apikey.create or the "
                                  "account settings"}

OPENAI_ERROR: Schema = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["message", "type", "code"],
    "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                   "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}}}
MODEL: Schema = {"type": "object", "required": ["id", "object", "created", "owned_by"],
                 "properties": {"id": {"type": "string"}, "object": {"const": "model"},
                                "created": {"type": "integer"}, "owned_by": {"type": "string"}}}
PART: Schema = {"type": "object", "required": ["type"], "properties": {
    "type": {"enum": ["text", "image_url"]}, "text": {"type": "string"},
    "image_url": {"type": "object", "required": ["url"],
                  "properties": {"url": {"type": "string", "description": "a data: URL"}}}}}
MESSAGE: Schema = {"type": "object", "required": ["role", "content"], "properties": {
    "role": {"enum": ["system", "developer", "user", "assistant"]},
    "content": {"anyOf": [{"type": "string"},
                          {"type": "array", "minItems": 1, "items": PART}]},
    "name": {"type": "string"}}, "additionalProperties": False}
COMPLETION_BODY: Schema = {"type": "object", "required": ["model", "messages"], "properties": {
    "model": {"type": "string", "minLength": 1},
    "messages": {"type": "array", "minItems": 1, "items": MESSAGE},
    "stream": {"type": ["boolean", "null"]},
    "stream_options": {"type": ["object", "null"],
                       "properties": {"include_usage": {"type": "boolean"}},
                       "additionalProperties": False},
    "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
    "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
    "max_tokens": {"type": ["integer", "null"], "minimum": 1},
    "max_completion_tokens": {"type": ["integer", "null"], "minimum": 1},
    "stop": {"anyOf": [{"type": "string", "minLength": 1},
                       {"type": "array", "minItems": 1, "maxItems": MAX_STOPS,
                        "items": {"type": "string", "minLength": 1, "maxLength": 200}},
                       {"type": "null"}]},
    "n": {"anyOf": [{"const": 1}, {"type": "null"}]},
    "user": {"type": "string"}}, "additionalProperties": False}
USAGE: Schema = {"type": "object", "required": ["prompt_tokens", "completion_tokens",
                                                "total_tokens"],
                 "properties": {k: {"type": "integer"} for k in ("prompt_tokens",
                                                                "completion_tokens",
                                                                "total_tokens")}}
COMPLETION: Schema = {"type": "object", "required": ["id", "object", "created", "model",
                                                     "choices", "usage"], "properties": {
    "id": {"type": "string"}, "object": {"const": "chat.completion"},
    "created": {"type": "integer"}, "model": {"type": "string"},
    "choices": {"type": "array", "items": {"type": "object", "properties": {
        "index": {"type": "integer"}, "finish_reason": {"type": "string"},
        "message": {"type": "object", "properties": {"role": {"const": "assistant"},
                                                      "content": {"type": "string"}}}}}},
    "usage": USAGE}}
API_KEY_ROW: Schema = {"type": "object", "required": ["id", "name", "prefix", "created_at"],
                       "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                      "prefix": {"type": "string"},
                                      "models": {"type": ["array", "null"],
                                                 "items": {"type": "string"}},
                                      "monthly_cap": {"type": ["integer", "null"]},
                                      "created_at": {"type": "string"},
                                      "expires_at": {"type": ["string", "null"]},
                                      "last_used_at": {"type": ["string", "null"]},
                                      "revoked_at": {"type": ["string", "null"]}}}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Schema]:
    return {str(s): _json(OPENAI_ERROR, "an OpenAI-shaped error") for s in statuses}


def _id(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 64}}


def paths(ref_error: Schema) -> Schema:
    """The routes; `ref_error` is Chatwire's own error response (the admin routes answer it)."""
    v1 = "openai-compatible"
    admin_errors = {str(s): ref_error(s) for s in (401, 403, 404, 503)}
    return {
        "/v1/models": {"get": {
            "summary": "The models this API key may use", "tags": [v1], "security": API_KEY,
            "responses": {"200": _json({"type": "object", "required": ["object", "data"],
                                        "properties": {"object": {"const": "list"},
                                                       "data": {"type": "array", "items": MODEL}}},
                                       "models"), **_errors(401, 503)}}},
        "/v1/models/{model}": {"get": {
            "summary": "One model this API key may use", "tags": [v1], "security": API_KEY,
            "parameters": [_id("model")],
            "responses": {"200": _json(MODEL, "the model"), **_errors(401, 404, 503)}}},
        "/v1/chat/completions": {"post": {
            "summary": "An OpenAI-compatible chat completion, billed to the key's owner's "
                       "credits; `stream: true` answers server-sent events ending `data: [DONE]`",
            "tags": [v1], "security": API_KEY,
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": COMPLETION_BODY}}},
            "responses": {
                "200": {"description": "the completion, or (stream) its chunks",
                        "content": {"application/json": {"schema": COMPLETION},
                                    "text/event-stream": {"schema": {"type": "string"}}}},
                **_errors(400, 401, 403, 404, 413, 429, 502, 503)}}},
        "/api/v1/admin/users/{user_id}/api-keys": {"get": {
            "summary": "Every API key of a user, revoked ones too (admin)", "tags": ["admin"],
            "security": ADMIN, "parameters": [_id("user_id")],
            "responses": {"200": _json({"type": "object", "required": ["api_keys"],
                                        "properties": {"api_keys": {"type": "array",
                                                                    "items": API_KEY_ROW}}},
                                       "the keys"), **admin_errors}}},
        "/api/v1/admin/api-keys/{api_key_id}": {"delete": {
            "summary": "Revoke anyone's API key, at once on every instance (admin)",
            "tags": ["admin"], "security": ADMIN, "parameters": [_id("api_key_id")],
            "responses": {"200": _json({"type": "object", "required": ["api_key"],
                                        "properties": {"api_key": API_KEY_ROW}}, "revoked"),
                          **admin_errors}}},
    }
