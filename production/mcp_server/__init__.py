"""`fte mcp` (`python -m production.mcp_server`): the agent's tools over MCP."""
