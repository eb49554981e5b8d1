"""``drafter admin user|key|code ...`` as a subprocess, on the database of a running
accounts service: its changes must reach the service's credential cache at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.rpc.errors import error_from_rpc, reason_name
from drafter.services.accounts.db.engine import create_engine
from drafter.services.accounts.settings import AccountsSettings
from drafter.services.accounts.support import tickets
from tests.support.accounts import make_account
from tests.support.clock import FakeClock

pytestmark = pytest.mark.slow
Stub = accounts_grpc.AccountsServiceStub


def drafter(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DRAFTER_PLANS_FILE")}
    env["DRAFTER_DATA_DIR"] = str(data_dir)
    exe = shutil.which("drafter")
    command = [exe] if exe else [sys.executable, "-m", "drafter.cli"]
    return subprocess.run(
        [*command, "admin", *args], env=env, capture_output=True, text=True, timeout=60
    )


def drafter_env(settings: AccountsSettings, *args: str) -> subprocess.CompletedProcess[str]:
    """``drafter admin ...`` on the same database (and Redis) as a running service."""
    env = {k: v for k, v in os.environ.items() if k not in ("DRAFTER_PLANS_FILE", "REDIS_URL")}
    env.update(DRAFTER_DATA_DIR=str(settings.data_dir), DATABASE_URL=settings.database_url)
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return subprocess.run(
        [sys.executable, "-m", "drafter.cli", "admin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def cli(settings: AccountsSettings, *args: str) -> str:
    result = await asyncio.to_thread(drafter_env, settings, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


async def authorize(stub: Stub, key: str, model: str) -> str:
    """The plan Authorize reports, or the reason it refused."""
    request = accounts_pb.AuthorizeRequest(
        credential=key, kind=accounts_pb.USAGE_KIND_CHAT, model=model
    )
    try:
        return (await stub.Authorize(request)).caller.plan
    except grpc.RpcError as exc:
        return reason_name(error_from_rpc(exc).reason)


async def test_cli_changes_reach_a_running_service_at_once(
    stub: Stub, settings: AccountsSettings
) -> None:
    await cli(settings, "user", "create", "ops@example.com")
    key = await cli(settings, "key", "create", "ops@example.com", "--name", "ci")
    assert key.startswith("dp_") and " " not in key and len(key) >= 46
    assert await authorize(stub, key, "claude-haiku") == "free"
    assert await authorize(stub, key, "claude-opus") == "MODEL_NOT_IN_PLAN"

    await cli(settings, "user", "set-plan", "ops@example.com", "plus")
    assert await authorize(stub, key, "claude-opus") == "plus"
    await cli(settings, "user", "block", "ops@example.com")
    assert await authorize(stub, key, "claude-haiku") == "ACCOUNT_BLOCKED"
    await cli(settings, "user", "unblock", "ops@example.com")
    assert await authorize(stub, key, "claude-haiku") == "plus"


async def test_code_create_and_redeem(stub: Stub, settings: AccountsSettings) -> None:
    code = await cli(settings, "code", "create", "--plan", "pro", "--days", "7", "--uses", "1")
    assert code.startswith("DP-") and " " not in code
    first, second = await make_account(stub), await make_account(stub)
    assert await authorize(stub, first.key, "claude-sonnet") == "MODEL_NOT_IN_PLAN"
    redeemed = await stub.RedeemDiscountCode(
        accounts_pb.RedeemDiscountCodeRequest(user_id=first.user_id, code=f" {code.lower()} ")
    )
    assert redeemed.plan == "pro"
    assert await authorize(stub, first.key, "claude-sonnet") == "pro"
    refusals = ((first, code, "ALREADY_EXISTS"), (second, code, "INVALID_REQUEST"))
    for account, code_text, reason in (*refusals, (second, "DP-NOPE", "NOT_FOUND")):
        with pytest.raises(grpc.RpcError) as caught:
            await stub.RedeemDiscountCode(
                accounts_pb.RedeemDiscountCodeRequest(user_id=account.user_id, code=code_text)
            )
        assert reason_name(error_from_rpc(caught.value).reason) == reason


async def test_redeemed_plan_falls_back_when_it_expires(stub: Stub, clock: FakeClock) -> None:
    request = accounts_pb.CreateDiscountCodeRequest(plan="plus", days=2, max_uses=5)
    code = (await stub.CreateDiscountCode(request)).code
    account = await make_account(stub)
    await stub.RedeemDiscountCode(
        accounts_pb.RedeemDiscountCodeRequest(user_id=account.user_id, code=code)
    )
    assert await authorize(stub, account.key, "claude-opus") == "plus"
    clock.advance(days=2, seconds=1)
    assert await authorize(stub, account.key, "claude-opus") == "MODEL_NOT_IN_PLAN"
    assert await authorize(stub, account.key, "claude-haiku") == "free"


def test_given_password_is_not_printed(tmp_path: Path) -> None:
    created = drafter(tmp_path, "user", "create", "a@example.com", "--password", "hunter2hunter2")
    assert created.returncode == 0, created.stderr
    assert "hunter2hunter2" not in created.stdout and "Password" not in created.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("user", "set-plan", "nobody@example.com", "pro"),
        ("user", "create", "b@example.com", "--plan", "gold"),
        ("key", "create", "nobody@example.com"),
        ("user", "create", "not-an-email"),
        ("user", "block", "nobody@example.com"),
        ("code", "create", "--plan", "gold"),
        ("code", "create", "--plan", "pro", "--days", "0"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = drafter(tmp_path, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("drafter: ")
    assert "Traceback" not in result.stderr


def test_key_limit_error(tmp_path: Path) -> None:
    assert drafter(tmp_path, "user", "create", "c@example.com").returncode == 0
    assert drafter(tmp_path, "key", "create", "c@example.com").returncode == 0
    result = drafter(tmp_path, "key", "create", "c@example.com")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "drafter: The Free plan allows 1 API key(s); revoke one or upgrade your plan."
    ]


async def test_ticket_commands(stub: Stub, settings: AccountsSettings) -> None:
    """``drafter admin ticket list|reply|close`` on a ticket a user opened."""
    account = await make_account(stub)
    engine = create_engine(settings.database_url)
    try:
        ticket = await tickets.create_ticket(
            engine=engine,
            user_id=account.user_id,
            subject="Streaming stops",
            message="My stream ends early.",
            now=dt.datetime.now(dt.UTC),
        )
    finally:
        await engine.dispose()
    listed = await asyncio.to_thread(drafter_env, settings, "ticket", "list", "-v")
    assert listed.returncode == 0, listed.stderr
    assert ticket.id in listed.stdout and "Streaming stops" in listed.stdout
    assert "My stream ends early." in listed.stdout and account.email in listed.stdout
    replied = await asyncio.to_thread(
        drafter_env, settings, "ticket", "reply", ticket.id, "Fixed in 1.2."
    )
    assert replied.returncode == 0, replied.stderr
    assert (
        "Fixed in 1.2."
        in (await asyncio.to_thread(drafter_env, settings, "ticket", "list", "-v")).stdout
    )
    closed = await asyncio.to_thread(drafter_env, settings, "ticket", "close", ticket.id)
    assert closed.returncode == 0, closed.stderr
    assert (
        ticket.id not in (await asyncio.to_thread(drafter_env, settings, "ticket", "list")).stdout
    )
    every = await asyncio.to_thread(drafter_env, settings, "ticket", "list", "--all")
    assert ticket.id in every.stdout
    unknown = await asyncio.to_thread(drafter_env, settings, "ticket", "close", "no-such-ticket")
    assert unknown.returncode != 0
    assert unknown.stderr.count("\n") == 1 and "Traceback" not in unknown.stderr
