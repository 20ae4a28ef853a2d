"""`fte`: one command, one sub-command per process."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from datetime import UTC, datetime
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
                timeout_graceful_shutdown=10, backlog=2048,
                # The client address is the connection's: X-Forwarded-For counts only from
                # API_TRUSTED_PROXIES (the app decides), not from uvicorn's own 127.0.0.1 list.
                proxy_headers=False)
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


def _cmd_kb(settings: Settings, args: argparse.Namespace) -> int:
    from production.playground import kb_load

    return kb_load(settings, Path(args.data_dir).resolve(), Path(args.path), args.tenant)


def _cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from production.domain.messages import InvalidMessage
    from production.playground import ask_once
    from production.services import intake
    from production.services.ask import Question

    question = Question(channel=args.channel, sender=args.sender, message=args.message,
                        subject=args.subject, name=args.name, tenant_id=args.tenant)
    try:
        intake.sender_of(question.inbound())  # refuse bad input before anything starts
    except (InvalidMessage, ValueError) as exc:
        print(f"fte ask: {exc}", file=sys.stderr)
        return 2
    return ask_once(settings, Path(args.data_dir).resolve(), question)


def _cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from production.playground import run_eval

    try:
        return run_eval(settings, Path(args.data_dir).resolve(), Path(args.path), as_json=args.json,
                        check=args.check)
    except (OSError, ValueError, KeyError) as exc:
        print(f"fte eval: {args.path}: {exc}", file=sys.stderr)
        return 2


def _cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from production.playground import run_replay

    try:
        since = datetime.fromisoformat(args.since) if args.since else None
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return run_replay(settings, Path(args.data_dir).resolve(),
                          path=Path(args.file) if args.file else None, since=since,
                          tickets=args.tickets or [], tenant_id=args.tenant, as_json=args.json,
                          allowed=args.allow or [])
    except (OSError, ValueError, KeyError) as exc:
        print(f"fte replay: {exc}", file=sys.stderr)
        return 2


def _cmd_eval_predictions(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from production import clock
    from production.services import prediction_eval

    if args.customers < 10:
        print("fte eval-predictions: --customers needs at least 10", file=sys.stderr)
        return 2
    now = datetime.fromisoformat(args.now) if args.now else clock.now()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    result = prediction_eval.evaluate(customers=args.customers, seed=args.seed, now=now)
    print(json.dumps(result, indent=2) if args.json else prediction_eval.report(result))
    return 0


def _cmd_mcp(settings: Settings, args: argparse.Namespace) -> int:
    from production.mcp_server.server import main as mcp_main

    return mcp_main(["--transport", args.transport, "--port", str(args.port)])


def _cmd_gmail(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from production.channels.gmail import GmailNotConfigured, GmailRefused, GmailUnavailable
    from production.services.gmail_sync import run_watch

    try:
        return asyncio.run(run_watch(settings=settings, force=args.force, loop=args.loop,
                                     emit=lambda result: print(json.dumps(result), flush=True)))
    except GmailNotConfigured as exc:
        print(f"fte gmail watch: {exc}", file=sys.stderr)
        return 2
    except (GmailUnavailable, GmailRefused) as exc:
        print(f"fte gmail watch: {exc}", file=sys.stderr)
        return 1


def _cmd_admin(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from production.database.pool import create_pool
    from production.playground import run_local
    from production.services import admin_keys

    async def run(scoped: Settings) -> dict[str, object]:
        pool = await create_pool(scoped, min_size=1, max_size=1)
        try:
            if args.admin_command == "create-key":
                key_id, key = await admin_keys.create_key(pool=pool, tenant_id=args.tenant,
                                                          role=args.role, name=args.name)
                return {"key_id": str(key_id), "key": key, "tenant_id": args.tenant,
                        "role": args.role, "name": args.name.strip()}
            return {"key_id": str(args.key_id),
                    "revoked": await admin_keys.revoke_key(pool=pool, key_id=args.key_id)}
        finally:
            await pool.close()

    try:
        result = run_local(settings, Path(args.data_dir).resolve(), run)
    except ValueError as exc:
        print(f"fte admin {args.admin_command}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result), flush=True)
    return 0 if result.get("revoked", True) else 1


def _add_local_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=".fte",
                        help="the embedded database's folder, used when DATABASE_URL is unset")
    parser.add_argument("--tenant", default="techcorp", help="tenant id (default techcorp)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fte", description="Customer Success Digital FTE")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the whole local stack")
    up.add_argument("--data-dir", default=".fte", help="where the embedded database lives")
    up.add_argument("--port", type=int, default=None, help="API port (default API_PORT)")
    up.add_argument("--observe-only", action="store_true",
                    help="do not opt the internal tenant into autonomy")
    up.add_argument("--env-file", default=None,
                    help="read more settings from this file (KEY=value lines), for this and "
                         "every child: e.g. the provider fakes' endpoints that "
                         "`python -m tests.load.fakes DIR` writes to DIR/fakes.env")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("topics", help="create the Kafka topics")
    sub.add_parser("api", help="serve the HTTP API")
    sub.add_parser("worker", help="process inbound messages with the agent")
    sub.add_parser("dispatcher", help="deliver released replies")
    sub.add_parser("relay", help="publish the outbox and sweep stale messages")
    sub.add_parser("scheduler", help="release deferred replies, expire drafts, and the daily "
                                     "C.A.R.E. work (silence, digests, timed runs)")

    kb = sub.add_parser("kb", help="knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    load = kb_sub.add_parser("load", help="chunk, embed and upsert Markdown documents")
    load.add_argument("path", help="a Markdown file or a folder of them")
    _add_local_options(load)

    ask = sub.add_parser("ask", help="run one message through the agent; print one JSON object")
    ask.add_argument("--channel", required=True, choices=["email", "whatsapp", "web_form"])
    ask.add_argument("--from", dest="sender", required=True,
                     help="the customer's email address (or phone number for whatsapp)")
    ask.add_argument("--subject", default=None)
    ask.add_argument("--name", default=None)
    ask.add_argument("message")
    _add_local_options(ask)

    ev = sub.add_parser("eval", help="score the agent on labelled tickets")
    ev.add_argument("path", nargs="?", default="context/sample-tickets.json")
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    _add_local_options(ev)

    rp = sub.add_parser("replay", help="re-run recorded inbound messages (or --file's labelled "
                        "tickets) through the current agent in a scratch database; compare")
    rp.add_argument("--since", default=None, help="messages received from then on (ISO 8601)")
    rp.add_argument("--tickets", nargs="+", default=None, metavar="ID",
                    help="only these tickets (numbers, or label ids with --file)")
    rp.add_argument("--file", default=None, help="labelled tickets (like fte eval's) instead "
                    "of the database; exit 1 when a ticket labelled escalate is answered")
    rp.add_argument("--allow", nargs="+", default=None, metavar="ID",
                    help="with --file: known misses that do not fail the gate")
    rp.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_local_options(rp)

    evp = sub.add_parser("eval-predictions", help="measure the engagement and churn "
                         "predictions on seeded synthetic histories (AUC, precision@10%%, "
                         "calibration)")
    evp.add_argument("--customers", type=int, default=20_000)
    evp.add_argument("--seed", type=int, default=19)
    evp.add_argument("--now", default="2026-12-01T12:00:00+00:00",
                     help="the instant the histories end at (ISO 8601; '' for the clock)")
    evp.add_argument("--json", action="store_true", help="print the figures as JSON")

    mcp = sub.add_parser("mcp", help="serve the five agent tools over MCP")
    mcp.add_argument("--transport", default="stdio", choices=["stdio", "streamable-http"])
    mcp.add_argument("--port", type=int, default=8765, help="port for streamable-http")

    gmail = sub.add_parser("gmail", help="the Gmail channel")
    gmail_sub = gmail.add_subparsers(dest="gmail_command", required=True)
    watch = gmail_sub.add_parser("watch", help="start or renew the mailbox's push watch when "
                                 "due; print one JSON line per renewal")
    watch.add_argument("--force", action="store_true", help="renew even if not due yet")
    watch.add_argument("--loop", action="store_true", help="keep renewing before it expires")

    adm = sub.add_parser("admin", help="admin API keys")
    adm_sub = adm.add_subparsers(dest="admin_command", required=True)
    create_key = adm_sub.add_parser("create-key", help="create a tenant's admin API key; print "
                                    "one JSON line with the key (shown only this once)")
    create_key.add_argument("--tenant", required=True, help="tenant id")
    create_key.add_argument("--role", required=True, choices=["operator", "admin"])
    create_key.add_argument("--name", required=True, help="who or what holds the key")
    revoke = adm_sub.add_parser("revoke-key", help="revoke an admin API key")
    revoke.add_argument("key_id", type=uuid.UUID, help="the key's id (from create-key)")
    for admin_parser in (create_key, revoke):
        admin_parser.add_argument("--data-dir", default=".fte", help="the embedded database's "
                                  "folder, used when DATABASE_URL is unset")
    return parser


def _load_env_file(path: str) -> None:
    """Put the file's settings in this process's environment (which every child inherits),
    over what is there: the file is the more specific choice."""
    import os

    from dotenv import dotenv_values

    if not Path(path).is_file():
        raise SystemExit(f"fte: --env-file {path}: no such file")
    os.environ.update({name: value for name, value in dotenv_values(path).items()
                       if value is not None})
    get_settings.cache_clear()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "env_file", None):
        _load_env_file(args.env_file)
    settings = get_settings()
    configure_logging(settings.log_level, process=args.command)
    if args.command in ("worker", "dispatcher", "relay", "scheduler"):
        return _run_async(args.command)
    handlers = {"up": _cmd_up, "migrate": _cmd_migrate, "topics": _cmd_topics, "api": _cmd_api,
                "kb": _cmd_kb, "ask": _cmd_ask, "eval": _cmd_eval, "replay": _cmd_replay,
                "eval-predictions": _cmd_eval_predictions, "mcp": _cmd_mcp,
                "gmail": _cmd_gmail, "admin": _cmd_admin}
    return handlers[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
