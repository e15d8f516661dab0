"""SQLite indexes finished messages for search in batches, not in the turn's own transactions.

Each transaction that wrote to `messages_fts` gave FTS5 a new segment of its own (a leaf, its
entry in `messages_fts_idx`, the structure and averages records rewritten, a `docsize` row, and
later merges of those one-row segments): ~5 pages in each of a turn's two commits, ~11% of a send's
CPU (issue 26, measured with the triggers dropped). Now the triggers only note a message's rowid in
`search_pending` (one small b-tree), and `storage.search_index.catch_up` moves what is noted into
the index many rows at a time: every few dozen commits beside the writes, and always before a
search reads the index, so a search finds a reply the moment it ended, as before.

The rule of 0018 holds: a message is indexed, or noted, exactly when its content is not empty and
its status is not 'streaming'. What is in the index is what is not noted, so a noted row's
delete or edit takes nothing out of the index (FTS5's 'delete' must be given exactly what was
indexed), and an edit of an indexed row takes the old text out and notes the new. Chat titles are
written once per chat and stay indexed at once (0018's triggers). PostgreSQL is untouched.
"""
from yoyo import step

__depends__ = {"0019_fewer_index_writes"}

IN = "{r}.content <> '' AND {r}.status IS NOT 'streaming'"
NOTED = "EXISTS (SELECT 1 FROM search_pending p WHERE p.rowid = {r}.rowid)"
TAKE_OUT = ("INSERT INTO messages_fts(messages_fts, rowid, content) "
            "SELECT 'delete', old.rowid, old.content")


def _in(r: str) -> str:
    return IN.format(r=r)


TRIGGERS = [
    f"""CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages WHEN {_in('new')} BEGIN
        INSERT OR IGNORE INTO search_pending (rowid) VALUES (new.rowid); END""",
    f"""CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages WHEN {_in('old')} BEGIN
        {TAKE_OUT} WHERE NOT {NOTED.format(r='old')};
        DELETE FROM search_pending WHERE rowid = old.rowid; END""",
    f"""CREATE TRIGGER messages_fts_au AFTER UPDATE OF content, status ON messages
        WHEN ({_in('old')}) OR ({_in('new')}) BEGIN
        {TAKE_OUT} WHERE ({_in('old')}) AND NOT {NOTED.format(r='old')}
            AND NOT (({_in('new')}) AND old.content IS new.content);
        DELETE FROM search_pending WHERE rowid = old.rowid AND NOT ({_in('new')});
        INSERT OR IGNORE INTO search_pending (rowid) SELECT new.rowid
            WHERE ({_in('new')}) AND (NOT ({_in('old')}) OR old.content IS NOT new.content); END""",
]

# 0018's, put back on rollback
OLD_TRIGGERS = [
    f"""CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages WHEN {_in('new')} BEGIN
        INSERT INTO messages_fts(rowid, content) SELECT new.rowid, new.content; END""",
    f"""CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages WHEN {_in('old')} BEGIN
        {TAKE_OUT}; END""",
    f"""CREATE TRIGGER messages_fts_au AFTER UPDATE OF content, status ON messages
        WHEN (({_in('old')}) OR ({_in('new')}))
            AND NOT (({_in('old')}) AND ({_in('new')}) AND old.content IS new.content)
        BEGIN
        {TAKE_OUT} WHERE {_in('old')};
        INSERT INTO messages_fts(rowid, content) SELECT new.rowid, new.content WHERE {_in('new')};
        END""",
]


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def _swap(cur, triggers: list[str]) -> None:
    for suffix in ("ai", "ad", "au"):
        cur.execute(f"DROP TRIGGER IF EXISTS messages_fts_{suffix}")
    for sql in triggers:
        cur.execute(sql)


def apply(conn):
    if not _is_sqlite(conn):
        return
    cur = conn.cursor()
    cur.execute("CREATE TABLE search_pending (rowid INTEGER PRIMARY KEY)")
    _swap(cur, TRIGGERS)  # 0018 left every row of the rule indexed: nothing is noted yet


def rollback(conn):
    if not _is_sqlite(conn):
        return
    cur = conn.cursor()
    cur.execute(f"""INSERT INTO messages_fts(rowid, content)
                    SELECT m.rowid, m.content FROM messages m
                    WHERE m.rowid IN (SELECT rowid FROM search_pending) AND {_in('m')}""")
    cur.execute("DROP TABLE search_pending")
    _swap(cur, OLD_TRIGGERS)


steps = [step(apply, rollback)]
