"""What a load run did, from the product's database and the providers' own records.

Per channel: accepted (the API answered 2xx: what the load client recorded), answered (the
message has exactly one agent reply, or was folded into a WhatsApp turn that has), delivered
(the reply's status is delivered and the provider received it exactly as often as the
product recorded sending it: one Gmail send, one Twilio message per part; a web reply is
delivered when it is on the ticket), lost (accepted and not answered and delivered) and
duplicated (a second reply, or a provider send more than recorded).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

CHANNELS = ("web_form", "whatsapp", "email")

_INBOUND = """
    SELECT m.id, m.channel, m.external_id, mm.merged_into,
           (SELECT count(*) FROM messages r WHERE r.in_reply_to = m.id AND r.role = 'agent')
               AS replies
    FROM messages m LEFT JOIN whatsapp_merged_messages mm ON mm.message_id = m.id
    WHERE m.direction = 'inbound' AND m.role = 'customer'
"""
_REPLIES = """
    SELECT r.id, r.channel, r.in_reply_to, r.status, r.delivered_at, r.created_at,
           i.created_at AS accepted_at, d.recipient, d.status AS delivery,
           (SELECT count(*) FROM whatsapp_message_parts p WHERE p.message_id = r.id) AS parts
    FROM messages r JOIN messages i ON i.id = r.in_reply_to
    LEFT JOIN deliveries d ON d.message_id = r.id
    WHERE r.role = 'agent'
"""

# The operators' daily digests the product mailed itself: sends that answer no customer.
_OPERATOR_MAIL = "SELECT recipient FROM deliveries WHERE kind = 'operator_digest'"


@dataclass
class ChannelFigures:
    accepted: int = 0
    stored: int = 0
    answered: int = 0
    replies: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    p50_reply_s: float | None = None
    p95_reply_s: float | None = None
    max_reply_s: float | None = None


def sent_by_client(sent_file: Path) -> list[dict[str, str]]:
    if not sent_file.exists():
        return []
    return [json.loads(line) for line in sent_file.read_text().splitlines() if line.strip()]


async def database_rows(dsn: str) -> tuple[list[Any], list[Any]]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(_INBOUND)), list(await conn.fetch(_REPLIES))
    finally:
        await conn.close()


async def operator_mail(dsn: str) -> Counter[str]:
    """The operators' digests, per recipient (taken out of the sends before they are judged)."""
    conn = await asyncpg.connect(dsn)
    try:
        return Counter(_address(row["recipient"]) for row in await conn.fetch(_OPERATOR_MAIL))
    finally:
        await conn.close()


def provider_sends(control_url: str) -> dict[str, Counter[str]]:
    """Sends per recipient, as each fake received them."""
    sent = httpx.get(f"{control_url}/sent", timeout=30).json()
    return {"whatsapp": Counter(_bare(m["to"]) for m in sent["whatsapp"]),
            "email": Counter(_address(m["to"]) for m in sent["email"])}


def _bare(address: str | None) -> str:
    return (address or "").removeprefix("whatsapp:")


def _address(header: str | None) -> str:
    found = re.search(r"[^<\s]+@[^>\s]+", header or "")
    return found.group(0).lower() if found else ""


def figures(client: list[dict[str, str]], inbound: list[Any], replies: list[Any],
            sends: dict[str, Counter[str]]) -> dict[str, ChannelFigures]:
    """Return each channel's figures (see the module's docstring)."""
    result = {channel: ChannelFigures() for channel in CHANNELS}
    stored = {(row["channel"], row["external_id"]): row for row in inbound}
    by_id = {row["id"]: row for row in inbound}
    reply_of = {row["in_reply_to"]: row for row in replies}
    expected: dict[str, Counter[str]] = {"whatsapp": Counter(), "email": Counter()}
    latencies: dict[str, list[float]] = defaultdict(list)
    for reply in replies:
        figures_ = result[reply["channel"]]
        figures_.replies += 1
        if reply["status"] == "delivered" and reply["delivered_at"] is not None:
            if reply["channel"] == "whatsapp":
                expected["whatsapp"][_bare(reply["recipient"])] += max(1, reply["parts"])
            elif reply["channel"] == "email":
                expected["email"][_address(reply["recipient"])] += 1
            latencies[reply["channel"]].append(
                (reply["delivered_at"] - reply["accepted_at"]).total_seconds())
    extra = {channel: sum(max(0, count - expected[channel][to])
                          for to, count in sends[channel].items()) for channel in expected}
    short = {channel: {to for to, count in expected[channel].items()
                       if sends[channel][to] < count} for channel in expected}

    for entry in client:
        channel = entry["channel"]
        figures_ = result[channel]
        figures_.accepted += 1
        row = stored.get((channel, entry["external_id"]))
        if row is None:
            figures_.lost += 1
            continue
        figures_.stored += 1
        if row["replies"] > 1:
            figures_.duplicated += row["replies"] - 1
        answering = row
        while answering["replies"] == 0 and answering["merged_into"] in by_id:
            answering = by_id[answering["merged_into"]]
        reply = reply_of.get(answering["id"])
        if reply is None:
            figures_.lost += 1
            continue
        figures_.answered += 1
        delivered = reply["status"] == "delivered" and reply["delivered_at"] is not None
        if channel != "web_form":
            recipient = (_bare if channel == "whatsapp" else _address)(reply["recipient"])
            delivered = delivered and recipient not in short[channel]
        if delivered:
            figures_.delivered += 1
        else:
            figures_.lost += 1
    for channel, count in extra.items():
        result[channel].duplicated += count
    for channel, values in latencies.items():
        values.sort()
        figures_ = result[channel]
        figures_.p50_reply_s = round(values[len(values) // 2], 2)
        figures_.p95_reply_s = round(values[min(len(values) - 1, int(len(values) * 0.95))], 2)
        figures_.max_reply_s = round(values[-1], 2)
    return result


def settled(client: list[dict[str, str]], inbound: list[Any], replies: list[Any]) -> bool:
    """Whether every accepted message is stored and answered, and every reply is final."""
    stored = {(row["channel"], row["external_id"]): row for row in inbound}
    by_id = {row["id"]: row for row in inbound}
    answered = {row["in_reply_to"] for row in replies if row["status"] in
                ("delivered", "delivery_failed")}
    for entry in client:
        row = stored.get((entry["channel"], entry["external_id"]))
        while row is not None and row["replies"] == 0 and row["merged_into"] in by_id:
            row = by_id[row["merged_into"]]
        if row is None or row["id"] not in answered:
            return False
    return True


def as_dict(result: dict[str, ChannelFigures]) -> dict[str, dict[str, Any]]:
    return {channel: asdict(values) for channel, values in result.items()}
