"""docs/PROTOCOL.md must name every request type, event and error code the server has."""
import re
from pathlib import Path

from protocol import ERROR_CODES, REQUESTS

DOC = (Path(__file__).resolve().parent.parent / "docs" / "PROTOCOL.md").read_text()
EVENTS_IN_CODE = re.compile(r"""(?:publish\([^,]+,\s*|notify\([^,]+,\s*|_announce\([^,]+,\s*|event=|"type":\s*)"([a-z_]+(?:\.[a-z_]+)?)\"""")
ROOT = Path(__file__).resolve().parent.parent


def documented(name):
    return f"`{name}`" in DOC


def test_every_request_type_is_documented():
    assert [t for t in REQUESTS if not documented(t)] == []


def test_every_error_code_is_documented():
    assert [c for c in ERROR_CODES if not documented(c)] == []


def test_every_event_the_server_sends_is_documented():
    sent = set()
    for path in (ROOT / "server").rglob("*.py"):
        if path.name.startswith("openapi"):  # JSON Schema's "type": "string", not events
            continue
        sent |= set(EVENTS_IN_CODE.findall(path.read_text()))
    sent.discard("reply")
    assert sent >= {"chat.created", "chat.purged", "hello"}  # the scan itself works
    assert sorted(e for e in sent if not documented(e)) == []
