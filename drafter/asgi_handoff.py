"""A long response finished outside its request's middleware chain.

An ASGI request runs as one chain of coroutines: the server's, every middleware's, the
router's, the route's and the response's. For a JSON answer that chain lives for a few
milliseconds. A streamed answer holds it for as long as the model writes, and each of its
suspended frames keeps its locals: about 15 KB per open stream, most of what an idle
stream costs. Once a stream's head is on its way, nothing in that chain has anything left
to do but wait for the end.

So the server wraps the app in :class:`HandingOff`, which puts a :class:`Handoff` in the
scope's extensions (``HANDOFF``). A response that takes it (``hand_off``) gives it the
coroutine that sends the rest and returns: the whole chain unwinds and is freed, and
:class:`HandingOff` runs that coroutine instead, in the request's own task (no second
task per stream), so the server still sees one request that ends with its response.
What a middleware does at the end of the answer (a metric, a count of open streams) it
registers with ``at_response_end``, which runs it once the response is over, handed off
or not, in the request's task and context. Under a server without :class:`HandingOff`
(a test client), ``hand_off`` and ``at_response_end`` return False and the caller does
its work in place, as usual.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Rest = Coroutine[Any, Any, None]

log = logging.getLogger("drafter.edge")

HANDOFF = "drafter.handoff"
_EXIT_STACKS = (contextlib.AsyncExitStack, contextlib.ExitStack)


class Handoff:
    """One request's handed-off rest and its end-of-response callbacks."""

    __slots__ = ("ended", "rest")

    def __init__(self) -> None:
        self.rest: Rest | None = None
        self.ended: list[Callable[[], None]] = []


class HandingOff:
    """ASGI wrapper, outermost: runs a request's handed-off rest, then its
    end-of-response callbacks (last registered first, as ``finally`` blocks unwind)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handoff = Handoff()
        scope.setdefault("extensions", {})[HANDOFF] = handoff
        try:
            await self.app(scope, receive, send)
            rest, handoff.rest = handoff.rest, None
            if rest is not None:
                _drop_exited_stacks(scope)
                await rest
        finally:
            if handoff.rest is not None:  # the app failed after handing it off: never run
                handoff.rest.close()
                handoff.rest = None
            while handoff.ended:
                callback = handoff.ended.pop()
                try:
                    callback()
                except Exception:  # the others still run
                    log.exception("an end-of-response callback failed")


def _drop_exited_stacks(scope: Scope) -> None:
    """The exit stacks the app left in the scope (FastAPI's, one per layer of a request's
    dependencies) are exited once it has returned: a stream need not keep them."""
    for key in [key for key, value in scope.items() if isinstance(value, _EXIT_STACKS)]:
        del scope[key]


def _handoff(scope: Scope) -> Handoff | None:
    extensions = scope.get("extensions")
    return extensions.get(HANDOFF) if extensions else None


def hand_off(scope: Scope, rest: Rest) -> bool:
    """Gives the server ``rest`` (the coroutine sending the rest of the response) to run
    in the request's task after the app returns; False when the server cannot (then the
    caller runs it)."""
    handoff = _handoff(scope)
    if handoff is None or handoff.rest is not None:
        return False
    handoff.rest = rest
    return True


def at_response_end(scope: Scope, callback: Callable[[], None]) -> bool:
    """Runs ``callback`` once the response is over (after a handed-off rest); False when
    the server cannot (then the caller runs it when the app returns)."""
    handoff = _handoff(scope)
    if handoff is None:
        return False
    handoff.ended.append(callback)
    return True
