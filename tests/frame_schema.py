"""Checks every frame the tests' client exchanges against the published JSON Schema.

What the server sends must match `docs/frames.schema.json`; what a test sent must match it too
whenever the server accepted it (a request refused as `bad_request` may be malformed on purpose).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from protocol.wire_schema import document

REFUSED_BY_SCHEMA = frozenset({"bad_request", "unknown_type"})
checked = {"sent": 0, "received": 0}


@lru_cache(maxsize=None)
def _validator(definition: str) -> Draft202012Validator:
    defs = document()["$defs"]
    if definition not in defs:
        raise AssertionError(f"the frame schema has no definition {definition!r}")
    return Draft202012Validator({"$defs": defs, "$ref": f"#/$defs/{definition}"})


def _check(definition: str, frame: Any) -> None:
    errors = sorted(_validator(definition).iter_errors(frame), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(frame)'}: {e.message}"
                            for e in errors[:3])
        raise AssertionError(f"frame does not match {definition} in the frame schema: {details}\n"
                             f"{frame!r}")


def check_received(frame: Any) -> None:
    kind = frame.get("type") if isinstance(frame, dict) else None
    _check("reply" if kind == "reply" else f"event.{kind}", frame)
    checked["received"] += 1


def check_accepted(sent: dict[str, Any], reply: dict[str, Any]) -> None:
    """`sent` was answered by `reply`: unless refused as malformed, it must match its schema."""
    if not reply.get("ok") and reply.get("error", {}).get("code") in REFUSED_BY_SCHEMA:
        return
    _check(f"request.{sent.get('type')}", sent)
    checked["sent"] += 1
