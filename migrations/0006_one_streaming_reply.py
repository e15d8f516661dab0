"""One reply streaming per chat: a second started beside it would be built on its unfinished text.

Rows left `streaming` by a server that died are orphans by the time migrations run (no server is
serving); all but the newest of a chat are marked `interrupted` first, as recovery would.
"""
from yoyo import step

__depends__ = {"0005_usage_breakdown"}

steps = [
    step("""UPDATE messages SET status = 'interrupted'
            WHERE status = 'streaming' AND id NOT IN (
                SELECT MAX(id) FROM messages WHERE status = 'streaming' GROUP BY chat_id)"""),
    step("""CREATE UNIQUE INDEX messages_one_streaming_per_chat ON messages (chat_id)
            WHERE status = 'streaming'""",
         "DROP INDEX messages_one_streaming_per_chat"),
]
