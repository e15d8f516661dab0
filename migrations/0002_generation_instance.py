"""Which server instance is generating a `streaming` message, so a restarted instance can mark its
own orphans `interrupted` at once without touching generations other instances are running."""
from yoyo import step

__depends__ = {"0001_initial"}

steps = [
    step("ALTER TABLE messages ADD COLUMN generation_instance TEXT",
         "ALTER TABLE messages DROP COLUMN generation_instance"),
]
