"""Usage analytics for the operator's console: each reply's time to first token, and the indexes
the views read by.

`messages.first_token_ms` is how long the provider took to send the reply's first token
(milliseconds, measured by the runner; NULL for rows from before, and for a reply that never got
one). The two partial indexes cover every column the views read, so a period is one range scan
of the index on both engines instead of a pass over every message or ledger row ever written:
assistant replies by time, and charges (`usage`, `refund`) by time. docs/BENCHMARKS.md says why
indexes and not a rollup table.
"""
from yoyo import step

__depends__ = {"0014_model_catalogue"}

STEPS = [
    ("ALTER TABLE messages ADD COLUMN first_token_ms INTEGER",
     "ALTER TABLE messages DROP COLUMN first_token_ms"),
    ("""CREATE INDEX messages_usage_time ON messages
            (created_at, model, status, user_id, prompt_tokens, completion_tokens, first_token_ms)
            WHERE role = 'assistant'""",
     "DROP INDEX messages_usage_time"),
    ("""CREATE INDEX transactions_spend_time ON transactions
            (created_at, user_id, amount, message_id) WHERE kind IN ('usage', 'refund')""",
     "DROP INDEX transactions_spend_time"),
]

steps = [step(apply, rollback) for apply, rollback in STEPS]
