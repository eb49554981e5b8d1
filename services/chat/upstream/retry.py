"""When a failed upstream attempt is tried again, and after how long.

These are the anthropic SDK's rules, written out here so the request path needs no SDK
client: SDK 2.x, ``anthropic._base_client.BaseClient`` (``_should_retry``,
``_parse_retry_after_header``, ``_calculate_retry_timeout``) with the delays of
``anthropic._constants`` (``INITIAL_RETRY_DELAY``, ``MAX_RETRY_DELAY``). ``client``
applies them within the configured ``max_retries``; an attempt that got no answer at all
(a connection error or a timeout) is always tried again, as the SDK does.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping

INITIAL_DELAY_S = 0.5
MAX_DELAY_S = 8.0
# A wait the answer asks for is taken as it is, up to this (the SDK's bound, which keeps
# an absurd value such as "inf" from waiting forever).
MAX_ASKED_DELAY_S = 4_294_967.0
# Request timeout, lock timeout, rate limit; and every status from 500 up.
RETRIED_STATUSES = frozenset({408, 409, 429})


def should_retry(status: int, headers: Mapping[str, str]) -> bool:
    """Whether an error answer deserves another attempt: what its ``x-should-retry`` says
    when it says ``true`` or ``false`` (Anthropic's own header), else whether its status
    is one of ``RETRIED_STATUSES`` or a server error (500 and up)."""
    said = headers.get("x-should-retry")
    if said == "true":
        return True
    if said == "false":
        return False
    return status in RETRIED_STATUSES or status >= 500


def retry_after_s(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """The wait an answer asks for, in seconds: ``retry-after-ms``, else ``retry-after``
    as seconds or as an HTTP date (from ``now``); None when neither reads as one."""
    try:
        return float(headers["retry-after-ms"]) / 1000
    except (KeyError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    date = email.utils.parsedate_tz(value)
    if date is None:
        return None
    return float(email.utils.mktime_tz(date) - now())


def retry_delay_s(
    retries_taken: int,
    headers: Mapping[str, str] | None = None,
    *,
    jitter: Callable[[], float] = random.random,
    now: Callable[[], float] = time.time,
) -> float:
    """How long to wait before the next attempt, ``retries_taken`` retries in: the wait the
    answer asked for when it is more than 0, else exponential backoff (0.5 s, doubled with
    each retry taken, at most 8 s), less up to a quarter of it at random."""
    asked = retry_after_s(headers, now) if headers is not None else None
    if asked is not None and asked > 0:
        return min(asked, MAX_ASKED_DELAY_S)
    backoff = min(INITIAL_DELAY_S * 2.0 ** min(retries_taken, 1000), MAX_DELAY_S)
    return backoff * (1 - 0.25 * jitter())
