"""drafter.asgi_handoff on plain ASGI calls: a handed-off rest runs after the app has
returned, in the request's own task, the end-of-response callbacks after it (last
registered first, each even when another fails), the app's exited exit stacks leave the
scope, a rest handed off by an app that then fails is closed, and without the wrapper
nothing is taken."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from typing import Any

import pytest

from drafter.asgi_handoff import HandingOff, at_response_end, hand_off


async def _receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


async def _send(message: Any) -> None:
    pass


async def test_the_rest_runs_after_the_app_returned_and_the_callbacks_after_it() -> None:
    order: list[str] = []

    async def rest() -> None:
        await asyncio.sleep(0.01)
        order.append("rest")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async with contextlib.AsyncExitStack() as stack:
            scope["stack"] = stack
            assert at_response_end(scope, lambda: order.append("first registered"))
            assert at_response_end(scope, lambda: order.append("last registered"))
            assert hand_off(scope, rest())
        order.append("app returned")

    scope: dict[str, Any] = {"type": "http"}
    await HandingOff(app)(scope, _receive, _send)

    assert order == ["app returned", "rest", "last registered", "first registered"]
    assert "stack" not in scope  # exited with the app: not kept for the stream


async def test_a_failing_callback_does_not_stop_the_others() -> None:
    ran: list[str] = []

    def fails() -> None:
        raise RuntimeError("boom")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        at_response_end(scope, lambda: ran.append("counted"))
        at_response_end(scope, fails)

    await HandingOff(app)({"type": "http"}, _receive, _send)

    assert ran == ["counted"]


async def test_only_one_rest_is_taken() -> None:
    ran: list[str] = []

    async def rest(name: str) -> None:
        ran.append(name)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        second = rest("second")
        assert hand_off(scope, rest("first"))
        assert not hand_off(scope, second)
        await second

    await HandingOff(app)({"type": "http"}, _receive, _send)

    assert ran == ["second", "first"]


async def test_a_rest_handed_off_by_an_app_that_then_fails_is_closed_not_run() -> None:
    ran: list[str] = []

    async def rest() -> None:
        ran.append("rest")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert hand_off(scope, rest())
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError), warnings.catch_warnings():
        warnings.simplefilter("error")  # a coroutine never awaited would warn
        await HandingOff(app)({"type": "http"}, _receive, _send)

    assert ran == []


async def test_the_rest_runs_in_the_requests_own_task() -> None:
    tasks: list[asyncio.Task[Any] | None] = []

    async def rest() -> None:
        tasks.append(asyncio.current_task())

    async def app(scope: Any, receive: Any, send: Any) -> None:
        tasks.append(asyncio.current_task())
        assert hand_off(scope, rest())

    await HandingOff(app)({"type": "http"}, _receive, _send)

    assert tasks[0] is tasks[1] is not None


async def test_without_the_wrapper_nothing_is_taken() -> None:
    scope: dict[str, Any] = {"type": "http"}
    rest = asyncio.sleep(0)

    assert not hand_off(scope, rest)
    assert not at_response_end(scope, lambda: None)
    await rest
