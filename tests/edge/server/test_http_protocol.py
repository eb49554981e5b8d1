"""The edge's HTTP protocol (``edge.server.http_protocol``): uvicorn's, with the writes of one
event-loop turn sent as one. A real uvicorn server in its own process; its write system
calls are counted from ``/proc`` (Linux)."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.stack import free_port

SERVER = textwrap.dedent(
    """
    import asyncio, sys
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route
    from drafter.edge.server.http_protocol import TurnBufferedHttpToolsProtocol

    async def answer(request):
        return Response(b'{"ok": true}', media_type="application/json")

    async def frames():
        for i in range(5):  # produced in one turn: they may leave together
            yield b"data: %d\\n\\n" % i
        await asyncio.sleep(0.05)
        yield b"data: late\\n\\n"

    async def stream(request):
        return StreamingResponse(frames(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/answer", answer), Route("/stream", stream)])
    protocol = TurnBufferedHttpToolsProtocol if sys.argv[2] == "buffered" else "httptools"
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http=protocol,
                log_level="warning", access_log=False, lifespan="off")
    """
)


def _writes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("syscw:"):
            return int(line.split()[1])
    raise AssertionError("no syscw in /proc/PID/io")


@pytest.fixture(params=["buffered", "httptools"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, int, str]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port), request.param])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", process.pid, request.param
    finally:
        process.terminate()
        process.wait(10)


def test_a_whole_answer_is_one_write(server: tuple[str, int, str]) -> None:
    base, pid, kind = server
    with httpx.Client(base_url=base) as client:
        client.get("/answer")  # the connection is open
        before = _writes(pid)
        answers = [client.get("/answer") for _ in range(40)]
        writes = _writes(pid) - before

    assert all(a.status_code == 200 and a.json() == {"ok": True} for a in answers)
    if kind == "buffered":
        assert writes <= 44  # status line, headers and body together
    else:
        assert writes >= 80  # uvicorn alone: headers, then body


def test_a_stream_arrives_whole_and_in_order(server: tuple[str, int, str]) -> None:
    base, _, _ = server
    with httpx.Client(base_url=base) as client, client.stream("GET", "/stream") as response:
        lines = [line for line in response.iter_lines() if line]

    assert lines == [f"data: {i}" for i in range(5)] + ["data: late"]


def test_connection_close_still_sends_everything(server: tuple[str, int, str]) -> None:
    base, _, _ = server
    with httpx.Client(base_url=base, headers={"Connection": "close"}) as client:
        for _ in range(3):
            response = client.get("/answer")
            assert response.json() == {"ok": True}
            assert response.headers["connection"] == "close"
