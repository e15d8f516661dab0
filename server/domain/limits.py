"""Rate limits per user (sending, uploading), per address (signing up and in) and per account
(failed log-ins).

Fixed windows counted by the broker: in Redis, so a limit holds across every instance; in
process without it. Going over answers `rate_limited` with `retry_after` (seconds to the next
window). A limit of 0 turns it off.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from protocol.errors import RateLimited
from server import metrics


@runtime_checkable
class Counter(Protocol):
    async def count(self, key: str, window_s: int, by: int = 1) -> tuple[int, float]: ...

    async def forget(self, key: str, window_s: int) -> None: ...


@dataclass(frozen=True)
class LimitSettings:
    sends_per_minute: int = 30
    uploads_per_hour: int = 100
    auth_per_minute: int = 20
    writes_per_minute: int = 120
    analyses_per_hour: int = 30
    mail_per_ip_per_hour: int = 10
    mail_per_email_per_hour: int = 3
    api_key_per_minute: int = 60
    checkouts_per_minute: int = 10


class Limits:
    def __init__(self, counter: Counter, settings: LimitSettings) -> None:
        self.counter = counter
        self.settings = settings

    async def send(self, user_id: str) -> None:
        await self._check("send", user_id, self.settings.sends_per_minute, 60,
                          "messages a minute")

    async def api_key(self, key_id: str) -> None:
        """A `/v1` call through one API key (besides its user's `send` limit): a leaked or
        runaway script is held to its own pace (RATE_API_KEY_PER_MINUTE)."""
        await self._check("api-key", key_id, self.settings.api_key_per_minute, 60,
                          "requests a minute through this API key")

    async def upload(self, user_id: str) -> None:
        await self._check("upload", user_id, self.settings.uploads_per_hour, 3600,
                          "uploads an hour")

    async def write(self, user_id: str) -> None:
        """Every other request that changes something (chats, profile, files, branches): one
        account cannot make the server write without bound (300 chats with 19 KB prompts a second)."""
        await self._check("write", user_id, self.settings.writes_per_minute, 60,
                          "changes a minute")

    async def checkout(self, user_id: str) -> None:
        """`billing.checkout`: each one is an order row and a provider request."""
        await self._check("checkout", user_id, self.settings.checkouts_per_minute, 60,
                          "checkouts a minute")

    async def analysis(self, user_id: str) -> None:
        """`profile.analyze`: with an analysis model each call is a provider request, so it is
        limited hard rather than charged (analyses are not billed)."""
        await self._check("analyze", user_id, self.settings.analyses_per_hour, 3600,
                          "profile analyses an hour")

    async def auth(self, address: str) -> None:
        await self._check("auth", address, self.settings.auth_per_minute, 60,
                          "sign-up and log-in attempts a minute from one address")

    async def mail(self, address: str, email_key: str) -> None:
        """A mailed link (password reset, another verification): per client address and per
        email, whether or not it has an account; the email is counted as a hash."""
        await self._check("mail-ip", address, self.settings.mail_per_ip_per_hour, 3600,
                          "mails asked for an hour from one address")
        digest = hashlib.sha256(email_key.encode()).hexdigest()[:32]
        await self._check("mail-email", digest, self.settings.mail_per_email_per_hour, 3600,
                          "mails an hour to one address")

    async def _check(self, name: str, subject: str, limit: int, window_s: int, what: str) -> None:
        if limit <= 0:
            return
        hits, left = await self.counter.count(f"{name}:{subject}", window_s)
        if hits > limit:
            refuse(name, f"at most {limit} {what}; try again in {math.ceil(left)} s", left)


def refuse(limit: str, message: str, left_s: float) -> None:
    """Count the refusal and answer `rate_limited`, retrying when the window ends."""
    metrics.RATE_LIMITED.labels(limit).inc()
    raise RateLimited(message, retry_after=max(1, math.ceil(left_s)), limit=limit)


class LoginThrottle:
    """Log-in attempts per account: past `max_failures` in a window, `rate_limited` until it ends.

    Each attempt is counted *before* its password is checked, in one atomic increment, so that
    concurrent attempts each get a number of their own and no more than `max_failures` are ever
    checked (counted after the check, fifteen at once all slipped past a limit of five). A success
    starts the count over. The account is named by a hash of its email, so Redis never holds the
    address.
    """

    def __init__(self, counter: Counter, max_failures: int, window_s: int) -> None:
        self.counter = counter
        self.max_failures = max_failures
        self.window_s = window_s

    @staticmethod
    def _key(email_key: str) -> str:
        return "login-failures:" + hashlib.sha256(email_key.encode()).hexdigest()[:32]

    async def attempt(self, email_key: str) -> None:
        """Count one attempt; refuse it when the ones before it already used up the window."""
        attempts, left = await self.counter.count(self._key(email_key), self.window_s)
        if attempts > self.max_failures:
            refuse("login", "too many failed log-in attempts; try again later", left)

    async def succeeded(self, email_key: str) -> None:
        await self.counter.forget(self._key(email_key), self.window_s)
