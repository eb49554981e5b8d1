"""The accounts vocabulary: usage kinds and outcomes, by the names they carry outside.

These names are fixed. The plan table (``plans.toml``, ``DRAFTER_PLANS_FILE``), the usage
API's JSON, the ``kind`` and ``status`` columns of ``usage_records``, the quota counters
(SQL rows and Redis keys) and reservation ids all spell them like this. Each member is a
``str``, so it can be stored, formatted and compared as the plain name. The proto enums
(``UsageKind``, ``Outcome`` in ``accounts_service.proto``) map onto them in ``convert``.
"""

from __future__ import annotations

from enum import StrEnum


class UsageKind(StrEnum):
    """What a request used: one unit of a daily quota, or (``API_CALL``) a counted call
    that reserves nothing (the usage and models APIs)."""

    CHAT = "chat"
    IMAGE_GEN = "imageGen"
    IMAGE_EDIT = "imageEdit"
    API_CALL = "apiCall"


# The kinds a plan limits per UTC day, in the order the usage API and dashboard show them.
LIMITED_KINDS: tuple[UsageKind, ...] = (UsageKind.CHAT, UsageKind.IMAGE_GEN, UsageKind.IMAGE_EDIT)


class Outcome(StrEnum):
    """How a request ended, as Settle records it in ``usage_records.status``.
    ``SUCCEEDED`` keeps the units used and gives back the rest; ``ABANDONED`` (never
    settled by its caller: the accounts service settled it after its deadline, see
    ``usage.abandoned``) keeps every unit reserved; the others give them back."""

    SUCCEEDED = "succeeded"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"


# The ``status`` of a usage record written at Authorize, before its Settle: the request
# is in flight, its units are reserved (and counted). Settle or the abandoned sweep
# replaces it with an ``Outcome``.
RESERVED = "reserved"
