"""Reservation ids for tests that call the chat service directly, signed as the accounts
service signs them (``drafter/reservations.py``) with the key the test servers use."""

from __future__ import annotations

import datetime as dt

from drafter import reservations
from drafter.timeutil import utc_now

# The reservation key of the chat servers the tests start (tests/chat/conftest.py).
TEST_RESERVATION_KEY = "test-reservation-key-4bX9q2LmV7cN1pR8sT3wY6zA0dF5gH"


def chat_reservation(
    model: str = "claude-haiku-4-5",
    *,
    kind: str = "chat",
    created_at: dt.datetime | None = None,
    key: str = TEST_RESERVATION_KEY,
) -> str:
    """A fresh, genuine reservation id for one chat request for ``model`` (a model table id)."""
    now = created_at or utc_now()
    reservation = reservations.Reservation(
        record_id=reservations.new_record_id(),
        user_id="user-test",
        credential_id="key-test",
        kind=kind,
        model=model,
        units=1,
        day=now.date(),
        created_at=now,
    )
    return reservations.encode(reservation, key.encode())
