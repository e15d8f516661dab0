"""The one error hierarchy of Chatwire.

Every layer raises these; the server maps their `code` to a WebSocket reply or an HTTP status in
exactly one place (`server/errors.py`). Codes are part of the public contract: add, never rename.
"""
from __future__ import annotations

from typing import Any


class ChatwireError(Exception):
    """An error a client may see: a stable `code`, a human `message`, optional extra fields."""

    code = "internal"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        # The id of the request frame this error answers, when it was raised before the caller
        # could read one (a frame that failed validation still gets a correlated reply).
        self.request_id: str | int | None = None

    def answering(self, request_id: str | int | None) -> "ChatwireError":
        """This error, as the answer to the request frame `request_id`."""
        self.request_id = request_id
        return self

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


class BadRequest(ChatwireError):
    code = "bad_request"


class UnknownType(ChatwireError):
    code = "unknown_type"


class Unauthorized(ChatwireError):
    code = "unauthorized"


class Forbidden(ChatwireError):
    code = "forbidden"


class NotFound(ChatwireError):
    code = "not_found"


class Conflict(ChatwireError):
    code = "conflict"


class TooLarge(ChatwireError):
    code = "too_large"


class RateLimited(ChatwireError):
    """Carries `retry_after` (seconds) so both transports can tell the client when to try again."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


class InsufficientBalance(ChatwireError):
    code = "insufficient_balance"


class ProviderError(ChatwireError):
    code = "provider_error"


class ProviderUnavailable(ChatwireError):
    code = "provider_unavailable"


class UnsupportedFileType(ChatwireError):
    code = "unsupported_file_type"


class EmailUnverified(ChatwireError):
    """REQUIRE_EMAIL_VERIFICATION is on and the account has not followed its mailed link yet."""

    code = "email_unverified"


class SpendCapReached(ChatwireError):
    """The reply's worst case would take the user past their daily or monthly spend cap; carries
    `cap` (which), `limit`, `left` and `resets_at`."""

    code = "spend_cap_reached"


class AccountDisabled(ChatwireError):
    """An admin disabled this account: log-in, refresh and every token are refused until enabled."""

    code = "account_disabled"


class Unavailable(ChatwireError):
    """A dependency (database pool, Redis) did not answer in time; the client may retry."""

    code = "unavailable"


class InternalError(ChatwireError):
    code = "internal"


# Each code is written once, in its class; the public list follows the classes' order.
ERROR_CODES: tuple[str, ...] = tuple(cls.code for cls in ChatwireError.__subclasses__())
