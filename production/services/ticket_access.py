"""Who may read a ticket: issuing its customer's access token, and opening it with one.

The token is issued lazily and idempotently: the first time a ticket needs one (the form's
receipt, the first email or WhatsApp reply stored for it, a lookup by number and email), a
random nonce and the token's hash are stored with it; every later issue derives the same token
from that nonce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from production.config import Settings
from production.database.pool import Connection, Pool
from production.database.queries import messages, tickets
from production.database.queries.deliveries import SandboxedDelivery
from production.database.queries.messages import OutboundReply, VisibleMessage
from production.domain import ticket_access
from production.domain.formatting import (
    ChannelStyle,
    carries_status_link,
    link_room,
    with_status_link,
)
from production.domain.ticket_access import TicketLinks

TICKET_NUMBER = re.compile(r"^TKT-\d{1,12}$")
# Two issuers racing for a ticket's first token: one wins, the other reads the winner's nonce.
_ISSUE_TRIES = 3


@dataclass(frozen=True)
class Conversation:
    """A ticket and the messages its customer may see."""

    ticket: dict[str, Any]
    messages: list[VisibleMessage]


def links_for(*, settings: Settings) -> TicketLinks:
    """Return how this deployment derives ticket tokens and links to status pages."""
    return TicketLinks(secret=settings.tickets.token_secret.get_secret_value().encode(),
                       base_url=settings.api.public_base_url())


async def link_room_for(*, conn: Connection, settings: Settings, style: ChannelStyle,
                        tenant_id: str, number: str | None) -> int:
    """Return what the status link the dispatcher adds to a reply will take of its channel's
    limit (its length is known before its token: every token is as long).

    Issues the ticket's token first if it has none, in the caller's transaction, so that it is
    stored before the reply that links to it leaves.
    """
    if number is None or not carries_status_link(style.channel):
        return 0
    links = links_for(settings=settings)
    await issue_for(conn, links, tenant_id, number)
    return link_room(style, links.status_url(number, "x" * ticket_access.TOKEN_LENGTH))


async def issue(conn: Connection, links: TicketLinks, tenant_id: str, number: str, *,
                nonce: bytes | None, stored_hash: bytes | None) -> str:
    """Return the ticket's access token, storing its nonce and hash the first time.

    `nonce` and `stored_hash` are what the caller read with the ticket. A stored hash the
    derived token does not match (the secret was rotated since) re-keys the ticket.
    """
    for _ in range(_ISSUE_TRIES):
        if nonce is not None:
            token = links.token(tenant_id, number, nonce)
            if ticket_access.matches(token, stored_hash):
                return token
        fresh = ticket_access.new_nonce()
        token = links.token(tenant_id, number, fresh)
        if await tickets.set_access(conn, tenant_id, number, replaces=nonce, nonce=fresh,
                                    token_hash=ticket_access.token_hash(token)):
            return token
        nonce, stored_hash = await tickets.access_of(conn, tenant_id, number)
    raise RuntimeError(f"ticket {number}: its access token kept changing while issued")


async def issue_for(conn: Connection, links: TicketLinks, tenant_id: str, number: str) -> str:
    """Return the ticket's access token (reading what is stored first)."""
    nonce, stored_hash = await tickets.access_of(conn, tenant_id, number)
    return await issue(conn, links, tenant_id, number, nonce=nonce, stored_hash=stored_hash)


async def open_with_token(*, pool: Pool, tenant_id: str, number: str,
                          presented: str | None) -> Conversation | None:
    """Return the ticket's conversation when `presented` is its token; None otherwise.

    An unknown ticket, a missing token and a wrong one are the same None after the same work:
    one lookup, one hash and one constant-time comparison.
    """
    if not TICKET_NUMBER.match(number):
        return None
    async with pool.acquire() as conn:
        ticket = await tickets.get_by_number(conn, tenant_id, number)
        stored = ticket["access_hash"] if ticket is not None else None
        if not ticket_access.matches(presented, stored) or ticket is None:
            return None
        return await _conversation(conn, tenant_id, ticket)


async def open_as_operator(*, pool: Pool, tenant_id: str, number: str) -> Conversation | None:
    """Return a ticket's conversation for an operator of its tenant (None if there is none)."""
    if not TICKET_NUMBER.match(number):
        return None
    async with pool.acquire() as conn:
        ticket = await tickets.get_by_number(conn, tenant_id, number)
        return await _conversation(conn, tenant_id, ticket) if ticket is not None else None


async def _conversation(conn: Connection, tenant_id: str, ticket: dict[str, Any]) -> Conversation:
    return Conversation(ticket, await messages.visible_for_ticket(conn, tenant_id, ticket["id"]))


async def token_by_email(*, pool: Pool, links: TicketLinks, tenant_id: str, number: str,
                         email: str) -> str | None:
    """Return the ticket's access token when `email` is one its customer wrote from; else None.

    An unknown ticket and a wrong address are the same None after the same comparisons.
    """
    if not TICKET_NUMBER.match(number):
        return None
    async with pool.acquire() as conn:
        ticket = await tickets.with_owner_emails(conn, tenant_id, number)
        known = ticket["emails"] if ticket is not None else ()
        if not ticket_access.same_email(email, known) or ticket is None:
            return None
        return await issue(conn, links, tenant_id, number, nonce=ticket["access_nonce"],
                           stored_hash=ticket["access_hash"])


async def with_link(conn: Connection, links: TicketLinks, tenant_id: str,
                    outbound: OutboundReply) -> str:
    """Return an outbound reply's text as it leaves: on email and WhatsApp, with the link to
    its ticket's status page. The worker issued the token with the reply; a reply stored
    another way has it issued now."""
    body: str = outbound.content
    number = outbound.ticket_number
    if number is None or not carries_status_link(outbound.channel):
        return body
    token = await issue(conn, links, tenant_id, number, nonce=outbound.access_nonce,
                        stored_hash=outbound.access_hash)
    return with_status_link(body, outbound.channel, links.status_url(number, token))


def as_sent(links: TicketLinks, tenant_id: str, recorded: SandboxedDelivery) -> str:
    """Return a recorded reply's body as it went out, its status link derived again from the
    ticket's nonce (the sandbox outbox, for a developer: the link itself is never stored)."""
    body: str = recorded.body
    number = recorded.ticket_number
    if number is None or recorded.access_nonce is None:
        return body
    token = links.token(tenant_id, number, recorded.access_nonce)
    return with_status_link(body, recorded.channel, links.status_url(number, token))
