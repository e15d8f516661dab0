"""Erasing one account: every row keyed by the user goes, except the ledger, which moves to an
anonymised user of its own (a *tombstone*) so the books still add up.

Every function runs inside the caller's transaction (`Accounts` deletion holds the user's row lock
from the first statement). The tombstone has a new id, no email anyone could type into the
sign-in form, a password hash nothing verifies against, no sessions and nothing reserved; its
balance is what the user had left, which is the sum of the ledger rows it now holds.

Every table of migrations/ that names a user is handled here; a new one must be added (the
account-deletion test queries every table for the erased id and email).
"""
from __future__ import annotations

from .base import Executor, Row

# Not an argon2 hash: nothing verifies against it (see `Accounts._verify`).
UNUSABLE_PASSWORD = "!deleted"
TOMBSTONE_DOMAIN = "deleted.invalid"


def tombstone_email(tombstone_id: str) -> str:
    return f"deleted-{tombstone_id}@{TOMBSTONE_DOMAIN}"


async def streaming_reply(db: Executor, user_id: str) -> Row | None:
    """A reply of the user's still being generated (on any instance), if any."""
    return await db.fetchone(
        "SELECT id, chat_id FROM messages WHERE user_id = ? AND status = 'streaming' LIMIT 1",
        (user_id,))


async def file_paths(db: Executor, user_id: str) -> list[str]:
    """The blob keys of the user's files, under UPLOAD_DIR or in the S3 bucket (to remove once
    the rows are gone)."""
    rows = await db.fetchall("SELECT storage_path FROM files WHERE user_id = ?", (user_id,))
    return [row["storage_path"] for row in rows]


async def erase(db: Executor, user_id: str, *, tombstone_id: str, balance: int, now: str) -> None:
    """Move the ledger to the tombstone, then delete everything else of the user's."""
    email = tombstone_email(tombstone_id)
    await db.execute(
        """INSERT INTO users (id, email, email_key, password_hash, display_name, role, balance,
                              reserved, created_at, updated_at)
           VALUES (?, ?, ?, ?, '', 'user', ?, 0, ?, ?)""",
        (tombstone_id, email, email, UNUSABLE_PASSWORD, balance, now, now))
    # The rows' message ids would name deleted messages; the FK would null them anyway.
    await db.execute("UPDATE transactions SET user_id = ?, message_id = NULL WHERE user_id = ?",
                     (tombstone_id, user_id))
    # An operator's deposits to other people name who made them: the tombstone, from now on.
    await db.execute("UPDATE transactions SET created_by = ? WHERE created_by = ?",
                     (tombstone_id, user_id))
    # Orders are the provider's side of those deposits: a refund after the account is gone still
    # finds its order, and takes the credits back from the tombstone.
    await db.execute("UPDATE orders SET user_id = ? WHERE user_id = ?", (tombstone_id, user_id))
    # The usage rollups (closed days, months, weeks) follow the ledger they were summed from.
    await db.execute("UPDATE usage_user_days SET user_id = ? WHERE user_id = ?",
                     (tombstone_id, user_id))
    await db.execute("UPDATE usage_user_spans SET user_id = ? WHERE user_id = ?",
                     (tombstone_id, user_id))
    # The audit log keeps every record, naming the tombstone instead of the person (as actor and
    # as target): the only change the product ever makes to it.
    await db.execute("UPDATE audit_log SET actor_id = ?, actor_email = ? WHERE actor_id = ?",
                     (tombstone_id, email, user_id))
    await db.execute("UPDATE audit_log SET target_id = ? WHERE target_id = ?",
                     (tombstone_id, user_id))
    # Holds left by a crash (nothing streams: the caller checked under the lock).
    await db.execute("DELETE FROM holds WHERE user_id = ?", (user_id,))
    await db.execute(
        """DELETE FROM message_files WHERE message_id IN (SELECT id FROM messages WHERE user_id = ?)
              OR file_id IN (SELECT id FROM files WHERE user_id = ?)""", (user_id, user_id))
    await db.execute("DELETE FROM files WHERE user_id = ?", (user_id,))
    await db.execute("UPDATE chats SET current_message_id = NULL WHERE user_id = ?", (user_id,))
    await db.execute("DELETE FROM messages WHERE user_id = ?", (user_id,))
    await db.execute("DELETE FROM chat_tags WHERE user_id = ?", (user_id,))
    await db.execute("DELETE FROM shares WHERE user_id = ?", (user_id,))
    await db.execute("DELETE FROM chats WHERE user_id = ?", (user_id,))
    await db.execute("DELETE FROM folders WHERE user_id = ?", (user_id,))
    await db.execute("DELETE FROM user_profiles WHERE user_id = ?", (user_id,))
    await db.execute("DELETE FROM refresh_tokens WHERE user_id = ?", (user_id,))
    await db.execute("DELETE FROM mail_tokens WHERE user_id = ?", (user_id,))
    await db.execute("DELETE FROM api_keys WHERE user_id = ?", (user_id,))
    await db.execute("DELETE FROM users WHERE id = ?", (user_id,))
