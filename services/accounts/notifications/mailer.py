"""Sending mail over SMTP (``DRAFTER_SMTP_URL``), or logging it when no server is set.

``smtp://user:pass@host:port`` uses STARTTLS when the server offers it; ``smtps://``
is TLS from the first byte. The stdlib ``smtplib`` runs in a worker thread, so the
event loop never waits on the mail server.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

log = logging.getLogger("drafter.accounts.mail")

SMTP_TIMEOUT_S = 10.0
CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to connect, parsed from ``DRAFTER_SMTP_URL``."""

    host: str
    port: int
    tls: bool
    username: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("DRAFTER_SMTP_URL must look like smtp://user:pass@host:port")
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            tls=tls,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )

    def connect(self, timeout: float) -> smtplib.SMTP:
        """An open connection, upgraded to TLS when possible and logged in when asked."""
        if self.tls:
            context = ssl.create_default_context()
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=timeout)
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
        if self.username:
            client.login(self.username, self.password)
        return client


class Mailer:
    """Sends one message at a time; without a server it only logs what it would send."""

    def __init__(self, smtp_url: str | None, sender: str) -> None:
        self._server = SmtpServer.from_url(smtp_url) if smtp_url else None
        self._sender = sender

    @property
    def configured(self) -> bool:
        return self._server is not None

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        return message

    async def send(self, message: EmailMessage) -> None:
        """Delivers ``message`` (raises on SMTP or network errors), or logs it."""
        if self._server is None:
            log.info(
                "mail not sent (no DRAFTER_SMTP_URL): to=%s subject=%r\n%s",
                message["To"],
                message["Subject"],
                message.get_content(),
            )
            return
        await asyncio.to_thread(self._send_sync, self._server, message)

    @staticmethod
    def _send_sync(server: SmtpServer, message: EmailMessage) -> None:
        with server.connect(SMTP_TIMEOUT_S) as client:
            client.send_message(message)

    async def check(self) -> tuple[bool, float, str]:
        """(up, latency ms, detail) of the mail server: connect and NOOP."""
        if self._server is None:
            return False, 0.0, "not configured"
        started = time.perf_counter()
        try:
            await asyncio.to_thread(self._noop_sync, self._server)
        except (OSError, smtplib.SMTPException) as exc:
            return False, (time.perf_counter() - started) * 1000, type(exc).__name__
        return True, (time.perf_counter() - started) * 1000, f"{self._server.host}"

    @staticmethod
    def _noop_sync(server: SmtpServer) -> None:
        with server.connect(CHECK_TIMEOUT_S) as client:
            client.noop()
