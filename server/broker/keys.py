"""The names of everything the Redis engines keep, in one place (all under `chatwire:`)."""
from __future__ import annotations

PREFIX = "chatwire"
ONLINE = f"{PREFIX}:online"  # users scored by their latest device's expiry
EPOCH = f"{PREFIX}:epoch"  # names the event history every instance shares
CATALOGUE = f"{PREFIX}:catalogue"  # the channel that says the model catalogue changed


def channel(user_id: str) -> str:
    """A user's events, notices and close requests, for the instances with their sockets."""
    return f"{PREFIX}:user:{user_id}"


def seq_key(user_id: str) -> str:
    return f"{PREFIX}:seq:{user_id}"


def stream(user_id: str) -> str:
    """A user's kept events (the resume history)."""
    return f"{PREFIX}:events:{user_id}"


def stream_bytes(user_id: str) -> str:
    """How many bytes of payload the user's kept events hold (the history's second bound)."""
    return f"{PREFIX}:events-bytes:{user_id}"


def instance_channel(instance_id: str) -> str:
    """Control signals for one instance (stop a reply it runs)."""
    return f"{PREFIX}:instance:{instance_id}"


def window(key: str, window_s: int, start: int) -> str:
    return f"{PREFIX}:rate:{key}:{window_s}:{start}"


def presence_ids(user_id: str) -> str:
    return f"{PREFIX}:presence:{user_id}"


def presence_details(user_id: str) -> str:
    return f"{PREFIX}:devices:{user_id}"


def reply_slots(user_id: str) -> str:
    """A user's replies in flight on every instance, each scored by when its lease ends."""
    return f"{PREFIX}:replies:{user_id}"
