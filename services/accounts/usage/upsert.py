"""The one write of a usage record: ``INSERT … ON CONFLICT (id) DO UPDATE … WHERE status =
'reserved'``, on either database (``usage.log``, and ``usage.sqlite_batch`` for the batches
on a SQLite file).

A settlement replaces its journal row only while that is still ``reserved``, so a settled
row is never changed again. It sets only what a settlement changes: the columns taken
from the reservation (``RESERVATION_COLUMNS``) are the same in both rows, as both come
from the same signed reservation, and setting them again would only rewrite two index
entries and check the user's foreign key once more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from drafter.services.accounts.db.tables import usage_records_t as records
from drafter.services.accounts.vocab import RESERVED

if TYPE_CHECKING:
    from drafter.services.accounts.db.upsert import DialectInsert

# The columns a usage record takes from its reservation: its journal row and its
# settlement agree on them.
RESERVATION_COLUMNS = frozenset(
    {
        "id",
        "user_id",
        "credential_id",
        "app_id",
        "kind",
        "model",
        "quota_day",
        "units_reserved",
        "created_at",
    }
)


def record_upsert(insert: DialectInsert) -> sa.Insert:
    """``insert`` (into ``usage_records``) as the record's one write."""
    return insert.on_conflict_do_update(
        index_elements=[records.c.id],
        set_={
            c.name: insert.excluded[c.name]
            for c in records.columns
            if c.name not in RESERVATION_COLUMNS
        },
        where=records.c.status == sa.literal_column(f"'{RESERVED}'"),
    )
