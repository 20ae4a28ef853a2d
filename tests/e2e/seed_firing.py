"""Store a stalled-ticket firing for one of the demo tenant's tickets, as the triggers' sweep
stores it (`insert_firing`): how the browser test gets the running scheduler to propose
something. `python -m tests.e2e.seed_firing TKT-1001 [sla_event]` with DATABASE_URL set;
prints the firing's id."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import asyncpg

from production import clock
from production.config import INTERNAL_TENANT
from production.database.queries import proactive
from production.domain.proactive.firing import Firing, TriggerName


async def seed(url: str, ticket_number: str, event: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads,
                                  schema="pg_catalog")
        ticket = await conn.fetchrow(
            "SELECT id, customer_id, priority FROM tickets WHERE tenant_id = $1"
            " AND ticket_number = $2", INTERNAL_TENANT, ticket_number)
        assert ticket is not None, f"no ticket {ticket_number}"
        now = clock.now()
        firing = Firing(
            trigger=TriggerName.STALLED_TICKET, version=1, customer_id=ticket["customer_id"],
            window_key=f"ticket:{ticket['id']}:{event}",
            reason=f"{event.replace('_', ' ')} due 3h ago (priority {ticket['priority']})",
            facts={"ticket_id": str(ticket["id"]), "ticket_number": ticket_number,
                   "priority": ticket["priority"], "sla_event": event, "overdue_h": 3})
        firing_id = await proactive.insert_firing(conn, tenant_id=INTERNAL_TENANT,
                                                  firing=firing, now=now)
        return str(firing_id)
    finally:
        await conn.close()


if __name__ == "__main__":
    number, sla_event = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "resolution")
    print(asyncio.run(seed(os.environ["DATABASE_URL"], number, sla_event)))
