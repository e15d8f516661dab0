"""A real SMTP server on loopback (aiosmtpd, in its own thread) that keeps what it receives, for
tests that read the mails the server sends."""
from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.helpers import free_port, until


class _Keep:
    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.mails.append(mail)  # type: ignore[arg-type]
        return "250 OK"


class Mailbox:
    """Start it, point SMTP_URL at `url`, read `mails` (or wait with `next_mail`)."""

    def __init__(self) -> None:
        self._keep = _Keep()
        self.port = free_port()
        self._controller = Controller(self._keep, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def mails(self) -> list[EmailMessage]:
        return self._keep.mails

    def start(self) -> "Mailbox":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    async def next_mail(self, to: str, after: int = 0, timeout: float = 10.0) -> EmailMessage:
        """The first mail to `to` among those after the first `after` received."""
        def arrived() -> EmailMessage | None:
            return next((m for m in self.mails[after:] if m["To"] == to), None)
        return await until(arrived, timeout, what=f"a mail to {to}")


def link_in(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(r"https?://\S+", body.get_content())
    assert match, body.get_content()
    return match.group(0)


def token_in(mail: EmailMessage, purpose: str) -> str:
    link = link_in(mail)
    assert f"#{purpose}=" in link, link
    return link.split(f"#{purpose}=", 1)[1]
