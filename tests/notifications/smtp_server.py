"""A real SMTP server on loopback (aiosmtpd, in its own thread) that keeps every message."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.stack import free_port


class _Collect:
    def __init__(self, inbox: list[EmailMessage], lock: threading.Lock) -> None:
        self._inbox, self._lock = inbox, lock

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._inbox.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class FakeSmtp:
    """``with FakeSmtp() as smtp:`` listens on ``smtp.url`` until the block ends."""

    def __init__(self) -> None:
        self.inbox: list[EmailMessage] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(
            _Collect(self.inbox, self._lock), hostname="127.0.0.1", port=self.port
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeSmtp:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.inbox if to is None or m["To"] == to]

    async def wait_for(self, to: str, count: int = 1, within_s: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + within_s
        while len(found := self.messages(to)) < count:
            assert time.monotonic() < deadline, f"{count} mail(s) to {to} never came: {found}"
            await asyncio.sleep(0.02)
        return found
