"""A real stack in process (``tests.support.in_process_stack``), accounts probing chat and
images every 50 ms on an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.in_process_stack import Stack, in_process_stack

PROBE_INTERVAL_S = 0.05


@pytest.fixture
async def stack(tmp_path: Path, tiny_rembg_model_path: Path) -> AsyncIterator[Stack]:
    async with in_process_stack(
        tmp_path, tiny_rembg_model_path, probe_interval_s=PROBE_INTERVAL_S
    ) as running:
        yield running
