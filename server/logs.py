"""Structured logs: one JSON object per line, with the request or connection it belongs to.

What is logged is chosen at the call sites, and the rule there is: ids, counts, codes and timings,
never a password, a token, a key or what a user wrote. The access log records the path without its
query string for the same reason.
"""
from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

import orjson
from aiohttp import web

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
REQUEST_ID_HEADER = "X-Request-Id"
_GOOD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Fields a call site may pass with `extra=` that belong in the line.
FIELDS = ("connection_id", "user_id", "message_id", "chat_id", "method", "path", "status",
          "duration_ms", "remote", "bytes", "worker")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


# Line breaks and other control characters (C0, DEL, C1, the Unicode line separators): in a text
# log a request path like "/x%0aFORGED …" would otherwise write a line of its own.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class TextFormatter(logging.Formatter):
    """`time level logger message`, one line per record whatever the message holds (an
    exception's traceback follows on lines of its own, as Python prints it)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        return self._style._fmt % {**record.__dict__, "message": escape_controls(record.message)}


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Root logging for `run.py`: JSON lines on stderr (or plain text with LOG_FORMAT=text)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "text":
        handler.setFormatter(TextFormatter())
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def label_worker(worker: int) -> None:
    """Every record of this process names its worker (`serve --workers N`): their lines mix."""
    make = logging.getLogRecordFactory()

    def labelled(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        record.worker = worker
        return record
    logging.setLogRecordFactory(labelled)


def request_id_for(request: web.Request) -> str:
    """The caller's X-Request-Id when it is a plain token (a proxy's), else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _GOOD_ID.match(given) else uuid.uuid4().hex
