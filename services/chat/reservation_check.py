"""Every chat request names the reservation that pays for it.

ChatService keeps no users or quotas, but it spends the operator's upstream key, so it
serves only work the accounts service has reserved: the caller (the edge, or any
internal gRPC consumer) first calls ``AccountsService.Authorize`` with the end user's
credential, then names the reservation id it got here, then settles it. The id is signed
by the accounts service (``drafter/reservations.py``); this checks the signature, that it
reserved chat, for this model, recently (within the reservation deadline, after which the
accounts service settles it as abandoned), and that it opens one request only: a replayed
id is refused for as long as it could still be honoured. The replay check is per
process; two chat replicas each honour an id once at most.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict

from drafter import reservations
from drafter.rpc.errors import NotFound, PermissionDenied
from drafter.timeutil import Clock, utc_now

CHAT_KIND = "chat"


class ReservationCheck:
    """Admits a request whose reservation id is genuine, for chat and this model, fresh,
    and not used before."""

    def __init__(
        self,
        key: bytes,
        deadline_s: float,
        clock: Clock = utc_now,
    ) -> None:
        self._key = key
        self._deadline = dt.timedelta(seconds=deadline_s)
        self._clock = clock
        # Ids already used, with when they stop being honoured anyway (oldest first).
        self._used: OrderedDict[str, dt.datetime] = OrderedDict()

    def admit(self, reservation_id: str, model: str) -> None:
        """Raises PermissionDenied unless ``reservation_id`` may open a request for ``model``
        (a model table id, as Authorize resolved it)."""
        if not reservation_id:
            raise _refused(
                "Every chat request must name the reservation AccountsService.Authorize"
                " granted for it (reservation_id)."
            )
        try:
            reservation = reservations.decode(reservation_id, self._key)
        except NotFound:
            raise _refused(
                "The reservation id is not one the accounts service signed (do the accounts"
                " and chat services share DRAFTER_RESERVATION_KEY?)."
            ) from None
        if reservation.kind != CHAT_KIND:
            raise _refused("The reservation was not made for chat.")
        if reservation.model != model:
            raise _refused(f"The reservation was made for `{reservation.model}`, not `{model}`.")
        now = self._clock()
        expires = reservation.created_at + self._deadline
        if now >= expires:
            raise _refused("The reservation has expired; authorize again.")
        self._forget_expired(now)
        if reservation.record_id in self._used:
            raise _refused("The reservation has already opened a request.")
        self._used[reservation.record_id] = expires

    def _forget_expired(self, now: dt.datetime) -> None:
        # Ids are added in about the order they expire (one deadline for all), so the
        # oldest are at the front.
        while self._used:
            record_id, expires = next(iter(self._used.items()))
            if expires > now:
                return
            del self._used[record_id]


def _refused(message: str) -> PermissionDenied:
    return PermissionDenied(message, metadata={"param": "reservation_id"})
