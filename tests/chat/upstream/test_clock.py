"""The upstream clock (``services.chat.upstream.clock``): one timer per call, each wait of
a stream bounded, the waits of a whole-Message call bounded together, and a cancellation
from outside never mistaken for a timeout."""

from __future__ import annotations

import asyncio

import pytest

from drafter.rpc.errors import UpstreamTimeout
from drafter.services.chat.upstream.clock import UpstreamClock


async def test_a_stream_may_run_longer_than_its_timeout_while_each_event_is_on_time() -> None:
    clock = UpstreamClock(0.1, per_event=True, model="m")
    for _ in range(6):  # 0.24 s in all, each wait 0.04 s
        assert await clock.wait(asyncio.sleep(0.04, "event")) == "event"
    clock.stop()


async def test_a_stream_event_that_comes_too_late_fails_as_an_upstream_timeout() -> None:
    clock = UpstreamClock(0.1, per_event=True, model="m")
    await clock.wait(asyncio.sleep(0.05))
    started = asyncio.get_running_loop().time()

    with pytest.raises(UpstreamTimeout, match=r"did not send its next event within 0\.1 s"):
        await clock.wait(asyncio.sleep(1))

    assert asyncio.get_running_loop().time() - started < 0.5
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_wait_that_hears_from_the_upstream_counts_its_deadline_from_then() -> None:
    """Events taken as they arrive keep one wait going: each one heard moves its
    deadline, and only a silence past the timeout ends it."""
    clock = UpstreamClock(0.1, per_event=True, model="m")
    loop = asyncio.get_running_loop()
    for delay in (0.04, 0.08, 0.12, 0.16, 0.2):  # 0.2 s in all, heard every 0.04 s
        loop.call_later(delay, clock.heard)
    started = loop.time()

    with pytest.raises(UpstreamTimeout):
        await clock.wait(asyncio.sleep(1))

    assert 0.29 < loop.time() - started < 0.6  # the last heard at 0.2 s, then 0.1 s more
    clock.stop()


async def test_the_waits_of_a_whole_message_call_share_one_deadline() -> None:
    clock = UpstreamClock(0.15, per_event=False, model="m")
    await clock.wait(asyncio.sleep(0.1))

    with pytest.raises(UpstreamTimeout, match=r"did not answer within 0\.15 s"):
        await clock.wait(asyncio.sleep(0.1))
    with pytest.raises(UpstreamTimeout):  # past the deadline: refused at once
        await clock.wait(asyncio.sleep(0))


async def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    clock = UpstreamClock(0.05, per_event=True, model="m")

    async def waits() -> None:
        await clock.wait(asyncio.sleep(1))

    task = asyncio.create_task(waits())
    await asyncio.sleep(0.01)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.08)  # the timer fires with no wait in progress: nothing happens
    clock.stop()


async def test_the_clock_around_an_await_bounds_it_as_one_wait() -> None:
    """``with clock:`` is what a stream's reader does per event: the same bound as
    ``wait``, without a coroutine of the clock's own."""
    clock = UpstreamClock(0.1, per_event=True, model="m")
    for _ in range(3):
        with clock:
            await asyncio.sleep(0.04)

    late = pytest.raises(UpstreamTimeout, match=r"did not send its next event within 0\.1 s")
    with late, clock:
        await asyncio.sleep(1)

    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
    clock.stop()


async def test_the_clock_refuses_a_wait_past_the_deadline_before_its_body_runs() -> None:
    clock = UpstreamClock(0.05, per_event=False, model="m")
    await clock.wait(asyncio.sleep(0.03))
    await asyncio.sleep(0.03)  # past the call's deadline, between its waits
    ran = False

    with pytest.raises(UpstreamTimeout, match=r"did not answer within 0\.05 s"), clock:
        ran = True

    assert not ran


async def test_a_cancellation_from_outside_of_the_clock_around_an_await_stays_one() -> None:
    clock = UpstreamClock(0.05, per_event=True, model="m")

    async def waits() -> None:
        with clock:
            await asyncio.sleep(1)

    task = asyncio.create_task(waits())
    await asyncio.sleep(0.01)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.08)
    clock.stop()
