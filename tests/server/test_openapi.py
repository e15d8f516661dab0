"""The REST API against its own OpenAPI document, driven by schemathesis over a real server process:
no 500s, every status and body as documented, auth enforced where the document says so."""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.helpers import free_port, start_server

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """`run.py serve` on the embedded default, as a user would start it."""
    home = tmp_path_factory.mktemp("openapi")
    port = free_port()
    process = start_server(f"sqlite:///{home / 'openapi.db'}", home, port, REDIS_URL="",
                           RATE_AUTH_PER_MINUTE="0", RATE_UPLOADS_PER_HOUR="0", LOG_LEVEL="WARNING")
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, "the server exited at start"
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def api_schema(live_server):
    return schemathesis.openapi.from_url(f"{live_server}/api/openapi.json")


def fresh_bearer(base: str) -> dict[str, str]:
    """A new account per example, so one example's logout does not end the next one's session."""
    email = f"st-{uuid.uuid4().hex[:12]}@example.com"
    tokens = _post(f"{base}/api/v1/auth/register",
                   {"email": email, "password": "correct horse battery"})
    return {"Authorization": f"Bearer {tokens['access_token']}"}


ROUTES = [("POST", "/api/v1/auth/register"), ("POST", "/api/v1/auth/login"),
          ("POST", "/api/v1/auth/refresh"), ("POST", "/api/v1/auth/logout"),
          ("GET", "/api/v1/auth/me"), ("GET", "/api/v1/auth/session"),
          ("POST", "/api/v1/auth/password-reset"), ("POST", "/api/v1/auth/password-reset/confirm"),
          ("POST", "/api/v1/auth/verify-email"), ("POST", "/api/v1/auth/verify-email/resend"),
          ("GET", "/api/v1/chats/{chat_id}/export"), ("GET", "/api/v1/account/export"),
          ("POST", "/api/v1/chats/import"), ("POST", "/api/v1/files"),
          ("GET", "/api/v1/shares/{share_id}"), ("POST", "/api/v1/shares/{share_id}/continue"),
          ("GET", "/s/{share_id}"),
          ("GET", "/api/v1/files/{file_id}"), ("DELETE", "/api/v1/files/{file_id}"),
          ("POST", "/api/v1/admin/users/{user_id}/deposits"),
          ("GET", "/api/v1/admin/models"), ("POST", "/api/v1/admin/models"),
          ("PATCH", "/api/v1/admin/models/{model_id}"), ("GET", "/api/v1/admin/presence"),
          ("GET", "/api/v1/admin/users"), ("GET", "/api/v1/admin/users/{user_id}"),
          ("PATCH", "/api/v1/admin/users/{user_id}"),
          ("DELETE", "/api/v1/admin/users/{user_id}/sessions"), ("GET", "/api/v1/admin/audit"),
          ("GET", "/api/v1/admin/users/{user_id}/api-keys"),
          ("DELETE", "/api/v1/admin/api-keys/{api_key_id}"), ("GET", "/api/v1/admin/usage"),
          ("GET", "/api/v1/admin/orders"), ("POST", "/api/v1/admin/orders/{order_id}/resolve"),
          ("GET", "/api/v1/admin/packs"), ("POST", "/api/v1/admin/packs"),
          ("PATCH", "/api/v1/admin/packs/{pack_id}"),
          ("GET", "/v1/models"), ("GET", "/v1/models/{model}"), ("POST", "/v1/chat/completions"),
          ("POST", "/api/v1/billing/webhooks/stripe"), ("POST", "/api/v1/billing/webhooks/yookassa"),
          ("GET", "/billing/return"),
          ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")]
WITHOUT_INPUT = {("GET", "/v1/models"), ("GET", "/billing/return"), ("GET", "/api/v1/auth/me"), ("GET", "/api/v1/auth/session"), ("GET", "/api/v1/admin/presence"), ("GET", "/healthz"),
                 ("GET", "/readyz"), ("GET", "/metrics")}
# Where the server judges more than a schema can say, schema-valid input may rightly be refused:
# a password like "aaaaaaaa" (too easy), a file's bytes that are no accepted type, an import whose
# tree has a loop or names a node it lacks. A made-up reset or verification token is rightly
# refused, and this server sends no mail (404), nor sells credits (the webhooks are 404).
JUDGED_BEYOND_SCHEMA = {("POST", "/api/v1/auth/register"), ("POST", "/api/v1/files"),
                        ("POST", "/api/v1/chats/import"),
                        ("POST", "/api/v1/auth/password-reset"),
                        ("POST", "/api/v1/auth/password-reset/confirm"),
                        ("POST", "/api/v1/auth/verify-email"),
                        ("POST", "/api/v1/auth/verify-email/resend"),
                        ("POST", "/api/v1/billing/webhooks/stripe"),
                        ("POST", "/api/v1/billing/webhooks/yookassa"),
                        ("GET", "/api/v1/admin/usage")}  # a reversed or too long period: 400
# A multipart part is bytes whatever the schema says its type is: a "negative" `file` (an object, a
# number) arrives as a valid file, and extra form fields are skipped on purpose.
BYTES_ON_THE_WIRE = {("POST", "/api/v1/files"), ("POST", "/api/v1/chats/import")}
CASES = [(method, path, mode) for method, path in ROUTES
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode is GenerationMode.POSITIVE or (method, path) not in WITHOUT_INPUT]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_the_api_keeps_to_its_document(api_schema, live_server, method, path, mode):
    operation = api_schema.find_operation_by_path(method, path)
    assert operation is not None
    excluded = [positive_data_acceptance] if (method, path) in JUDGED_BEYOND_SCHEMA else []
    if (method, path) in BYTES_ON_THE_WIRE:
        excluded.append(negative_data_rejection)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def keeps_to_document(case):
        case.call_and_validate(headers=fresh_bearer(live_server), excluded_checks=excluded)

    keeps_to_document()


def test_the_document_is_openapi_3_1_and_covers_every_rest_route(live_server):
    with urllib.request.urlopen(f"{live_server}/api/openapi.json", timeout=5) as resp:
        doc = json.loads(resp.read())
    assert doc["openapi"] == "3.1.0"
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    assert documented == set(ROUTES)
