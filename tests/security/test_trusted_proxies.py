"""``DRAFTER_TRUSTED_PROXIES``: ``X-Forwarded-For`` is believed only from trusted peers, and
per-IP limits (here: failed log-ins) count the real client's address.

Against ``drafter up`` processes on loopback: trusting nobody (the default), a client that
forges the header from 127.0.0.1 is still counted as 127.0.0.1; trusting 127.0.0.1/32 (a
proxy on the same host, played by this test), each forwarded client is counted apart."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from drafter.edge.server.client_address import TrustedProxies
from tests.fakes.anthropic_server import FakeAnthropic
from tests.oauth.web_helpers import csrf_of
from tests.support.stack import DrafterStack, start_drafter_up

FAILURES_PER_IP = 3


def _failed_login(client: httpx.Client, forwarded_for: str) -> int:
    headers = {"X-Forwarded-For": forwarded_for}
    page = client.get("/auth/login", headers=headers)
    form = {
        "email": f"nobody-{uuid.uuid4().hex[:8]}@example.com",  # never the per-account limit
        "password": "wrong password",
        "csrf_token": csrf_of(page),
        "next": "",
    }
    return client.post("/auth/login", data=form, headers=headers).status_code


def _stack(
    tmp_path_factory: pytest.TempPathFactory, upstream: FakeAnthropic, **env: str
) -> Iterator[DrafterStack]:
    stack = start_drafter_up(
        tmp_path_factory.mktemp("proxies"),
        anthropic_base_url=upstream.base_url,
        DRAFTER_LOGIN_FAILURES_PER_IP=str(FAILURES_PER_IP),
        **env,
    )
    try:
        yield stack
    finally:
        assert stack.stop() == 0, stack.output()


@pytest.fixture(scope="module")
def trusting_nobody(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic_server: FakeAnthropic
) -> Iterator[DrafterStack]:
    yield from _stack(tmp_path_factory, fake_anthropic_server)


@pytest.fixture(scope="module")
def behind_a_proxy(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic_server: FakeAnthropic
) -> Iterator[DrafterStack]:
    yield from _stack(
        tmp_path_factory, fake_anthropic_server, DRAFTER_TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1/32"
    )


@pytest.mark.slow
def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    trusting_nobody: DrafterStack,
) -> None:
    with httpx.Client(base_url=trusting_nobody.base_url) as client:
        statuses = [_failed_login(client, f"203.0.113.{n}") for n in range(FAILURES_PER_IP)]
        assert set(statuses) == {400}
        # A new forged address each time, and still the one client 127.0.0.1:
        assert _failed_login(client, "198.51.100.4") == 429


@pytest.mark.slow
def test_forwarded_for_from_a_trusted_proxy_counts_each_client(
    behind_a_proxy: DrafterStack,
) -> None:
    with httpx.Client(base_url=behind_a_proxy.base_url) as client:
        statuses = [_failed_login(client, "203.0.113.7") for _ in range(FAILURES_PER_IP)]
        assert set(statuses) == {400}
        assert _failed_login(client, "203.0.113.7") == 429
        assert _failed_login(client, "198.51.100.4") == 400  # another client, same proxy
        # The client prepends a forged hop; the proxy appends the address it saw.
        assert _failed_login(client, "198.51.100.99, 203.0.113.7") == 429


PROXIES = TrustedProxies.parse("10.0.0.0/8, 192.168.1.7, ::1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # untrusted peer: header ignored
        ("10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", ["1.2.3.4, 198.51.100.1, 10.9.9.9"], "198.51.100.1"),  # skip proxies
        ("10.1.2.3", ["1.2.3.4", "198.51.100.1"], "198.51.100.1"),  # two header lines
        ("::1", ["2001:db8::5"], "2001:db8::5"),
        ("10.1.2.3", [], "10.1.2.3"),  # a trusted peer that forwarded nothing
        ("10.1.2.3", ["10.0.0.1"], "10.0.0.1"),  # only proxies: the farthest one
        (None, ["198.51.100.1"], "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded: list[str], client: str) -> None:
    assert PROXIES.client_address(peer, forwarded) == client


def test_nobody_is_trusted_by_default_and_star_trusts_everyone() -> None:
    assert TrustedProxies.parse("").client_address("127.0.0.1", ["1.2.3.4"]) == "127.0.0.1"
    assert TrustedProxies.parse("*").client_address("203.0.113.9", ["1.2.3.4"]) == "1.2.3.4"


def test_a_wrong_item_is_named() -> None:
    with pytest.raises(ValueError, match=re.escape("'10.0.0.0/33'")):
        TrustedProxies.parse("10.0.0.0/8, 10.0.0.0/33")
