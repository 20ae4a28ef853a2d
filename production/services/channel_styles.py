"""Channel voice settings, read from `channel_configs` and kept for a minute per process."""

from __future__ import annotations

import time

from production.database.pool import Connection
from production.database.queries import reference
from production.domain.formatting import ChannelStyle

TTL_S = 60.0
# Used only if a tenant has no row for a channel: the strictest sensible limits.
_FALLBACK = {
    "email": ChannelStyle("email", "formal", 500, "words"),
    "whatsapp": ChannelStyle("whatsapp", "conversational", 300, "chars", split_at=1600),
    "web_form": ChannelStyle("web_form", "semi-formal", 300, "words"),
}
_cache: dict[tuple[str, str], tuple[float, ChannelStyle]] = {}


async def style_for(conn: Connection, tenant_id: str, channel: str) -> ChannelStyle:
    """Return the tenant's style for the channel (cached for TTL_S seconds)."""
    key = (tenant_id, channel)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < TTL_S:
        return hit[1]
    style = await reference.channel_style(conn, tenant_id, channel) or _FALLBACK[channel]
    _cache[key] = (time.monotonic(), style)
    return style
