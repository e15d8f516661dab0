"""Deleting one's own account (`account.delete`): everything of the user's goes for good.

Chats, messages, files (rows and bytes), the profile, sessions and refresh tokens are deleted; the
ledger stays, moved to an anonymised user (see storage/erasure.py), so `run.py ledger check` still
adds up and the operator's books keep every deposit and charge. The email is free to sign up again.

A reply still streaming refuses the deletion with `conflict` (stop it first): stopping it from here
would race its own last writes (the charge, the final text) against the deletion, on whichever
instance runs it. The check is made under the user's row lock, which a reply's start (its hold, its
rows' foreign keys) also needs, so none can begin between the check and the deletion.

The database work is one transaction; the files' bytes (on disk or in the bucket) are removed
after it commits (a failure there leaves orphan bytes, logged by key, never rows pointing at
missing bytes). Then every socket of the user closes
with 4401 (logged out) — the caller's own session's last, once it has answered (see
`close_caller`), so the client hears that the deletion succeeded.
"""
from __future__ import annotations

import logging
from typing import Any

from protocol.errors import Conflict, Unauthorized
from storage import Database, new_id, utcnow
from storage import erasure
from storage import ledger as account_rows

from .accounts import Accounts, Identity
from .blobs import BlobStore
from .events import CLOSE_LOGGED_OUT, EventSink

log = logging.getLogger("chatwire.accounts")

REASON = "account deleted"


class AccountDeletion:
    def __init__(self, db: Database, events: EventSink, accounts: Accounts,
                 blobs: BlobStore) -> None:
        self.db = db
        self.events = events
        self.accounts = accounts
        self.blobs = blobs

    async def delete(self, identity: Identity, password: str) -> dict[str, Any]:
        """Delete the account once `password` is right (wrong: `unauthorized`, field `password`,
        nothing changed). Every socket of the user but the caller's session's closes here."""
        await self.accounts.confirm_password(identity, password, "password")
        async with self.db.transaction() as tx:
            account = await account_rows.lock_account(tx, identity.user_id)
            if account is None:
                raise Unauthorized("this session has ended; log in again")
            streaming = await erasure.streaming_reply(tx, identity.user_id)
            if streaming is not None:
                raise Conflict("a reply is still streaming; stop it (message.stop) or let it "
                               "finish, then delete the account", chat_id=streaming["chat_id"],
                               message_id=streaming["id"])
            paths = await erasure.file_paths(tx, identity.user_id)
            await erasure.erase(tx, identity.user_id, tombstone_id=new_id(),
                                balance=int(account["balance"]), now=utcnow())
        failed = await self.blobs.delete_many(paths)
        if failed:
            log.warning("%d of a deleted account's files could not be removed from the %s "
                        "storage: %s", len(failed), self.blobs.kind, ", ".join(failed[:20]))
        await self.events.disconnect(identity.user_id, CLOSE_LOGGED_OUT, REASON,
                                     keep_session=identity.session_id)
        return {"deleted": True}

    async def close_caller(self, identity: Identity) -> None:
        """Close the sockets of the session that asked (after its answer is on its way)."""
        await self.events.disconnect(identity.user_id, CLOSE_LOGGED_OUT, REASON,
                                     only_session=identity.session_id)
