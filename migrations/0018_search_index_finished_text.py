"""SQLite's search indexes hold finished text only: a message while its reply streams, and an
empty text (a reply's row before its first token, a chat not yet titled) are left out.

Before, the FTS5 triggers indexed a reply's empty row when the turn was written, re-indexed its
whole partial text every second while it streamed (`messages.save_progress`), and once more at its
end: each a delete and an insert in the index, in the send's own transactions (issue 26 measured
the triggers at ~45% of a turn's SQL). Now a message is in `messages_fts` exactly when its
content is not empty and its status is not 'streaming', so a reply is indexed once, when it ends
(complete, stopped or failed with some text); likewise a chat is in `chats_fts` when its title is
not empty. A search therefore does not find a reply while it is still being written.

The triggers keep that rule on every insert, update and delete; this migration first takes out of
the indexes what the old triggers had put in and the rule leaves out, so the index and the rule
agree from the start (FTS5's 'delete' must be given exactly what was indexed). PostgreSQL's
search columns are untouched.
"""
from yoyo import step

__depends__ = {"0017_usage_user_spans"}

MESSAGE_IN = "{r}.content <> '' AND {r}.status IS NOT 'streaming'"
CHAT_IN = "{r}.title <> ''"


def _triggers(table: str, fts: str, column: str, rule: str) -> list[str]:
    old, new = rule.format(r="old"), rule.format(r="new")
    delete = f"INSERT INTO {fts}({fts}, rowid, {column}) SELECT 'delete', old.rowid, old.{column}"
    insert = f"INSERT INTO {fts}(rowid, {column}) SELECT new.rowid, new.{column}"
    watched = "content, status" if table == "messages" else column
    return [
        f"""CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} WHEN {new} BEGIN
            {insert}; END""",
        f"""CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} WHEN {old} BEGIN
            {delete}; END""",
        f"""CREATE TRIGGER {fts}_au AFTER UPDATE OF {watched} ON {table}
            WHEN (({old}) OR ({new})) AND NOT (({old}) AND ({new}) AND old.{column} IS new.{column})
            BEGIN
            {delete} WHERE {old};
            {insert} WHERE {new}; END""",
    ]


def _old_triggers(table: str, fts: str, column: str) -> list[str]:
    """What 0001 made: every row indexed, whatever its text."""
    delete = f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.rowid, old.{column})"
    insert = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.rowid, new.{column})"
    return [
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert}; END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete}; END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {column} ON {table} BEGIN {delete}; {insert}; END",
    ]


INDEXES = [("messages", "messages_fts", "content", MESSAGE_IN), ("chats", "chats_fts", "title", CHAT_IN)]


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def _retrigger(conn, finished_only: bool) -> None:
    """Swap each index's triggers, first taking out of it (or putting back into it) the rows the
    rule leaves out, so that index and triggers agree from the start."""
    if not _is_sqlite(conn):
        return
    cur = conn.cursor()
    for table, fts, column, rule in INDEXES:
        for suffix in ("ai", "ad", "au"):
            cur.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        left_out = rule.format(r=table)
        if finished_only:
            cur.execute(f"""INSERT INTO {fts}({fts}, rowid, {column})
                            SELECT 'delete', rowid, {column} FROM {table} WHERE NOT ({left_out})""")
            triggers = _triggers(table, fts, column, rule)
        else:
            cur.execute(f"""INSERT INTO {fts}(rowid, {column})
                            SELECT rowid, {column} FROM {table} WHERE NOT ({left_out})""")
            triggers = _old_triggers(table, fts, column)
        for sql in triggers:
            cur.execute(sql)


def apply(conn):
    _retrigger(conn, finished_only=True)


def rollback(conn):
    _retrigger(conn, finished_only=False)


steps = [step(apply, rollback)]
