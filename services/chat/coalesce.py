"""Upstream events to the caller, coalescing pieces that are already waiting.

Adjacent pieces of the same choice and kind (answer text, thinking text, one tool call's
argument text) that arrived together travel as one event. A model producing tokens at
its own pace leaves nothing waiting, so nothing changes; a burst (one network read
carrying many events, or a busy process, whose unread bytes the transport hands over in
one read) costs one gRPC message, one SSE frame and one socket write instead of one per
piece.

The service reads one choice's batches (a list of events per upstream read) itself,
coalescing each (``coalesce``); several choices' batches come interleaved through
``interleaved``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable, Sequence

from drafter.chat.v1 import chat_service_pb2 as chat_pb

Event = chat_pb.StreamCompleteResponse

_DONE = object()


def merge_into(pending: Event, following: Event) -> bool:
    """Appends ``following`` to ``pending`` when both are pieces of the same thing."""
    if pending.WhichOneof("event") != "delta" or following.WhichOneof("event") != "delta":
        return False
    a, b = pending.delta, following.delta
    kind = a.WhichOneof("content")
    if b.choice_index != a.choice_index or b.WhichOneof("content") != kind:
        return False
    if kind == "text":
        a.text += b.text
    elif kind == "reasoning":
        a.reasoning += b.reasoning
    elif b.tool_call.index == a.tool_call.index and not b.tool_call.id:
        a.tool_call.arguments_json += b.tool_call.arguments_json
    else:
        return False
    return True


def coalesce(events: Iterable[Event]) -> list[Event]:
    """``events`` with adjacent pieces of the same thing merged into one (see merge_into)."""
    merged: list[Event] = []
    for event in events:
        if not merged or not merge_into(merged[-1], event):
            merged.append(event)
    return merged


async def interleaved(
    streams: Sequence[AsyncGenerator[list[Event], None]],
) -> AsyncGenerator[list[Event], None]:
    """The batches of ``streams`` (each a list of events per upstream read), interleaved
    as they come: each stream is read by a task of its own into one queue, and what is
    queued when the caller asks comes as one batch (for the caller to coalesce). The
    first failure ends all of them, after the events that came before it; closing this
    generator closes every upstream read."""
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def pump(stream: AsyncGenerator[list[Event], None]) -> None:
        try:
            async for batch in stream:
                queue.put_nowait(batch)
            queue.put_nowait(_DONE)
        except Exception as exc:
            queue.put_nowait(exc)
        finally:
            await stream.aclose()

    tasks = [asyncio.create_task(pump(stream)) for stream in streams]
    running = len(tasks)
    try:
        while running:
            items = [await queue.get()]
            while not queue.empty():
                items.append(queue.get_nowait())
            events: list[Event] = []
            failure: Exception | None = None
            for item in items:
                if item is _DONE:
                    running -= 1
                elif isinstance(item, Exception):
                    failure = item
                    break
                else:
                    events.extend(item)  # type: ignore[arg-type]
            if events:
                yield events
            if failure is not None:
                raise failure
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
