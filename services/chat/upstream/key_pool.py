"""The upstream API keys (``ANTHROPIC_API_KEYS``) as a pool: each upstream attempt leases
the key with the fewest requests in flight among those not cooling down (ties: the one
used least recently, so load spreads), or, when every key cools, the one that comes back
first. A key the upstream answered 429 (rate limited) or 529 (overloaded) cools down for
the answer's ``retry-after-ms`` / ``retry-after``, or a default when it sent neither.

Keys are known outside this module only by a label ("key-1", "key-2", ... in the order
configured) and a fingerprint (a prefix of the key's SHA-256: it names the key without
revealing any of its characters); the secret itself is only read to build the upstream's
credential header. Pure: the clock is injected, nothing here does I/O.
``upstream_keys_response`` is the pool's state as the chat service's GetUpstreamKeys
answers it.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.services.chat.upstream import retry

RATE_LIMITED = 429
OVERLOADED = 529
# Cooling when the upstream sent no retry-after: chosen, not documented by Anthropic.
# A 429 is per organization and minute (Anthropic's rate limits replenish continuously
# over the minute), so half a minute; a 529 is the API's overall load, which passes in
# seconds, so 5 s (the SDK's own backoff tops out at 8 s).
DEFAULT_COOLING_S = {RATE_LIMITED: 30.0, OVERLOADED: 5.0}
FINGERPRINT_HEX = 12


def fingerprint(secret: str) -> str:
    """A non-reversible name for a key: the first hex digits of its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()[:FINGERPRINT_HEX]


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """The wait the upstream asked for, read as the retries read it (``retry``:
    ``retry-after-ms``, else ``retry-after``); None when absent, unreadable or negative."""
    seconds = retry.retry_after_s(headers)
    return seconds if seconds is not None and seconds >= 0 else None


@dataclass(eq=False)
class UpstreamKey:
    """One key and what the pool knows of it."""

    label: str
    secret: str = field(repr=False)
    fingerprint: str = ""
    in_flight: int = 0
    cooling_until: float = 0.0  # on the pool's clock
    last_lease: int = 0  # the lease sequence number; 0: never leased
    requests: int = 0
    rate_limited: int = 0
    overloaded: int = 0
    last_status: int = 0  # 0: no answer yet (or the last attempt got none)

    def __post_init__(self) -> None:
        self.fingerprint = self.fingerprint or fingerprint(self.secret)


@dataclass(frozen=True, slots=True)
class KeyHealth:
    """A key's state for an operator: never the key."""

    label: str
    fingerprint: str
    in_flight: int
    cooling: bool
    cooling_for_s: float
    requests: int
    rate_limited: int
    overloaded: int
    last_status: int


class Lease:
    """One attempt's hold on a key; ``release()`` (idempotent) when its answer is closed."""

    __slots__ = ("_released", "key")

    def __init__(self, key: UpstreamKey) -> None:
        self.key = key
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self.key.in_flight -= 1


class KeyPool:
    """The keys in their configured order; ``clock`` is a monotonic clock in seconds."""

    def __init__(
        self, secrets: Sequence[str], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.keys = tuple(UpstreamKey(f"key-{i}", s) for i, s in enumerate(secrets, start=1))
        self._clock = clock
        self._sequence = itertools.count(1)

    def __len__(self) -> int:
        return len(self.keys)

    def _cooling(self, key: UpstreamKey, now: float) -> bool:
        return key.cooling_until > now

    def lease(self) -> Lease:
        """The least-in-flight key not cooling (ties: least recently leased), or the one
        that stops cooling first; counted in flight until the lease is released."""
        if not self.keys:
            raise LookupError("the key pool is empty")
        now = self._clock()
        ready = [k for k in self.keys if not self._cooling(k, now)]
        if ready:
            key = min(ready, key=lambda k: (k.in_flight, k.last_lease))
        else:
            key = min(self.keys, key=lambda k: k.cooling_until)
        key.in_flight += 1
        key.requests += 1
        key.last_lease = next(self._sequence)
        return Lease(key)

    def has_ready_key(self, other_than: UpstreamKey | None = None) -> bool:
        """Whether some key (other than ``other_than``) is not cooling down now."""
        now = self._clock()
        return any(k is not other_than and not self._cooling(k, now) for k in self.keys)

    def record(self, key: UpstreamKey, status: int, headers: Mapping[str, str]) -> bool:
        """Notes the upstream's answer status for ``key``; a 429 or 529 cools the key (see
        ``cool_down``). True when it did."""
        key.last_status = status
        if status == RATE_LIMITED:
            key.rate_limited += 1
        elif status == OVERLOADED:
            key.overloaded += 1
        else:
            return False
        self.cool_down(key, retry_after_s(headers), status)
        return True

    def cool_down(self, key: UpstreamKey, seconds: float | None, status: int) -> None:
        """Takes ``key`` out of rotation for ``seconds`` (the default of ``status`` when
        None); never shortens a cooling already longer."""
        if seconds is None:
            seconds = DEFAULT_COOLING_S.get(status, DEFAULT_COOLING_S[OVERLOADED])
        key.cooling_until = max(key.cooling_until, self._clock() + seconds)

    def health(self) -> list[KeyHealth]:
        """Every key's state, in the configured order."""
        now = self._clock()
        return [
            KeyHealth(
                label=k.label,
                fingerprint=k.fingerprint,
                in_flight=k.in_flight,
                cooling=self._cooling(k, now),
                cooling_for_s=max(0.0, k.cooling_until - now),
                requests=k.requests,
                rate_limited=k.rate_limited,
                overloaded=k.overloaded,
                last_status=k.last_status,
            )
            for k in self.keys
        ]


def upstream_keys_response(
    health: Sequence[KeyHealth], *, wall_clock: Callable[[], float] = time.time
) -> chat_pb.GetUpstreamKeysResponse:
    """GetUpstreamKeys' answer: each key's state, ``cooling_until`` on the wall clock."""
    response = chat_pb.GetUpstreamKeysResponse()
    now = wall_clock()
    for key in health:
        entry = response.keys.add(
            label=key.label,
            fingerprint=key.fingerprint,
            in_flight=key.in_flight,
            cooling=key.cooling,
            requests=key.requests,
            rate_limited=key.rate_limited,
            overloaded=key.overloaded,
            last_status=key.last_status,
        )
        if key.cooling:
            entry.cooling_until.FromNanoseconds(int((now + key.cooling_for_s) * 1e9))
    return response
