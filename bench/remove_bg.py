"""Benchmark RemoveBackground through the gRPC service: images/s, p50 latency, peak RSS.

    python bench/remove_bg.py [--requests 16] [--workers 2] [--max-seconds 60]

A 1024x1024 JPEG is sent over a real channel to the images service started in this
process, with the tiny test model and, when it is already installed locally (rembg's home,
``U2NET_HOME``), ``u2netp``, at concurrency 1 and 4. Nothing is ever downloaded. Peak RSS
is this whole process (service and client), read after each model has run.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.limits import IMAGE_MAX_MESSAGE_BYTES as MAX_MESSAGE_BYTES
from drafter.rpc.channels import open_channel
from drafter.services.images.main import start
from drafter.services.images.readiness import REMOVE_BACKGROUND_HEALTH
from drafter.services.images.settings import ImagesSettings
from tests.fakes.tiny_rembg_model import write_tiny_rembg_model

CONCURRENCIES = (1, 4)


def test_jpeg(side: int = 1024) -> bytes:
    image = Image.new("RGB", (side, side), (25, 30, 40))
    draw = ImageDraw.Draw(image)
    draw.ellipse((side // 5, side // 5, 4 * side // 5, 4 * side // 5), fill=(230, 200, 90))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def local_u2netp() -> bool:
    from rembg.sessions.u2netp import U2netpSession

    return U2netpSession.resolve_existing("u2netp.onnx") is not None


async def run_phase(
    stub: images_grpc.ImagesServiceStub, data: bytes, concurrency: int, total: int, limit_s: float
) -> tuple[int, float, list[float]]:
    """Sends up to ``total`` requests, ``concurrency`` at a time, for at most ``limit_s``."""
    request = images_pb.RemoveBackgroundRequest(image=data)
    latencies: list[float] = []
    remaining = total
    started = time.perf_counter()
    deadline = started + limit_s

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            t0 = time.perf_counter()
            await stub.RemoveBackground(request, timeout=120)
            latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), time.perf_counter() - started, latencies


async def model_loaded(channel: aio.Channel) -> None:
    """Waits until the service's rembg model, loading in the background, is ready."""
    health = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service=REMOVE_BACKGROUND_HEALTH)
    while True:
        if (await health.Check(request)).status != health_pb2.HealthCheckResponse.UNKNOWN:
            return
        await asyncio.sleep(0.1)


async def bench_model(name: str, settings: ImagesSettings, args: argparse.Namespace) -> None:
    running = await start(settings, "127.0.0.1:0")
    data = test_jpeg()
    try:
        target = f"127.0.0.1:{running.port}"
        async with open_channel(
            target, running.auth, max_message_bytes=MAX_MESSAGE_BYTES
        ) as channel:
            stub = images_grpc.ImagesServiceStub(channel)
            await model_loaded(channel)
            await stub.RemoveBackground(images_pb.RemoveBackgroundRequest(image=data))  # warm-up
            for concurrency in CONCURRENCIES:
                done, wall, latencies = await run_phase(
                    stub, data, concurrency, args.requests, args.max_seconds
                )
                p50_ms = statistics.median(latencies) * 1000
                print(
                    f"{name:>8}  c={concurrency}  {done:3d} req  {done / wall:7.2f} img/s  "
                    f"p50 {p50_ms:8.1f} ms"
                )
    finally:
        await running.stop(grace=1)
    print(f"{name:>8}  peak RSS so far {peak_rss_mib():.0f} MiB")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        tiny = write_tiny_rembg_model(Path(tmp) / "tiny.onnx")
        print(f"1024x1024 JPEG, {args.workers} rembg workers, up to {args.requests} req/phase")
        common = {"data_dir": data_dir, "gemini_api_key": None, "rembg_workers": args.workers}
        tiny_settings = ImagesSettings.model_validate({**common, "rembg_model_path": tiny})
        await bench_model("tiny", tiny_settings, args)
        if local_u2netp():
            u2netp_settings = ImagesSettings.model_validate({**common, "rembg_model": "u2netp"})
            await bench_model("u2netp", u2netp_settings, args)
        else:
            print("  u2netp  not installed locally (U2NET_HOME): skipped, never downloaded")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=16, help="requests per phase")
    parser.add_argument("--workers", type=int, default=2, help="DRAFTER_REMBG_WORKERS")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time cap per phase")
    asyncio.run(main(parser.parse_args()))
