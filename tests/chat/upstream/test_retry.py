"""The retry policy (``services.chat.upstream.retry``): the anthropic SDK's rules, rule by
rule, and the same answers as the installed SDK's own ``BaseClient`` for the same input."""

from __future__ import annotations

import email.utils

import anthropic
import httpx2
import pytest
from anthropic._models import FinalRequestOptions

from drafter.services.chat.upstream.retry import (
    MAX_DELAY_S,
    retry_after_s,
    retry_delay_s,
    should_retry,
)

NOW = 1_800_000_000.0


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(NOW + seconds_from_now, usegmt=True)


@pytest.mark.parametrize(
    ("status", "headers", "retried"),
    [
        (529, {"x-should-retry": "false"}, False),
        (500, {"x-should-retry": "false"}, False),
        (400, {"x-should-retry": "true"}, True),
        (401, {"x-should-retry": "true"}, True),
        (408, {}, True),
        (409, {}, True),
        (429, {}, True),
        (500, {}, True),
        (503, {}, True),
        (529, {}, True),
        (400, {}, False),
        (401, {}, False),
        (404, {}, False),
        (413, {}, False),
        (529, {"x-should-retry": "maybe"}, True),  # neither true nor false: the status rules
        (400, {"x-should-retry": "TRUE"}, False),
    ],
)
def test_what_is_retried(status: int, headers: dict[str, str], retried: bool) -> None:
    assert should_retry(status, httpx2.Headers(headers)) is retried


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # the milliseconds win
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),  # unreadable: the seconds
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after": _http_date(30)}, 30.0),
        ({"retry-after": _http_date(-30)}, -30.0),
        ({"retry-after": "tomorrow"}, None),
        ({}, None),
    ],
)
def test_how_long_the_answer_asks_to_wait(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_s(httpx2.Headers(headers), now=lambda: NOW) == seconds


@pytest.mark.parametrize(
    ("headers", "delay"),
    [
        ({"retry-after-ms": "5"}, 0.005),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "120"}, 120.0),  # taken as it is (the SDK caps nothing short)
        ({"retry-after": _http_date(20)}, 20.0),
    ],
)
def test_a_positive_wait_asked_for_is_taken(headers: dict[str, str], delay: float) -> None:
    assert retry_delay_s(2, httpx2.Headers(headers), jitter=lambda: 0.5, now=lambda: NOW) == delay


@pytest.mark.parametrize(
    "headers",
    [
        None,
        {},
        {"retry-after": "0"},
        {"retry-after-ms": "-5"},
        {"retry-after": _http_date(-30)},  # a date gone by
        {"retry-after": "soon"},
    ],
)
def test_otherwise_the_backoff_applies(headers: dict[str, str] | None) -> None:
    asked = httpx2.Headers(headers) if headers is not None else None
    assert retry_delay_s(0, asked, jitter=lambda: 0.0, now=lambda: NOW) == 0.5


@pytest.mark.parametrize(
    ("retries_taken", "most"),
    [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (50, 8.0), (5000, 8.0)],
)
def test_the_backoff_doubles_up_to_8_s_less_up_to_a_quarter(
    retries_taken: int, most: float
) -> None:
    assert retry_delay_s(retries_taken, jitter=lambda: 0.0) == most
    assert retry_delay_s(retries_taken, jitter=lambda: 1.0) == most * 0.75
    for _ in range(50):
        assert most * 0.75 <= retry_delay_s(retries_taken) <= most <= MAX_DELAY_S


# The installed SDK's own answers for the same input (a drift would show here first).
SDK_CASES = [
    (status, headers)
    for status in (400, 401, 408, 409, 429, 500, 529)
    for headers in (
        {},
        {"x-should-retry": "true"},
        {"x-should-retry": "false"},
        {"retry-after-ms": "250"},
        {"retry-after": "2"},
        {"retry-after": "0"},
        {"retry-after-ms": "x", "retry-after": "4"},
        {"retry-after": _http_date(45)},
        {"retry-after": "never"},
    )
]


@pytest.fixture(scope="module")
def sdk() -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key="k", base_url="http://upstream.test", max_retries=5)


@pytest.mark.parametrize(("status", "headers"), SDK_CASES)
@pytest.mark.parametrize("retries_taken", [0, 1, 4])
def test_the_same_answers_as_the_sdks_base_client(
    sdk: anthropic.AsyncAnthropic,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    headers: dict[str, str],
    retries_taken: int,
) -> None:
    monkeypatch.setattr("anthropic._base_client.random", lambda: 0.3)
    monkeypatch.setattr("anthropic._base_client.time.time", lambda: NOW)
    request = httpx2.Request("POST", "http://upstream.test/v1/messages")
    response = httpx2.Response(status, headers=headers, request=request)
    options = FinalRequestOptions.construct(method="post", url="/v1/messages")
    remaining = sdk.max_retries - retries_taken

    assert should_retry(status, response.headers) is sdk._should_retry(response)
    ours = retry_delay_s(retries_taken, response.headers, jitter=lambda: 0.3, now=lambda: NOW)
    assert ours == sdk._calculate_retry_timeout(remaining, options, response.headers)
