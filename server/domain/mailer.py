"""Sending mail through SMTP (aiosmtplib), in the background.

A request that sends mail (a password reset, a sign-up that must be verified) answers without
waiting for the SMTP server: a slow or dead server must not hold the request, and for a reset the
answer's timing must not depend on whether a mail was sent at all (that would tell who has an
account). So `post` starts a task and returns; a failure is logged (never the link) and the
person asks again. `close` lets the mails in flight finish, briefly.

`smtp://user:pass@host:587` upgrades with STARTTLS when the server offers it (required for
logging in: aiosmtplib refuses to send a password in the clear to a server that offers TLS and is
not asked to use it); `smtps://…:465` speaks TLS from the start.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib

log = logging.getLogger("chatwire.mail")


@dataclass(frozen=True)
class MailSettings:
    smtp_url: str
    mail_from: str
    timeout_s: float = 20.0


class Mailer:
    def __init__(self, settings: MailSettings) -> None:
        url = urlsplit(settings.smtp_url)
        self.settings = settings
        self._tls = url.scheme == "smtps"
        self._host = url.hostname or "localhost"
        self._port = url.port or (465 if self._tls else 587)
        self._login = (unquote(url.username), unquote(url.password or "")) if url.username else None
        self._pending: set[asyncio.Task[None]] = set()

    def message(self, to: str, subject: str, text: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.mail_from
        mail["To"] = to
        mail["Subject"] = subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self._host)
        mail.set_content(text)  # utf-8: Russian mails read as written
        return mail

    async def send(self, to: str, subject: str, text: str) -> None:
        """Send now, waiting for the server (at most `timeout_s`)."""
        options: dict[str, Any] = {"hostname": self._host, "port": self._port,
                                   "timeout": self.settings.timeout_s, "use_tls": self._tls}
        if self._login:
            options["username"], options["password"] = self._login
        await aiosmtplib.send(self.message(to, subject, text), **options)

    def post(self, job: Any) -> None:
        """Run `job` (a coroutine that ends by sending a mail) in the background."""
        task = asyncio.ensure_future(self._run(job))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _run(self, job: Any) -> None:
        try:
            await job
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # logged without the address or the link
            log.warning("a mail could not be sent: %s: %s", type(exc).__name__, exc)

    async def drain(self) -> None:
        """Wait for the mails in flight (tests; shutdown uses `close`)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def close(self, grace_s: float = 5.0) -> None:
        if not self._pending:
            return
        _, late = await asyncio.wait(list(self._pending), timeout=grace_s)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
