"""Accounts and sessions: sign-up, log-in, rotating refresh tokens, log-out, token checks.

A *session* is one log-in: a family of refresh tokens. Each refresh rotates the token; presenting a
token that was already rotated means it leaked, so the whole family is revoked. Access JWTs carry
their session id (`sid`), so revoking the family also ends the access tokens and sockets made from it.
"""
from __future__ import annotations

import asyncio
import hashlib
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
from passlib.hash import argon2

from protocol import shapes
from protocol.errors import AccountDisabled, Conflict, NotFound, Unauthorized
from storage import Database, IntegrityError, new_id, utcnow
from storage import admin_users, refresh_tokens, users
from storage.base import iso

from . import credentials
from .events import CLOSE_LOGGED_OUT, EventSink
from .ledger import Ledger
from .limits import Counter, LoginThrottle

JWT_ALGORITHM = "HS256"
LOGIN_FAILED = "invalid email or password"


@dataclass(frozen=True)
class AuthSettings:
    jwt_secret: str
    access_ttl_s: int = 15 * 60
    refresh_ttl_s: int = 30 * 24 * 3600
    argon2_time_cost: int | None = None  # None: libpass's defaults (argon2id, t=3, m=64 MiB)
    argon2_memory_cost: int | None = None
    # Hashes computed at once: each holds its memory cost (64 MiB by default) while it runs, so
    # fifteen log-ins at once held ~400 MB; the rest wait their turn.
    argon2_parallel: int = 1
    login_max_failures: int = 5
    login_window_s: int = 15 * 60
    signup_credits: int = 0  # micro-credits granted to each new account, as a ledger deposit
    default_daily_cap: int | None = None  # spend caps each new account starts with
    default_monthly_cap: int | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is on the other end of a request: the user, their role and the session it came from."""

    user_id: str
    session_id: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


DISABLED = "this account is disabled; ask an administrator"


def refuse_disabled(user: dict[str, Any]) -> None:
    """`account_disabled` for an account an admin disabled (log-in, refresh, every token)."""
    if user.get("disabled_at") is not None:
        raise AccountDisabled(DISABLED)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, db: Database, events: EventSink, ledger: Ledger, settings: AuthSettings,
                 counter: Counter) -> None:
        self.db = db
        self.events = events
        self.ledger = ledger
        self.settings = settings
        params: dict[str, Any] = {"type": "ID"}
        if settings.argon2_time_cost:
            params["rounds"] = settings.argon2_time_cost
        if settings.argon2_memory_cost:
            params["memory_cost"] = settings.argon2_memory_cost
        self._hasher = argon2.using(**params)
        # passlib picks its backend lazily on first use, and that is not thread-safe: the first
        # hashes of a fresh server run in threads at once. Pick it now, on the event loop.
        self._hasher.get_backend()
        self._throttle = LoginThrottle(counter, settings.login_max_failures, settings.login_window_s)
        self._dummy_hash: str | None = None
        self._hashing = asyncio.Semaphore(max(1, settings.argon2_parallel))

    # -- passwords (argon2 is deliberately slow: keep it off the event loop) --

    async def _hash(self, password: str) -> str:
        async with self._hashing:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def _verify(self, password: str, hashed: str) -> bool:
        if not hashed.startswith("$"):  # a deleted account's tombstone: nothing signs in as it
            return False
        async with self._hashing:
            return await asyncio.to_thread(self._hasher.verify, password, hashed)

    # -- sign-up and log-in --

    async def new_password_hash(self, password: str, email: str) -> str:
        """The hash of a new password for `email`'s account, once it passes the strength rules."""
        credentials.check_password(password, email)
        return await self._hash(password)

    async def create_user(self, email: str, password: str, display_name: str | None = None,
                          role: str = "user", verified: bool = True) -> dict[str, Any]:
        """An account; `verified` False for a sign-up (the address is proven by a mailed link),
        True for one an operator creates."""
        email, email_key = credentials.normalise_email(email)
        credentials.check_password(password, email)
        name = credentials.check_display_name(display_name, email)
        hashed = await self._hash(password)
        now = utcnow()
        try:
            async with self.db.transaction() as tx:
                row = await users.insert(tx, id=new_id(), email=email, email_key=email_key,
                                         password_hash=hashed, display_name=name, role=role, now=now,
                                         verified=verified)
                if self.settings.default_daily_cap is not None or \
                        self.settings.default_monthly_cap is not None:
                    await admin_users.set_default_caps(tx, row["id"],
                                                       self.settings.default_daily_cap,
                                                       self.settings.default_monthly_cap)
                if self.settings.signup_credits > 0:
                    _, account = await self.ledger.apply(
                        tx, row["id"], self.settings.signup_credits, kind="deposit",
                        note="welcome credits", idempotency_key="signup", created_by=None)
                    row = {**row, "balance": account["balance"]}
        except IntegrityError:
            raise Conflict("an account with this email already exists", field="email") from None
        return shapes.user(row)

    async def register(self, email: str, password: str, display_name: str | None,
                       user_agent: str = "") -> tuple[dict[str, Any], Identity]:
        user = await self.create_user(email, password, display_name, verified=False)
        return await self._start_session(user, user_agent)

    async def login(self, email: str, password: str,
                    user_agent: str = "") -> tuple[dict[str, Any], Identity]:
        key = email.strip().casefold()
        await self._throttle.attempt(key)
        row = await users.get_with_password(self.db, key)
        if row is None:
            # Same work as a real check, so timing does not reveal which emails exist.
            await self._verify(password, await self._dummy())
            ok = False
        else:
            ok = await self._verify(password, row["password_hash"])
        if not ok:
            raise Unauthorized(LOGIN_FAILED)  # the attempt is already counted
        await self._throttle.succeeded(key)
        assert row is not None
        refuse_disabled(row)
        if self._hasher.needs_update(row["password_hash"]):
            await users.set_password_hash(self.db, row["id"], await self._hash(password), utcnow())
        return await self._start_session(shapes.user(row), user_agent)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    async def _start_session(self, user: dict[str, Any],
                             user_agent: str) -> tuple[dict[str, Any], Identity]:
        identity = Identity(user["id"], new_id(), user["role"])
        refresh = await self._issue_refresh(self.db, identity, user_agent)
        return self._token_response(identity, refresh, user), identity

    # -- tokens --

    def _now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def _issue_refresh(self, db: Any, identity: Identity, user_agent: str,
                             token_id: str | None = None) -> str:
        token = secrets.token_urlsafe(32)
        now = self._now()
        await refresh_tokens.insert(
            db, id=token_id or new_id(), user_id=identity.user_id, family_id=identity.session_id,
            token_hash=_token_hash(token), user_agent=user_agent[:300], now=iso(now),
            expires_at=iso(now + timedelta(seconds=self.settings.refresh_ttl_s)),
        )
        return token

    def issue_access(self, identity: Identity) -> str:
        now = int(time.time())
        # Short on purpose: every request sends it, and a socket's handshake (which aiohttp keeps
        # while the socket lives) holds it twice. The role is read with the session, never trusted
        # from a token, and nothing looks tokens up by id.
        claims = {"sub": identity.user_id, "sid": identity.session_id, "typ": "access",
                  "iat": now, "exp": now + self.settings.access_ttl_s}
        return jwt.encode(claims, self.settings.jwt_secret, algorithm=JWT_ALGORITHM)

    def _token_response(self, identity: Identity, refresh: str,
                        user: dict[str, Any]) -> dict[str, Any]:
        return {
            "access_token": self.issue_access(identity),
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": self.settings.access_ttl_s,
            "user": user,
        }

    async def refresh(self, token: str, user_agent: str = "") -> tuple[dict[str, Any], Identity]:
        row = await refresh_tokens.get_by_hash(self.db, _token_hash(token))
        now = utcnow()
        if row is None or row["expires_at"] <= now:
            raise Unauthorized("refresh token is invalid or expired")
        if row["revoked_at"] is not None:
            await self._end_stolen(row["user_id"], row["family_id"])
            raise Unauthorized("refresh token was already used; this session has been ended")
        user = await users.get(self.db, row["user_id"])
        if user is None:
            raise Unauthorized("refresh token is invalid or expired")
        refuse_disabled(user)
        identity = Identity(user["id"], row["family_id"], user["role"])
        successor_id = new_id()
        try:
            async with self.db.transaction() as tx:
                new_token = await self._issue_refresh(tx, identity, user_agent, successor_id)
                if not await refresh_tokens.mark_rotated(tx, row["id"], successor_id, now):
                    raise _RotatedConcurrently()
        except _RotatedConcurrently:
            await self._end_stolen(row["user_id"], row["family_id"])
            raise Unauthorized("refresh token was already used; this session has been ended") from None
        return self._token_response(identity, new_token, shapes.user(user)), identity

    async def _revoke_family(self, user_id: str, family_id: str) -> None:
        await refresh_tokens.revoke_family(self.db, family_id, utcnow())

    async def _end_stolen(self, user_id: str, family_id: str) -> None:
        """A replayed refresh token: the session ends, and so do its open sockets, on every
        instance — as at logout, the user's sockets close (4401) and those of live sessions
        reconnect with their own tokens, while the stolen session's cannot."""
        await self._revoke_family(user_id, family_id)
        await self.events.disconnect(user_id, CLOSE_LOGGED_OUT, "session ended")

    async def logout(self, identity: Identity, refresh_token: str | None = None) -> None:
        """End this session (and the one `refresh_token` names, if it is the same user's), then
        close the user's open sockets; clients of other, still-live sessions reconnect."""
        await self._revoke_family(identity.user_id, identity.session_id)
        if refresh_token:
            row = await refresh_tokens.get_by_hash(self.db, _token_hash(refresh_token))
            if row is not None and row["user_id"] == identity.user_id:
                await self._revoke_family(identity.user_id, row["family_id"])
        await self.events.disconnect(identity.user_id, CLOSE_LOGGED_OUT, "logged out")

    async def authenticate_access_token(self, token: str) -> Identity:
        return (await self.token_user(token))[0]

    async def token_user(self, token: str) -> tuple[Identity, dict[str, Any]]:
        """The identity of a valid access token and the user's public profile, read at once: a
        socket greets with the user, and a reconnect storm should cost one statement a socket."""
        try:
            claims = jwt.decode(
                token, self.settings.jwt_secret, algorithms=[JWT_ALGORITHM],
                options={"require": ["sub", "sid", "typ", "exp", "iat"]},
            )
        except jwt.PyJWTError:
            raise Unauthorized("access token is invalid or expired") from None
        if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str) or not isinstance(
            claims.get("sid"), str
        ):
            raise Unauthorized("access token is invalid or expired")
        return await self.session_user(claims["sub"], claims["sid"])

    async def authenticate_session(self, user_id: Any, session_id: Any) -> Identity:
        """The identity of a live session, or `unauthorized` once it was logged out or revoked."""
        return (await self.session_user(user_id, session_id))[0]

    async def session_user(self, user_id: Any, session_id: Any) -> tuple[Identity, dict[str, Any]]:
        if not isinstance(user_id, str) or not isinstance(session_id, str):
            raise Unauthorized("not logged in")
        user = await users.get_in_live_session(self.db, user_id, session_id, utcnow())
        if user is None:
            raise Unauthorized("this session has ended; log in again")
        refuse_disabled(user)
        # Interned: an identity lives as long as its socket, and a user's sockets (often of one
        # session) then share one copy of the ids instead of one each.
        return Identity(sys.intern(user_id), sys.intern(session_id), user["role"]), shapes.user(user)

    async def change_password(self, identity: Identity, current_password: str,
                              new_password: str) -> dict[str, Any]:
        """A new password, given the current one (wrong: `unauthorized`, counted like a failed
        log-in). Every other session of the user ends and its sockets close (4401); this one
        stays."""
        user = await self.confirm_password(identity, current_password, "current_password")
        credentials.check_password(new_password, user["email"])
        new_hash = await self._hash(new_password)
        now = utcnow()
        async with self.db.transaction() as tx:
            await users.set_password_hash(tx, identity.user_id, new_hash, now)
            ended = await refresh_tokens.revoke_others(tx, identity.user_id, identity.session_id, now)
        await self.events.disconnect(identity.user_id, CLOSE_LOGGED_OUT, "password changed",
                                     keep_session=identity.session_id)
        return {"changed": True, "other_sessions_ended": ended > 0}

    async def confirm_password(self, identity: Identity, password: str,
                               field: str) -> dict[str, Any]:
        """The user (with their hash) once `password` is theirs; wrong: `unauthorized` naming
        `field`, counted like a failed log-in (so it cannot be guessed from an open socket)."""
        user = await users.get_with_password_by_id(self.db, identity.user_id)
        if user is None:
            raise Unauthorized("this session has ended; log in again")
        await self._throttle.attempt(user["email"].casefold())
        if not await self._verify(password, user["password_hash"]):
            raise Unauthorized(f"the {field.replace('_', ' ')} is not right", field=field)
        await self._throttle.succeeded(user["email"].casefold())
        return user

    async def set_password(self, email: str, new_password: str) -> dict[str, Any]:
        """An operator's reset (no mail server needed): the new password, and every session of
        the user ends — its sockets close too where this process can reach them (through Redis)."""
        row = await users.get_by_email(self.db, email.strip().casefold())
        if row is None:
            raise NotFound(f"no account for {email}")
        credentials.check_password(new_password, row["email"])
        new_hash = await self._hash(new_password)
        now = utcnow()
        async with self.db.transaction() as tx:
            await users.set_password_hash(tx, row["id"], new_hash, now)
            await refresh_tokens.revoke_all(tx, row["id"], now)
        await self.events.disconnect(row["id"], CLOSE_LOGGED_OUT, "password reset")
        return shapes.user(row)

    async def me(self, identity: Identity) -> dict[str, Any]:
        user = await users.get(self.db, identity.user_id)
        if user is None:
            raise Unauthorized("this session has ended; log in again")
        return shapes.user(user)


class _RotatedConcurrently(Exception):
    pass
