"""`fte`: one command, one sub-command per process."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from production.config import Settings, get_settings
from production.logging import configure_logging


def _cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    from production.database.migrate import migrate

    applied = asyncio.run(migrate(settings.database_url()))
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
    return 0


def _cmd_topics(settings: Settings, _: argparse.Namespace) -> int:
    from production.messaging.kafka import ensure_topics

    created = asyncio.run(ensure_topics(settings))
    print(f"created topics: {', '.join(created) or 'none (all exist)'}")
    return 0


def _cmd_api(settings: Settings, _: argparse.Namespace) -> int:
    import os
    import tempfile

    import uvicorn

    if settings.api.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several API processes: each writes its metrics to files that /metrics merges.
        # Set before any worker imports prometheus_client; a fresh folder per start.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="fte-metrics-")

    uvicorn.run("production.api.app:create_app_from_env", factory=True,
                host=settings.api.host, port=settings.api.port, workers=settings.api.workers,
                log_level="warning", access_log=False, loop="uvloop", http="httptools",
                timeout_graceful_shutdown=10, backlog=2048)
    return 0


def _run_async(main_name: str) -> int:
    import importlib

    import uvloop

    module = importlib.import_module(f"production.workers.{main_name}")
    uvloop.run(module.main(get_settings()))
    return 0


def _cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    from production.supervisor import run_up

    return run_up(settings, data_dir=Path(args.data_dir).resolve(),
                  autonomy_demo=not args.observe_only, api_port=args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fte", description="Customer Success Digital FTE")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the whole local stack")
    up.add_argument("--data-dir", default=".fte", help="where the embedded database lives")
    up.add_argument("--port", type=int, default=None, help="API port (default API_PORT)")
    up.add_argument("--observe-only", action="store_true",
                    help="do not opt the internal tenant into autonomy")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("topics", help="create the Kafka topics")
    sub.add_parser("api", help="serve the HTTP API")
    sub.add_parser("worker", help="process inbound messages with the agent")
    sub.add_parser("dispatcher", help="deliver released replies")
    sub.add_parser("relay", help="publish the outbox and sweep stale messages")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, process=args.command)
    if args.command in ("worker", "dispatcher", "relay"):
        return _run_async(args.command)
    handlers = {"up": _cmd_up, "migrate": _cmd_migrate, "topics": _cmd_topics, "api": _cmd_api}
    return handlers[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
