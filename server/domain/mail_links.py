"""Links sent by mail: a password reset, and the verification of a new account's address.

Tokens are 256 random bits, kept only as a SHA-256, good once, for `RESET_TTL` (a reset) or
`VERIFY_TTL` (a verification), and bound to the address they were sent to: once the account's
email changes, its old links are void. A token that is unknown, spent, expired, made for the
other purpose or for an account whose address changed is refused with one and the same
`bad_request`, so a probe learns nothing from the difference.

Asking for a reset answers the same whether or not the account exists, and as fast: the lookup,
the token and the mail all happen in the background (`Mailer.post`). Asking is limited per client
address and per email, counted the same for addresses with and without an account.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from protocol import shapes
from protocol.errors import BadRequest, EmailUnverified, NotFound
from storage import Database, new_id, utcnow
from storage import mail_tokens, refresh_tokens, users
from storage.base import iso

from . import credentials, mail_texts
from .accounts import Accounts
from .events import CLOSE_LOGGED_OUT, EventSink
from .limits import Limits
from .mailer import Mailer

RESET_TTL = timedelta(minutes=30)
VERIFY_TTL = timedelta(hours=24)
LINK_INVALID = "this link is invalid, already used or expired; ask for a new one"
NO_MAIL = ("this server sends no mail; an operator can set a password with "
           "`run.py user set-password EMAIL`")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class MailLinks:
    def __init__(self, db: Database, events: EventSink, accounts: Accounts, limits: Limits,
                 mailer: Mailer | None, link_base: str, require_verification: bool) -> None:
        self.db = db
        self.events = events
        self.accounts = accounts
        self.limits = limits
        self.mailer = mailer
        self.link_base = link_base.rstrip("/")
        self.require_verification = require_verification

    def public_config(self) -> dict[str, bool]:
        """What a signed-out login screen may know: whether mail (so "Forgot password?") is on,
        and whether new accounts must confirm their address."""
        return {"mail": self.mailer is not None,
                "email_verification": self.require_verification}

    # -- password reset --

    async def request_reset(self, email: str, address: str, lang: str) -> dict[str, Any]:
        """Mail a reset link if `email` has an account; the answer never says whether it has."""
        mailer = self._mailer()
        _, email_key = credentials.normalise_email(email)
        await self.limits.mail(address, email_key)
        mailer.post(self._send_reset(email_key, lang))
        return {"requested": True}

    async def _send_reset(self, email_key: str, lang: str) -> None:
        user = await users.get_by_email(self.db, email_key)
        if user is None:
            return
        link = f"{self.link_base}/#reset={await self._issue(user, 'reset', RESET_TTL)}"
        subject, text = mail_texts.render("reset", lang, link, minutes=int(RESET_TTL.total_seconds()) // 60)
        await self._mailer().send(user["email"], subject, text)

    async def confirm_reset(self, token: str, password: str) -> dict[str, Any]:
        """The new password; every session of the account ends and its sockets close (4401).
        Following the link proves the mailbox, so the address counts as verified too."""
        row = await self._live(token, "reset")
        new_hash = await self.accounts.new_password_hash(password, row["email"])
        now = utcnow()
        async with self.db.transaction() as tx:
            if not await mail_tokens.spend(tx, row["id"], now):
                raise BadRequest(LINK_INVALID, field="token")
            await users.set_password_hash(tx, row["user_id"], new_hash, now)
            await refresh_tokens.revoke_all(tx, row["user_id"], now)
            await users.mark_verified(tx, row["user_id"], now)
            await mail_tokens.spend_all(tx, row["user_id"], "reset", now)
        await self.events.disconnect(row["user_id"], CLOSE_LOGGED_OUT, "password reset")
        return {"changed": True, "email": row["email"]}

    # -- email verification --

    def after_sign_up(self, user: dict[str, Any], lang: str) -> None:
        """Mail the new account its verification link, when verification is required."""
        if self.require_verification and self.mailer is not None and not user["email_verified"]:
            self.mailer.post(self._send_verification(user["id"], lang))

    async def resend(self, user_id: str, address: str, lang: str) -> dict[str, Any]:
        """Another verification link (limited like resets); nothing to send once verified."""
        mailer = self._mailer()
        user = await users.get(self.db, user_id)
        if user is None or user["email_verified_at"] is not None:
            return {"verified": True, "sent": False}
        await self.limits.mail(address, user["email"].casefold())
        mailer.post(self._send_verification(user_id, lang))
        return {"verified": False, "sent": True}

    async def _send_verification(self, user_id: str, lang: str) -> None:
        user = await users.get(self.db, user_id)
        if user is None or user["email_verified_at"] is not None:
            return
        link = f"{self.link_base}/#verify={await self._issue(user, 'verify', VERIFY_TTL)}"
        subject, text = mail_texts.render("verify", lang, link,
                                          hours=int(VERIFY_TTL.total_seconds()) // 3600)
        await self._mailer().send(user["email"], subject, text)

    async def verify(self, token: str) -> dict[str, Any]:
        """Mark the address proven; every device of the user hears `account.updated`."""
        row = await self._live(token, "verify")
        now = utcnow()
        async with self.db.transaction() as tx:
            if not await mail_tokens.spend(tx, row["id"], now):
                raise BadRequest(LINK_INVALID, field="token")
            await users.mark_verified(tx, row["user_id"], now)
            await mail_tokens.spend_all(tx, row["user_id"], "verify", now)
        user = shapes.user(await users.get(self.db, row["user_id"]) or {})
        await self.events.publish(row["user_id"], "account.updated", {"user": user})
        return {"verified": True, "email": row["email"]}

    async def require_verified(self, user_id: str) -> None:
        """Refuse (`email_unverified`) what an unverified account may not do: send messages."""
        if self.require_verification and not await users.is_verified(self.db, user_id):
            raise EmailUnverified("confirm your email address first: open the link we mailed "
                                  "you, or ask for another (POST /api/v1/auth/verify-email/resend)")

    # -- tokens --

    async def _issue(self, user: dict[str, Any], purpose: str, ttl: timedelta) -> str:
        token = secrets.token_urlsafe(32)
        now = datetime.now(timezone.utc)
        await mail_tokens.insert(self.db, id=new_id(), user_id=user["id"], purpose=purpose,
                                 token_hash=token_hash(token), email_key=user["email"].casefold(),
                                 now=iso(now), expires_at=iso(now + ttl))
        return token

    async def _live(self, token: str, purpose: str) -> dict[str, Any]:
        row = await mail_tokens.find_live(self.db, token_hash(token), purpose, utcnow())
        if row is None or row["sent_to"] != row["email_key"]:
            raise BadRequest(LINK_INVALID, field="token")
        return row

    def _mailer(self) -> Mailer:
        if self.mailer is None:
            raise NotFound(NO_MAIL)
        return self.mailer
