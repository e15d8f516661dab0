"""The one place errors become HTTP statuses and JSON bodies."""
from __future__ import annotations

from protocol import errors as e

HTTP_STATUS: dict[type[e.ChatwireError], int] = {
    e.BadRequest: 400,
    e.UnknownType: 400,
    e.Unauthorized: 401,
    e.InsufficientBalance: 402,
    e.Forbidden: 403,
    e.EmailUnverified: 403,
    e.AccountDisabled: 403,
    e.SpendCapReached: 402,
    e.NotFound: 404,
    e.Conflict: 409,
    e.TooLarge: 413,
    e.UnsupportedFileType: 415,
    e.RateLimited: 429,
    e.InternalError: 500,
    e.ProviderError: 502,
    e.ProviderUnavailable: 503,
    e.Unavailable: 503,
}

assert {cls.code for cls in HTTP_STATUS} == set(e.ERROR_CODES), "every error code needs an HTTP status"

# What aiohttp's own HTTP errors (no route, wrong method, body too large) are, as typed errors.
FROM_HTTP: dict[int, type[e.ChatwireError]] = {
    400: e.BadRequest, 401: e.Unauthorized, 403: e.Forbidden, 404: e.NotFound, 405: e.BadRequest,
    413: e.TooLarge, 415: e.UnsupportedFileType}


def http_status(error: e.ChatwireError) -> int:
    """The status of the error's class, or of the nearest class it refines (a domain's own
    BadRequest is still a 400)."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def body(error: e.ChatwireError) -> dict:
    return {"error": error.as_dict()}
