"""Per-user usage over whole calendar months and ISO weeks, for the views that group a period's
closed days by user (the top spenders, their replies, the period's active users): at 10,000 users
a day holds ~4,500 user rows, so 90 days of `usage_user_days` is ~400,000 rows to group, and a
month or a week holds one row per user active in it (≤ 10,000) instead of ~30 or ~7 times that.

`usage_user_spans` holds a span's sums per user: `span` is 'YYYY-MM' for a month or 'YYYY-Www'
for an ISO week (Monday to Sunday). A span is written once, when a report first covers all of its
days and every one of them is closed, by summing that span's `usage_user_days` rows (final once
written), so the two never disagree; `usage_spans_done` lists the spans written. A report reads
whole months, then whole weeks of what is left, then single days.

`usage_days_done.active_users` is the closed day's count of users with a reply (what the day view
shows per day), written with the day; the days closed before this migration are counted here.
docs/BENCHMARKS.md has the measurements behind the choice.
"""
from yoyo import step

__depends__ = {"0016_credit_packs"}

STEPS = [
    ("CREATE TABLE usage_spans_done (span TEXT PRIMARY KEY)", "DROP TABLE usage_spans_done"),
    ("""CREATE TABLE usage_user_spans (
            span TEXT NOT NULL, user_id TEXT NOT NULL, replies BIGINT NOT NULL,
            charges BIGINT NOT NULL, cost BIGINT NOT NULL, PRIMARY KEY (span, user_id))""",
     "DROP TABLE usage_user_spans"),
    ("ALTER TABLE usage_days_done ADD COLUMN active_users BIGINT",
     "ALTER TABLE usage_days_done DROP COLUMN active_users"),
    ("""UPDATE usage_days_done SET active_users = (
            SELECT COUNT(*) FROM usage_user_days u
            WHERE u.day = usage_days_done.day AND u.replies > 0)""",
     "SELECT 1"),
]

steps = [step(apply, rollback) for apply, rollback in STEPS]
