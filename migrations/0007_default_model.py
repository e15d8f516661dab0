"""A user's default model: the one the web client picks for a new chat."""
from yoyo import step

__depends__ = {"0006_one_streaming_reply"}

steps = [step("ALTER TABLE users ADD COLUMN default_model TEXT",
              "ALTER TABLE users DROP COLUMN default_model")]
