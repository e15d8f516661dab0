"""What a user changes about their own account: name, default model, and their sessions (each
log-in is one: where it came from, when it began and was last used; one can be ended from
another, closing its sockets). The password change is `Accounts.change_password`."""
from __future__ import annotations

from typing import Any

from protocol import shapes
from protocol.errors import BadRequest, NotFound, Unauthorized
from providers.registry import Model
from storage import Database, utcnow
from storage import refresh_tokens, users

from . import credentials
from .accounts import Identity
from .events import CLOSE_LOGGED_OUT, EventSink

_UNSET: Any = object()


class AccountSettings:
    def __init__(self, db: Database, events: EventSink, models: dict[str, Model]) -> None:
        self.db = db
        self.events = events
        self.models = models

    async def update(self, identity: Identity, display_name: Any = _UNSET,
                     default_model: Any = _UNSET) -> dict[str, Any]:
        """The fields given; `null` clears them. The user after, also sent to every device."""
        user = await users.get(self.db, identity.user_id)
        if user is None:
            raise Unauthorized("this session has ended; log in again")
        changes: dict[str, Any] = {}
        if display_name is not _UNSET:
            changes["display_name"] = credentials.check_display_name(display_name, user["email"])
        if default_model is not _UNSET:
            if default_model is not None and default_model not in self.models:
                raise BadRequest(f"unknown model {default_model!r}; models.list names the "
                                 "available ones", field="default_model")
            changes["default_model"] = default_model
        if not changes:
            raise BadRequest("account.update: give display_name or default_model")
        row = await users.update_settings(self.db, identity.user_id, changes, utcnow())
        shaped = shapes.user(row)
        await self.events.publish(identity.user_id, "account.updated", {"user": shaped})
        return {"user": shaped}

    async def sessions(self, identity: Identity) -> dict[str, Any]:
        rows = await refresh_tokens.live_sessions(self.db, identity.user_id, utcnow())
        return {"sessions": [{**row, "current": row["id"] == identity.session_id} for row in rows]}

    async def revoke(self, identity: Identity, session_id: str) -> dict[str, Any]:
        """End one of the user's sessions (this one too, if named: that is a log-out)."""
        if not await refresh_tokens.revoke_user_family(self.db, identity.user_id, session_id,
                                                       utcnow()):
            raise NotFound(f"session {session_id} does not exist", session_id=session_id)
        await self.events.disconnect(identity.user_id, CLOSE_LOGGED_OUT, "session ended",
                                     only_session=session_id)
        return {"revoked": session_id}
