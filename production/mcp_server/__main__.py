"""`python -m production.mcp_server [--transport ...]`."""

from production.mcp_server.server import main

raise SystemExit(main())
