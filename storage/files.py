"""files and message_files: uploaded files (metadata; the bytes live in the blob store, under
UPLOAD_DIR or in the S3 bucket, by `storage_path`) and which messages they are attached to."""
from __future__ import annotations


from .base import Executor, Row

SELECT = ", ".join(f"f.{col}" for col in ("id", "name", "mime", "kind", "size", "sha256", "created_at",
                                         "storage_path"))


async def insert(db: Executor, *, id: str, user_id: str, name: str, mime: str, kind: str, size: int,
                 sha256: str, storage_path: str, text: str | None, now: str) -> None:
    await db.execute(
        """INSERT INTO files (id, user_id, name, mime, kind, size, sha256, storage_path, text, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (id, user_id, name, mime, kind, size, sha256, storage_path, text, now))


async def used_bytes(db: Executor, user_id: str) -> int:
    return int(await db.fetchval("SELECT COALESCE(SUM(size), 0) FROM files WHERE user_id = ?",
                                 (user_id,)))


async def get(db: Executor, user_id: str, file_id: str) -> Row | None:
    """The file if `user_id` owns it; None for missing and foreign alike."""
    return await db.fetchone(f"SELECT {SELECT} FROM files f WHERE f.id = ? AND f.user_id = ?",
                             (file_id, user_id))


async def get_many(db: Executor, user_id: str, file_ids: list[str]) -> dict[str, Row]:
    if not file_ids:
        return {}
    marks = ", ".join("?" for _ in file_ids)
    rows = await db.fetchall(
        f"SELECT {SELECT}, f.text FROM files f WHERE f.user_id = ? AND f.id IN ({marks})",
        (user_id, *file_ids))
    return {row["id"]: row for row in rows}


async def list_page(db: Executor, user_id: str, *, after: tuple[str, str] | None,
                    limit: int) -> list[Row]:
    """Newest first; `after` is the (created_at, id) of the last file of the previous page."""
    if after is None:
        return await db.fetchall(
            f"""SELECT {SELECT} FROM files f WHERE f.user_id = ?
                ORDER BY f.created_at DESC, f.id DESC LIMIT ?""", (user_id, limit))
    return await db.fetchall(
        f"""SELECT {SELECT} FROM files f
            WHERE f.user_id = ? AND (f.created_at < ? OR (f.created_at = ? AND f.id < ?))
            ORDER BY f.created_at DESC, f.id DESC LIMIT ?""",
        (user_id, after[0], after[0], after[1], limit))


async def delete(db: Executor, user_id: str, file_id: str) -> Row | None:
    return await db.fetchone(
        "DELETE FROM files WHERE id = ? AND user_id = ? RETURNING storage_path", (file_id, user_id))


async def attach(db: Executor, message_id: str, file_ids: list[str]) -> None:
    for file_id in file_ids:
        await db.write("INSERT INTO message_files (message_id, file_id) VALUES (?, ?)",
                         (message_id, file_id))


async def attached(db: Executor, message_ids: list[str]) -> dict[str, list[Row]]:
    """message id -> its files (with extracted text and storage path), in upload order."""
    if not message_ids:
        return {}
    marks = ", ".join("?" for _ in message_ids)
    rows = await db.fetchall(
        f"""SELECT mf.message_id, {SELECT}, f.text FROM message_files mf
            JOIN files f ON f.id = mf.file_id
            WHERE mf.message_id IN ({marks}) ORDER BY f.created_at, f.id""", tuple(message_ids))
    out: dict[str, list[Row]] = {}
    for row in rows:
        out.setdefault(row.pop("message_id"), []).append(row)
    return out
