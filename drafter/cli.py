"""The ``drafter`` command: ``up``, ``serve NAME`` and ``admin ...``.

Errors end the command with a one-line message on stderr and a non-zero exit code, never
a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from drafter import logs
from drafter.config import ConfigError
from drafter.rpc.errors import DrafterError

SERVICES = ("accounts", "chat", "images", "edge")


# Libraries that log every request at INFO: one line per upstream call is noise, and costs.
QUIET_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2", "uvicorn.access")


def configure_logging(level: str, fmt: str = "text") -> None:
    logs.configure_logging(level, fmt)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


class CliError(Exception):
    """A failure to report to the user as one line, exit code 1."""


def run_async(main: Coroutine[Any, Any, None]) -> None:
    """Runs a server coroutine on uvloop when it is installed (DRAFTER_EVENT_LOOP=asyncio
    keeps the standard loop)."""
    loop_factory = None
    if os.environ.get("DRAFTER_EVENT_LOOP", "uvloop") == "uvloop":
        try:
            import uvloop

            loop_factory = uvloop.new_event_loop
        except ImportError:
            pass
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(main)


def _cmd_up(args: argparse.Namespace) -> int:
    from drafter.launch.up import run_stack

    if args.edge_workers < 1:
        raise CliError("--edge-workers must be at least 1")
    run_async(run_stack(host=args.host, port=args.port, edge_workers=args.edge_workers))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from drafter.launch.serve import serve_one

    if args.reuse_port and args.name != "edge":
        raise CliError("--reuse-port applies to the edge only")
    run_async(serve_one(args.name, host=args.host, port=args.port, reuse_port=args.reuse_port))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drafter", description="Self-hostable OpenAI-compatible AI API platform."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="run the whole stack in one process")
    up.add_argument("--host", default=None, help="edge host (default 127.0.0.1)")
    up.add_argument("--port", type=int, default=None, help="edge port (default 8080)")
    up.add_argument(
        "--edge-workers",
        type=int,
        default=1,
        help="HTTP edge processes sharing the port (default 1; more use more cores)",
    )
    up.set_defaults(func=_cmd_up)

    serve = commands.add_parser("serve", help="run one service as its own process")
    serve.add_argument("name", choices=SERVICES)
    serve.add_argument("--host", default=None, help="host to listen on")
    serve.add_argument("--port", type=int, default=None, help="port to listen on")
    serve.add_argument(
        "--reuse-port",
        action="store_true",
        help="edge only: share the port with other edge processes (SO_REUSEPORT)",
    )
    serve.set_defaults(func=_cmd_serve)

    admin = commands.add_parser("admin", help="manage users, keys, apps and codes")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True, metavar="WHAT")
    from drafter.services.accounts.admin import add_admin_commands

    add_admin_commands(admin_commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(
        os.environ.get("DRAFTER_LOG_LEVEL", "INFO"), os.environ.get(logs.LOG_FORMAT_ENV, "text")
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
    except (CliError, ConfigError, DrafterError) as exc:
        print(f"drafter: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the promise is one line, never a traceback
        print(f"drafter: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
