"""drafter.tasks.Periodic: rounds on time, first round now or after an interval, failures
logged without ending the task, wake, and stop (also in the middle of a round)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from drafter.tasks import Periodic


class Rounds:
    """Work that records when it ran, and can fail or hang on demand."""

    def __init__(self) -> None:
        self.count = 0
        self.fail = False
        self.hang = False
        self.ran = asyncio.Event()

    async def __call__(self) -> None:
        self.count += 1
        self.ran.set()
        if self.fail:
            raise RuntimeError("round failed")
        if self.hang:
            await asyncio.Event().wait()


async def _wait_for(rounds: Rounds, count: int) -> None:
    async with asyncio.timeout(5):
        while rounds.count < count:
            rounds.ran.clear()
            await rounds.ran.wait()


async def test_the_first_round_runs_at_start_and_the_next_after_the_interval() -> None:
    rounds = Rounds()
    task = Periodic("test", rounds, 0.05)
    task.start()
    try:
        await asyncio.sleep(0.01)
        assert rounds.count == 1
        await _wait_for(rounds, 3)
    finally:
        await task.stop()


async def test_a_flusher_waits_one_interval_before_its_first_round() -> None:
    rounds = Rounds()
    task = Periodic("test", rounds, 0.2, first_round_at_start=False)
    task.start()
    try:
        await asyncio.sleep(0.05)
        assert rounds.count == 0
        await _wait_for(rounds, 1)
    finally:
        await task.stop()


async def test_wake_starts_the_next_round_at_once() -> None:
    rounds = Rounds()
    task = Periodic("test", rounds, 3600, first_round_at_start=False)
    task.start()
    try:
        await asyncio.sleep(0.01)
        task.wake()
        await _wait_for(rounds, 1)
        task.wake()
        await _wait_for(rounds, 2)
    finally:
        await task.stop()


async def test_a_failing_round_is_logged_and_the_task_lives_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds = Rounds()
    rounds.fail = True
    owner = logging.getLogger("drafter.test.owner")
    task = Periodic("sweeping", rounds, 0.01, logger=owner)
    with caplog.at_level(logging.ERROR, logger="drafter.test.owner"):
        task.start()
        try:
            await _wait_for(rounds, 3)
            rounds.fail = False
            await _wait_for(rounds, 5)
        finally:
            await task.stop()
    failures = [r for r in caplog.records if r.name == "drafter.test.owner"]
    assert len(failures) >= 3
    assert failures[0].getMessage() == "sweeping failed; trying again later"
    assert failures[0].exc_info is not None


async def test_a_failed_round_pauses_before_the_next() -> None:
    rounds = Rounds()
    rounds.fail = True
    task = Periodic("test", rounds, 0.001, pause_after_failure_s=0.3)
    task.start()
    try:
        await asyncio.sleep(0.15)
        assert rounds.count == 1
    finally:
        await task.stop()


async def test_stop_ends_a_round_in_progress_and_stop_twice_is_harmless() -> None:
    rounds = Rounds()
    rounds.hang = True
    task = Periodic("test", rounds, 0.01)
    await task.stop()  # never started
    task.start()
    await _wait_for(rounds, 1)
    async with asyncio.timeout(1):
        await task.stop()
    await task.stop()
    await asyncio.sleep(0.05)
    assert rounds.count == 1
