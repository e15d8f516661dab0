"""The one error hierarchy of Chatwire.

Every layer raises these; the server maps their `code` to a WebSocket reply or an HTTP status in
exactly one place (`server/errors.py`). Codes are part of the public contract: add, never rename.
"""
from __future__ import annotations

from typing import Any

BAD_REQUEST = "bad_request"
UNKNOWN_TYPE = "unknown_type"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
CONFLICT = "conflict"
TOO_LARGE = "too_large"
RATE_LIMITED = "rate_limited"
INSUFFICIENT_BALANCE = "insufficient_balance"
PROVIDER_ERROR = "provider_error"
PROVIDER_UNAVAILABLE = "provider_unavailable"
UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
UNAVAILABLE = "unavailable"
INTERNAL = "internal"

ERROR_CODES = (
    BAD_REQUEST,
    UNKNOWN_TYPE,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    CONFLICT,
    TOO_LARGE,
    RATE_LIMITED,
    INSUFFICIENT_BALANCE,
    PROVIDER_ERROR,
    PROVIDER_UNAVAILABLE,
    UNSUPPORTED_FILE_TYPE,
    UNAVAILABLE,
    INTERNAL,
)


class ChatwireError(Exception):
    """An error a client may see: a stable `code`, a human `message`, optional extra fields."""

    code = INTERNAL

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


class BadRequest(ChatwireError):
    code = BAD_REQUEST


class UnknownType(ChatwireError):
    code = UNKNOWN_TYPE


class Unauthorized(ChatwireError):
    code = UNAUTHORIZED


class Forbidden(ChatwireError):
    code = FORBIDDEN


class NotFound(ChatwireError):
    code = NOT_FOUND


class Conflict(ChatwireError):
    code = CONFLICT


class TooLarge(ChatwireError):
    code = TOO_LARGE


class RateLimited(ChatwireError):
    """Carries `retry_after` (seconds) so both transports can tell the client when to try again."""

    code = RATE_LIMITED

    def __init__(self, message: str, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


class InsufficientBalance(ChatwireError):
    code = INSUFFICIENT_BALANCE


class ProviderError(ChatwireError):
    code = PROVIDER_ERROR


class ProviderUnavailable(ChatwireError):
    code = PROVIDER_UNAVAILABLE


class UnsupportedFileType(ChatwireError):
    code = UNSUPPORTED_FILE_TYPE


class Unavailable(ChatwireError):
    """A dependency (database pool, Redis) did not answer in time; the client may retry."""

    code = UNAVAILABLE


class InternalError(ChatwireError):
    code = INTERNAL
