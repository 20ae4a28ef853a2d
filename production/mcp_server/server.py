"""`fte mcp`: the agent's five tools as an MCP server, for any MCP client (Claude, an IDE, ...).

The tools call the same `operations` the Agents SDK function tools call (`tools.py`); the
server's lifespan opens the pool and loads the embedding model (`bootstrap.build_mcp`).
Stdout is the MCP stdio channel: logs go to stderr only.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import structlog
from mcp.server.mcpserver import MCPServer

from production import bootstrap
from production.bootstrap import McpDeps
from production.config import Settings, get_settings
from production.database.pool import create_pool
from production.database.queries import reference
from production.logging import configure_logging
from production.mcp_server.tools import TOOLS

log = structlog.get_logger(__name__)

SERVER_NAME = "customer-success-fte"
TRANSPORTS = ("stdio", "streamable-http")

INSTRUCTIONS = """\
TechCorp customer support tools. For a customer's message, call create_ticket: it stores the
message, opens its ticket and returns the customer's history and a first knowledge-base search
on their words. Search once more (search_knowledge_base with the ticket_id) if that found
nothing useful; then send_response with an answer grounded in the knowledge base, or
escalate_to_human first when a human must decide (pricing, refunds, legal, an explicit request
for a person, anger, no knowledge-base match). Replies pass the C.A.R.E. gate: they may be held
for an operator."""


def build_server(settings: Settings, *, tenant_id: str | None = None) -> MCPServer[McpDeps]:
    """Return the MCP server; its lifespan opens the pool and loads the embedding model."""

    @asynccontextmanager
    async def lifespan(_: MCPServer[McpDeps]) -> AsyncIterator[McpDeps]:
        pool = await create_pool(settings, min_size=1, max_size=4)
        try:
            deps = bootstrap.build_mcp(settings, pool, tenant_id=tenant_id)
            async with pool.acquire() as conn:
                if deps.tenant_id not in await reference.tenant_ids(conn):
                    raise RuntimeError(f"unknown tenant {deps.tenant_id!r}")
            await deps.embedder.embed(["warm up"])  # load the model before the first search
            log.info("mcp_server_ready", tenant=deps.tenant_id, embedder=deps.embedder.name)
            yield deps
        finally:
            await pool.close()

    server: MCPServer[McpDeps] = MCPServer(
        SERVER_NAME, title="TechCorp Customer Success FTE", instructions=INSTRUCTIONS,
        lifespan=lifespan, log_level="WARNING",
    )
    for fn, title, hints in TOOLS:
        server.add_tool(fn, title=title, annotations=hints, structured_output=True)
    return server


async def serve(settings: Settings, *, transport: str = "stdio", host: str = "127.0.0.1",
                port: int = 8765, tenant_id: str | None = None) -> None:
    """Serve the tools over stdio (the default) or streamable HTTP until the client leaves."""
    server = build_server(settings, tenant_id=tenant_id)
    if transport == "stdio":
        await server.run_stdio_async()
    elif transport == "streamable-http":
        log.info("mcp_http_listening", host=host, port=port, path="/mcp")
        await server.run_streamable_http_async(host=host, port=port)
    else:
        raise ValueError(f"unknown transport {transport!r} (use one of {', '.join(TRANSPORTS)})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fte mcp",
                                     description="Serve the support agent's tools over MCP")
    parser.add_argument("--transport", choices=TRANSPORTS, default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="streamable-http only")
    parser.add_argument("--port", type=int, default=8765, help="streamable-http only")
    parser.add_argument("--tenant", default=None,
                        help="tenant the tools act for (default: DEFAULT_TENANT, techcorp)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `fte mcp [--transport ...]`; return the exit code."""
    args = build_parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, process="mcp")
    try:
        settings.database_url()  # say what is missing, rather than fail inside the transport
    except RuntimeError as exc:
        print(f"fte mcp: {exc}", file=sys.stderr)
        return 2
    with suppress(KeyboardInterrupt):  # Ctrl-C is how an operator stops a served transport
        asyncio.run(serve(settings, transport=args.transport, host=args.host, port=args.port,
                          tenant_id=args.tenant))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
