"""The one place error codes become HTTP statuses and JSON bodies."""
from __future__ import annotations

from protocol import errors as e

HTTP_STATUS = {
    e.BAD_REQUEST: 400,
    e.UNKNOWN_TYPE: 400,
    e.UNAUTHORIZED: 401,
    e.INSUFFICIENT_BALANCE: 402,
    e.FORBIDDEN: 403,
    e.NOT_FOUND: 404,
    e.CONFLICT: 409,
    e.TOO_LARGE: 413,
    e.UNSUPPORTED_FILE_TYPE: 415,
    e.RATE_LIMITED: 429,
    e.INTERNAL: 500,
    e.PROVIDER_ERROR: 502,
    e.PROVIDER_UNAVAILABLE: 503,
    e.UNAVAILABLE: 503,
}

assert set(HTTP_STATUS) == set(e.ERROR_CODES), "every error code needs an HTTP status"


def http_status(error: e.ChatwireError) -> int:
    return HTTP_STATUS.get(error.code, 500)


def body(error: e.ChatwireError) -> dict:
    return {"error": error.as_dict()}
