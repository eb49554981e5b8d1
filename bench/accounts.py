"""Accounts benchmark: Authorize+Settle pairs per second through gRPC, from one
``drafter serve accounts`` process, with the Redis quota store and with the SQL one on
PostgreSQL alone, and the gRPC floor (two health checks per pair on the same server).

    python -m bench.accounts [--seconds 10] [--callers 32] [--clients 2]
                             [--store redis|sql|floor ...]

32 concurrent callers (spread over ``--clients`` load processes, each a grpc.aio
client), each a different user with one key, loop Authorize(chat) → Settle(succeeded,
with token counts). Prints pairs/s, p50/p99 of a pair, and the accounts process's CPU
per pair. Uses a throwaway PostgreSQL database and Redis database 12 (emptied).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.gateways import BENCH_PLANS as PLANS
from bench.procs import ROOT, cpu_seconds, stop
from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.rpc.channels import open_channel
from drafter.rpc.internal_auth import InternalAuth
from tests.support.stack import base_env, drafter_command, free_port

POSTGRES = os.environ.get("DRAFTER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("DRAFTER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
WARMUP_S = 2.0
# The accounts process and every client process (spawned: they inherit the environment)
# share this internal token.
TOKEN_ENV = "DRAFTER_INTERNAL_TOKEN"


def _auth() -> InternalAuth:
    return InternalAuth(token=os.environ.setdefault(TOKEN_ENV, secrets.token_urlsafe(48)))


async def _caller(stub: accounts_grpc.AccountsServiceStub, key: str, until: float) -> list[float]:
    request = accounts_pb.AuthorizeRequest(
        credential=key, kind=accounts_pb.USAGE_KIND_CHAT, model="claude-haiku-4-5"
    )
    usage = usage_pb.TokenUsage(input_tokens=12, output_tokens=40)
    pairs: list[float] = []
    while (now := time.perf_counter()) < until:
        reply = await stub.Authorize(request)
        await stub.Settle(
            accounts_pb.SettleRequest(
                reservation_id=reply.reservation_id,
                outcome=accounts_pb.OUTCOME_SUCCEEDED,
                usage=usage,
                latency_ms=1,
            )
        )
        pairs.append(time.perf_counter() - now)
    return pairs


async def _health_caller(stub: health_pb2_grpc.HealthStub, until: float) -> list[float]:
    """The floor: two no-op RPCs (health checks) on the same server per "pair"."""
    request = health_pb2.HealthCheckRequest()
    pairs: list[float] = []
    while (now := time.perf_counter()) < until:
        await stub.Check(request)
        await stub.Check(request)
        pairs.append(time.perf_counter() - now)
    return pairs


async def _client(addr: str, keys: list[str], start: float, end: float, floor: bool) -> list[float]:
    async with open_channel(addr, _auth()) as channel:
        stub = accounts_grpc.AccountsServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        for until in (start, end):  # warm-up, then measured
            if floor:
                results = await asyncio.gather(*(_health_caller(health, until) for _ in keys))
            else:
                results = await asyncio.gather(*(_caller(stub, key, until) for key in keys))
    return [t for pairs in results for t in pairs]


def _client_process(
    addr: str, keys: list[str], start: float, end: float, floor: bool
) -> list[float]:
    try:
        import uvloop

        return uvloop.run(_client(addr, keys, start, end, floor))
    except ImportError:
        return asyncio.run(_client(addr, keys, start, end, floor))


async def _make_keys(addr: str, n: int) -> list[str]:
    async with open_channel(addr, _auth()) as channel:
        stub = accounts_grpc.AccountsServiceStub(channel)
        await asyncio.wait_for(channel.channel_ready(), 60)
        keys = []
        for i in range(n):
            email = f"bench-{i}-{secrets.token_hex(3)}@example.com"
            await stub.CreateUser(accounts_pb.CreateUserRequest(email=email, password="x" * 12))
            reply = await stub.CreateApiKey(accounts_pb.CreateApiKeyRequest(email=email))
            keys.append(reply.secret)
        return keys


def _start_accounts(
    data_dir: Path, database_url: str, redis_url: str | None
) -> tuple[subprocess.Popen[bytes], str]:
    plans = data_dir / "plans.toml"
    plans.write_text(PLANS)
    env = base_env(
        data_dir,
        DATABASE_URL=database_url,
        DRAFTER_PLANS_FILE=str(plans),
        DRAFTER_LOG_LEVEL="WARNING",
        DRAFTER_INTERNAL_TOKEN=str(_auth().token),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    port = free_port()
    command = drafter_command("serve", "accounts", "--host", "127.0.0.1", "--port", str(port))
    log = (data_dir / "accounts.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return process, f"127.0.0.1:{port}"


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


def run_store(store: str, args: argparse.Namespace) -> str:
    name = f"drafter_bench_{secrets.token_hex(4)}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis_url = REDIS if store != "sql" else None
    if redis_url:
        redis.Redis.from_url(redis_url).flushdb()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            process, addr = _start_accounts(Path(tmp), f"{POSTGRES}/{name}", redis_url)
            try:
                return _measure(store, process, addr, args)
            finally:
                stop(process)
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _measure(
    store: str, process: subprocess.Popen[bytes], addr: str, args: argparse.Namespace
) -> str:
    keys = asyncio.run(_make_keys(addr, args.callers))
    shares = [keys[i :: args.clients] for i in range(args.clients)]
    start = time.perf_counter() + WARMUP_S + 1.0
    end = start + args.seconds
    with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
        floor = store == "floor"
        pending = [pool.apply_async(_client_process, (addr, s, start, end, floor)) for s in shares]
        time.sleep(max(0.0, start - time.perf_counter()))
        cpu_before = cpu_seconds(process.pid)
        time.sleep(max(0.0, end - time.perf_counter()))
        cpu_after = cpu_seconds(process.pid)
        latencies = [t for p in pending for t in p.get()]
    pairs = len(latencies)
    rate = pairs / args.seconds
    cpu_us = (cpu_after - cpu_before) / max(1, pairs) * 1e6
    return (
        f"{store:>5}  {rate:8.0f} pairs/s  p50 {_percentile(latencies, 50) * 1000:6.2f} ms  "
        f"p99 {_percentile(latencies, 99) * 1000:6.2f} ms  accounts CPU {cpu_us:6.0f} µs/pair"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--clients", type=int, default=2, help="load-generating processes")
    parser.add_argument(
        "--store",
        choices=("redis", "sql", "floor"),
        action="append",
        help="floor: two health checks per pair, what gRPC alone costs",
    )
    args = parser.parse_args()
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{args.callers} callers over {args.clients} client processes, {args.seconds:.0f} s")
    for store in args.store or ("redis", "sql", "floor"):
        print(run_store(store, args), flush=True)


if __name__ == "__main__":
    main()
