"""A real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against
``drafter up``. Never ``playwright install``: the system browser is used as is."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Playwright's sync API runs an event loop of its own for as long as it is open:
    module scope closes it before tests that need pytest-asyncio's loop run."""
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium is not installed (scripts/test.sh installs it)")
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
