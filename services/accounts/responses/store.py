"""The stored responses of the Responses API, one row per response, per user
(``stored_responses``). A response is kept ``retention`` after it was stored; one whose
time is over is answered as missing at once and deleted by the sweep (``retention``).
Every read and delete names the user: another user's response is not found, never
refused, so its existence does not show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.rpc.errors import AlreadyExists
from drafter.services.accounts.db.tables import stored_responses_t as stored
from drafter.services.accounts.db.upsert import dialect_insert
from drafter.timeutil import Clock, utc_now

DEFAULT_RETENTION = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One stored response; the JSON fields are kept as the edge sent them."""

    id: str
    previous_response_id: str
    response_json: str
    input_items_json: str
    conversation_json: str
    instructions: str
    created_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None


class ResponseStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        retention: dt.timedelta = DEFAULT_RETENTION,
        clock: Clock = utc_now,
    ) -> None:
        self._engine = engine
        self._retention = retention
        self._clock = clock

    async def put(self, user_id: str, response: StoredResponse) -> dt.datetime:
        """Stores ``response`` for ``user_id``, replacing the user's own row of the same
        id (storing again is idempotent); returns when it expires. The id of another
        user's response is refused (AlreadyExists), never overwritten."""
        now = self._clock()
        expires_at = now + self._retention
        values = {
            "id": response.id,
            "user_id": user_id,
            "previous_response_id": response.previous_response_id,
            "response_json": response.response_json,
            "input_items_json": response.input_items_json,
            "conversation_json": response.conversation_json,
            "instructions": response.instructions,
            "created_at": now,
            "expires_at": expires_at,
        }
        insert = dialect_insert(self._engine, stored).values(**values)
        stmt = insert.on_conflict_do_update(
            index_elements=[stored.c.id],
            set_={k: insert.excluded[k] for k in values if k not in ("id", "user_id")},
            where=stored.c.user_id == insert.excluded.user_id,
        ).returning(stored.c.id)
        async with self._engine.begin() as conn:
            written = (await conn.execute(stmt)).first()
        if written is None:
            raise AlreadyExists(
                f"Response id '{response.id}' is taken.", metadata={"param": "response_id"}
            )
        return expires_at

    async def get(self, user_id: str, response_id: str) -> StoredResponse | None:
        """The user's response ``response_id``, unless it is another's, gone or expired."""
        stmt = sa.select(stored).where(
            stored.c.id == response_id,
            stored.c.user_id == user_id,
            stored.c.expires_at > self._clock(),
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            return None
        return StoredResponse(
            id=row["id"],
            previous_response_id=row["previous_response_id"],
            response_json=row["response_json"],
            input_items_json=row["input_items_json"],
            conversation_json=row["conversation_json"],
            instructions=row["instructions"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
        )

    async def delete(self, user_id: str, response_id: str) -> bool:
        """Deletes the user's response ``response_id``; False when there was none (another
        user's, gone or expired)."""
        stmt = sa.delete(stored).where(
            stored.c.id == response_id,
            stored.c.user_id == user_id,
            stored.c.expires_at > self._clock(),
        )
        async with self._engine.begin() as conn:
            return bool((await conn.execute(stmt)).rowcount)


async def delete_expired(engine: AsyncEngine, now: dt.datetime) -> int:
    """Deletes every stored response whose time is over at ``now``; returns how many."""
    async with engine.begin() as conn:
        return (await conn.execute(sa.delete(stored).where(stored.c.expires_at <= now))).rowcount
