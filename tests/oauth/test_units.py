"""Pure pieces: PKCE, scopes, redirect URIs, signing, CSRF, secret keys, rate limiters."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from redis.asyncio import Redis

from drafter.edge.oauth.authorize import redirect_with
from drafter.edge.settings import EdgeSettings
from drafter.edge.web.auth import safe_next
from drafter.edge.web.ratelimit import MemoryRateLimiter, RedisRateLimiter
from drafter.edge.web.secret_key import load_secret_key
from drafter.edge.web.sessions import Signer
from drafter.services.accounts.oauth.rules import (
    OAuthError,
    check_challenge,
    check_redirect_uri,
    parse_scope,
    pkce_matches,
    s256,
)

# RFC 7636 appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_s256_matches_rfc7636_example() -> None:
    assert s256(RFC_VERIFIER) == RFC_CHALLENGE
    assert pkce_matches(RFC_VERIFIER, RFC_CHALLENGE, "S256")
    assert not pkce_matches(RFC_VERIFIER, RFC_CHALLENGE, "plain")
    assert pkce_matches(RFC_VERIFIER, RFC_VERIFIER, "plain")
    assert not pkce_matches("short", "short", "plain")


@pytest.mark.parametrize(
    ("challenge", "method", "ok"),
    [
        ("", "", True),
        (RFC_CHALLENGE, "S256", True),
        (RFC_CHALLENGE, "", True),
        (RFC_CHALLENGE, "S512", False),
        ("short", "S256", False),
        ("", "S256", False),
    ],
)
def test_code_challenge_validation(challenge: str, method: str, ok: bool) -> None:
    if ok:
        check_challenge(challenge, method)
    else:
        with pytest.raises(OAuthError):
            check_challenge(challenge, method)


def test_scopes_default_to_both_and_unknown_ones_fail() -> None:
    assert parse_scope("") == ("ai:chat", "ai:images")
    assert parse_scope("ai:images ai:chat") == ("ai:chat", "ai:images")
    with pytest.raises(OAuthError) as caught:
        parse_scope("ai:chat admin")
    assert caught.value.oauth_error == "invalid_scope"


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("https://a.example/cb", True),
        ("http://127.0.0.1:8000/cb", True),
        ("http://localhost/cb", True),
        ("http://a.example/cb", False),
        ("https://a.example/cb#x", False),
        ("https://user:pw@a.example/cb", False),
        ("myapp://cb", False),
        ("https:///cb", False),
    ],
)
def test_redirect_uri_registration_rules(uri: str, ok: bool) -> None:
    if ok:
        assert check_redirect_uri(uri) == uri
    else:
        with pytest.raises(OAuthError):
            check_redirect_uri(uri)


def test_redirect_keeps_a_registered_query() -> None:
    assert redirect_with("https://a.example/cb?x=1", {"code": "c", "state": "s t"}) == (
        "https://a.example/cb?x=1&code=c&state=s+t"
    )


def test_signatures_reject_tampering_and_other_purposes() -> None:
    signer = Signer(b"k" * 32)
    signed = signer.sign("session", "token")
    assert signer.unsign("session", signed) == "token"
    assert signer.unsign("csrf", signed) is None
    assert signer.unsign("session", signed[:-1] + "x") is None
    assert Signer(b"j" * 32).unsign("session", signed) is None
    assert signer.unsign("session", "no-signature") is None


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil", "", "x"])
def test_safe_next_refuses_other_sites(target: str) -> None:
    assert safe_next(target) == "/auth/login"


def test_safe_next_keeps_local_paths() -> None:
    assert safe_next("/oauth/authorize?client_id=a") == "/oauth/authorize?client_id=a"


@pytest.mark.parametrize("weak", ["changethis", "short", "a" * 64, "changethis" * 5])
def test_weak_secret_keys_are_refused(weak: str) -> None:
    with pytest.raises(ValidationError):
        EdgeSettings(DRAFTER_SECRET_KEY=weak)


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_secret_key(None, tmp_path)
    assert len(first) >= 48 and load_secret_key(None, tmp_path) == first
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    strong = SecretStr("Zq8vR2mX7pLk4Tn9Wc3Yb6Hd5Jf1Gs0QaEuIoP")
    assert (
        load_secret_key(
            EdgeSettings(DRAFTER_SECRET_KEY=strong.get_secret_value()).secret_key, tmp_path
        )
        == strong.get_secret_value().encode()
    )


async def test_memory_rate_limiter_counts_per_key() -> None:
    limiter = MemoryRateLimiter()
    for _ in range(3):
        assert await limiter.retry_after("a", 3) is None
        await limiter.add("a", 60)
    assert 0 < (await limiter.retry_after("a", 3) or 0) <= 60
    assert await limiter.retry_after("b", 3) is None


@pytest.mark.redis
async def test_redis_rate_limiter_counts_per_key() -> None:
    redis = Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        await redis.ping()
    except Exception:
        await redis.aclose()
        pytest.fail("Redis is not reachable: scripts/test.sh starts it")
    limiter = RedisRateLimiter(redis)
    key = f"test:{os.getpid()}:{id(limiter)}"
    for _ in range(2):
        assert await limiter.retry_after(key, 2) is None
        await limiter.add(key, 60)
    assert 0 < (await limiter.retry_after(key, 2) or 0) <= 60
    await redis.delete("drafter:ratelimit:" + key)
    await limiter.close()
