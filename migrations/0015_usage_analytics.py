"""Usage analytics for the operator's console: each reply's time to first token, the indexes the
live figures read by, and per-day rollups of the days that can no longer change.

`messages.first_token_ms` is how long the provider took to send the reply's first token
(milliseconds, measured by the runner; NULL for rows from before, and for a reply that never got
one). The two partial indexes cover every column the views read, so a stretch of time is one
range scan on both engines.

The `usage_*_days` tables hold a closed UTC day's figures (a day before today, none of whose
replies is still streaming: its ledger rows and message rows are final), written once, the first
time a report covers that day, from the same rows the live figures are read from — so a report
sums the rollup for closed days and the rows themselves for the rest, and nothing is added to a
reply's own transaction. `usage_days_done` lists the days written. `day` is 'YYYY-MM-DD' text on
both engines. docs/BENCHMARKS.md has the measurements behind the choice.
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
    ("CREATE TABLE usage_days_done (day TEXT PRIMARY KEY)", "DROP TABLE usage_days_done"),
    ("""CREATE TABLE usage_model_days (
            day TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL, status TEXT NOT NULL,
            replies BIGINT NOT NULL, prompt_tokens BIGINT NOT NULL,
            completion_tokens BIGINT NOT NULL, PRIMARY KEY (day, model, status))""",
     "DROP TABLE usage_model_days"),
    ("""CREATE TABLE usage_spend_days (
            day TEXT NOT NULL, model TEXT NOT NULL, cost BIGINT NOT NULL,
            PRIMARY KEY (day, model))""",
     "DROP TABLE usage_spend_days"),
    ("""CREATE TABLE usage_user_days (
            day TEXT NOT NULL, user_id TEXT NOT NULL, replies BIGINT NOT NULL DEFAULT 0,
            charges BIGINT NOT NULL DEFAULT 0, cost BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (day, user_id))""",
     "DROP TABLE usage_user_days"),
    ("""CREATE TABLE usage_wait_days (
            day TEXT NOT NULL, provider TEXT NOT NULL, ms INTEGER NOT NULL, n BIGINT NOT NULL,
            PRIMARY KEY (day, provider, ms))""",
     "DROP TABLE usage_wait_days"),
]

steps = [step(apply, rollback) for apply, rollback in STEPS]
