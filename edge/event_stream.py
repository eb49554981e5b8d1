"""A server-sent-events response on plain asyncio.

Starlette's ``StreamingResponse`` watches for the client going away with an anyio task
group and cancel scopes, which cost about as much CPU per stream as the rest of the
edge's SSE work. :class:`EventStreamResponse` does the same job with one asyncio task
that waits for ``http.disconnect`` and cancels the sending task. Either way the frames'
generator is closed, so whatever it reads from (a gRPC stream, and behind it the upstream
request) is cancelled with it.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


class EventStreamResponse(StreamingResponse):
    """``StreamingResponse`` (same constructor) whose disconnect watch is plain asyncio."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sending = asyncio.current_task()
        assert sending is not None
        gone = False

        async def watch_for_disconnect() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            gone = True
            sending.cancel()

        watcher = asyncio.get_running_loop().create_task(watch_for_disconnect())
        try:
            await self.stream_response(send)
        except asyncio.CancelledError:
            if not gone:
                raise
            sending.uncancel()  # the client left: nothing more to send, nothing failed
        finally:
            watcher.cancel()
            closing = getattr(self.body_iterator, "aclose", None)
            if closing is not None:
                with contextlib.suppress(Exception):
                    await closing()
        if self.background is not None:
            await self.background()
