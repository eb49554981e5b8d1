"""Reservation ids that carry their own reservation, so Authorize writes nothing to SQL.

``rsv_<nonce>.<payload>``: the nonce (128 random bits) becomes the usage record's id;
the payload (base64url JSON) holds who reserved what on which quota day. Any accounts
replica can settle it, and a refund after midnight goes back to the right day. Settling
is made exactly-once by the usage log (the record's primary key, or a Redis marker), not
by the id. The accounts RPCs are internal (the edge is their only caller), like
SetUserPlan, so the payload is not signed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from dataclasses import dataclass

import orjson

from drafter.rpc.errors import NotFound
from drafter.services.accounts.users.tokens import RESERVATION_PREFIX


@dataclass(frozen=True, slots=True)
class Reservation:
    record_id: str
    user_id: str
    credential_id: str
    kind: str
    model: str
    units: int
    day: dt.date
    created_at: dt.datetime
    # The OAuth app when the credential is a client token (usage records carry it).
    app_id: str | None = None


def new_record_id() -> str:
    return RESERVATION_PREFIX + secrets.token_urlsafe(16)


def encode(reservation: Reservation) -> str:
    payload = orjson.dumps(
        [
            reservation.user_id,
            reservation.credential_id,
            reservation.kind,
            reservation.model,
            reservation.units,
            reservation.day.toordinal(),
            int(reservation.created_at.timestamp() * 1000),
            reservation.app_id or "",
        ]
    )
    return f"{reservation.record_id}.{base64.urlsafe_b64encode(payload).decode().rstrip('=')}"


def decode(reservation_id: str) -> Reservation:
    """The reservation behind an id; NotFound for anything that is not one of ours."""
    record_id, _, payload = reservation_id.partition(".")
    try:
        if not record_id.startswith(RESERVATION_PREFIX) or not payload:
            raise ValueError("not a reservation id")
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        user_id, credential_id, kind, model, units, day, created_ms, *rest = orjson.loads(raw)
        return Reservation(
            record_id,
            str(user_id),
            str(credential_id),
            str(kind),
            str(model),
            int(units),
            dt.date.fromordinal(int(day)),
            dt.datetime.fromtimestamp(int(created_ms) / 1000, dt.UTC),
            str(rest[0]) if rest and rest[0] else None,
        )
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise NotFound("Unknown reservation.", metadata={"param": "reservation_id"}) from exc
