"""The published frame schema: current, complete, and as strict as the server where it can be."""
import re
from pathlib import Path

import orjson
import pytest
from jsonschema import Draft202012Validator

from protocol import REQUESTS, parse_request
from protocol.errors import ChatwireError
from protocol.wire_schema import EVENTS, document, render
from tests.frame_schema import check_accepted, check_received

ROOT = Path(__file__).resolve().parents[2]
EVENTS_IN_CODE = re.compile(r"""(?:publish\([^,]+,\s*|notify\([^,]+,\s*|_announce\([^,]+,\s*|event=|"type":\s*)"([a-z_]+(?:\.[a-z_]+)?)\"""")


def test_the_published_file_is_what_the_code_generates():
    published = (ROOT / "docs" / "frames.schema.json").read_bytes()
    assert published == render(), "run: python -m protocol.wire_schema > docs/frames.schema.json"


def test_it_is_a_valid_draft_2020_12_schema_referenced_from_the_protocol_doc():
    Draft202012Validator.check_schema(document())
    assert "frames.schema.json" in (ROOT / "docs" / "PROTOCOL.md").read_text()


def test_every_request_and_every_event_the_server_sends_has_a_definition():
    defs = document()["$defs"]
    assert [t for t in REQUESTS if f"request.{t}" not in defs] == []
    sent = set()
    for path in (ROOT / "server").rglob("*.py"):
        if path.name.startswith("openapi"):  # JSON Schema's "type": "string", not events
            continue
        sent |= set(EVENTS_IN_CODE.findall(path.read_text()))
    sent -= {"reply", *REQUESTS}
    assert {"chat.created", "hello"} <= sent  # the scan works
    assert sorted(sent - set(EVENTS)) == []


@pytest.mark.parametrize("frame", [
    {"type": "chat.create", "id": "1", "title": "Поездка", "tags": ["travel"]},
    {"type": "message.send", "id": 7, "chat_id": "c1", "content": "hi", "file_ids": ["f1"]},
    {"type": "profile.update", "values": ["honesty", {"text": "чтение", "weight": 0.5}]},
    {"type": "resume", "last_seq": 0},
])
def test_a_frame_the_server_accepts_matches(frame):
    parse_request(orjson.dumps(frame))  # the server's own check passes...
    check_accepted(frame, {"type": "reply", "id": frame.get("id"), "ok": True, "data": {}})


@pytest.mark.parametrize("frame", [
    {"type": "chat.update", "id": "1", "chat_id": "c1", "titel": "typo"},
    {"type": "chat.create", "id": "1", "favorite": "yes"},
    {"type": "message.send", "id": "1", "chat_id": "c1"},
    {"type": "message.send", "id": "1", "chat_id": "c1", "content": "a\u0000b"},
    {"type": "chat.list", "id": "1", "limit": 1000},
    {"type": "profile.update", "values": [{"text": "x", "weight": 2}]},
    {"type": "message.send", "id": {"nested": 1}, "chat_id": "c1", "content": "hi"},
])
def test_a_frame_the_server_refuses_does_not_match(frame):
    with pytest.raises(ChatwireError):
        parse_request(orjson.dumps(frame))
    with pytest.raises(AssertionError, match="does not match"):
        check_accepted(frame, {"type": "reply", "id": "1", "ok": True, "data": {}})


@pytest.mark.parametrize("frame", [
    {"type": "message.delta", "seq": 0, "chat_id": "c", "message_id": "m", "index": 0, "delta": "x"},
    {"type": "message.delta", "seq": 3, "chat_id": "c", "message_id": "m", "index": 0},
    {"type": "balance.updated", "seq": 3, "balance": 1.5, "reserved": 0, "available": 1},
    {"type": "reply", "id": "1", "ok": False, "error": {"code": "oops", "message": "?"}},
    {"type": "chat.teleported", "seq": 4},
])
def test_a_malformed_server_frame_is_caught(frame):
    with pytest.raises(AssertionError, match="does not match|no definition"):
        check_received(frame)
