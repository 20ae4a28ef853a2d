"""Deprecated: the embeddings adapter is `production.embeddings` now.

Kept only because `production/agent/mcp_server.py` still imports it from here until that
entrypoint moves out of `agent/` (issue 15, part A); delete this file with that move.
"""

from production.embeddings import Embedder, embedder_for

__all__ = ["Embedder", "embedder_for"]
