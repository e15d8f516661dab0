"""Two index entries fewer written by every reply (issue 26: each is a page in a turn's commit).

- `messages_streaming` (status, for the streaming rows) duplicated
  `messages_one_streaming_per_chat`, a partial index over exactly the same rows: a query for the
  streaming rows (recovery's orphan sweep, a day's close, an erasure's check) reads that one now.
- `transactions_api_key` held an entry for every ledger row, though only the rows of /v1 calls
  have a key: it is partial now, and a key's spend (`api_key_id = ?`) reads it as before.
"""
from yoyo import step

__depends__ = {"0018_search_index_finished_text"}

STEPS = [
    ("DROP INDEX messages_streaming",
     "CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming'"),
    ("DROP INDEX transactions_api_key",
     "CREATE INDEX transactions_api_key ON transactions (api_key_id, created_at)"),
    ("""CREATE INDEX transactions_api_key ON transactions (api_key_id, created_at)
        WHERE api_key_id IS NOT NULL""",
     "DROP INDEX transactions_api_key"),
]

steps = [step(apply, rollback) for apply, rollback in STEPS]
