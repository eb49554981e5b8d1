"""Upstream events to the caller, coalescing pieces that are already waiting.

Each upstream stream is read by its own task into one queue. The caller takes an event,
then every event already queued behind it: adjacent pieces of the same choice and kind
(answer text, thinking text, one tool call's argument text) travel as one event. A model
producing tokens at its own pace leaves nothing queued, so nothing changes; a burst (one
network read carrying many events, or a busy process) costs one gRPC message, one SSE
frame and one socket write instead of one per piece.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

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


async def coalesced(streams: list[AsyncGenerator[Event, None]]) -> AsyncGenerator[Event, None]:
    """The events of ``streams`` (interleaved as they come), coalesced; the first failure
    ends all of them, and closing this generator cancels every upstream read."""
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def pump(stream: AsyncGenerator[Event, None]) -> None:
        try:
            async for event in stream:
                queue.put_nowait(event)
            queue.put_nowait(_DONE)
        except Exception as exc:
            queue.put_nowait(exc)
        finally:
            await stream.aclose()

    tasks = [asyncio.create_task(pump(stream)) for stream in streams]
    running = len(tasks)
    pending: Event | None = None
    try:
        while running:
            item = await queue.get()
            while True:
                if item is _DONE:
                    running -= 1
                elif isinstance(item, Exception):
                    if pending is not None:  # what came before the failure is delivered
                        yield pending
                    raise item
                elif pending is None or not merge_into(pending, item):  # type: ignore[arg-type]
                    if pending is not None:
                        yield pending
                    pending = item  # type: ignore[assignment]
                if queue.empty():
                    break
                item = queue.get_nowait()
            if pending is not None:
                yield pending
                pending = None
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
