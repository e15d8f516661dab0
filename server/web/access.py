"""The access log: one structured line per HTTP request (see `server.logs` for the format)."""
from __future__ import annotations

import logging
import re

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .forwarded import client_address

QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes: at DEBUG, not INFO
# A share link's id is its only secret: whoever reads the log must not be able to open it.
SECRET_IN_PATH = re.compile(r"^(/s/|/api/v1/shares/)[^/]+")


def logged_path(path: str) -> str:
    return SECRET_IN_PATH.sub(r"\1…", path)


class AccessLogger(AbstractAccessLogger):
    """Method, path without its query string, status, bytes, duration, the client's address."""

    __slots__ = ()  # one per connection, alive as long as a socket is: no attribute dict

    def log(self, request: web.BaseRequest, response: web.StreamResponse, elapsed: float) -> None:
        level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
        if not self.logger.isEnabledFor(level):
            return
        path = logged_path(request.path)
        self.logger.log(level, "%s %s %s", request.method, path, response.status, extra={
            "request_id": request.get("request_id"), "method": request.method,
            "path": path, "status": response.status,
            "duration_ms": round(elapsed * 1000, 2), "remote": client_address(request),
            "bytes": response.body_length})
