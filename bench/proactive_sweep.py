"""The proactive sweep at volume: 100,000 synthetic customers in a scratch embedded PostgreSQL.

Four tenants of 25,000 customers (BENCH_PROACTIVE_CUSTOMERS, default 100,000; 10,000 with
BENCH_QUICK=1), seeded set-based: a C.A.R.E. state each (70% active, 15% at risk, 10% dormant,
5% reactivated, a fifth of them moved in the last week), one to four messages from the customer
in the last 60 days with a sentiment and our reply to each, a knowledge-base topic on a third
of them and a pricing question on 2%, an open ticket for 20% (a random priority, opened in the
last ten days, on the customer's last message, half of them answered), an open follow-up task
for 2%, a merge candidate for 0.5% and a rejected proposal for 3%.

Then, with the PerceptionScheduler's cap lifted to the tenant's size:
1. the full sweep at `now`: every customer's facts gathered, triggers run, health scored and
   stored, firings written;
2. a second sweep a minute later: nobody is due (~no work: one claim per tenant);
3. a forced look two minutes later (every customer made due again, as after lost leases, then
   VACUUM ANALYZE of the plans, as autovacuum would): the facts are gathered, their
   fingerprints match, nothing is recomputed or written but the plan.
Each reports its wall time, the statements sent (counted by an asyncpg query logger on the
pool's connections), the customers looked at and recomputed, the firings, and the process's
peak RSS during it (sampled every 20 ms). `python bench/proactive_sweep.py` runs it alone.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scratch_db import scratch_pool

from production.config import Settings
from production.database.pool import Pool
from production.domain.proactive.assessment import Assessor
from production.services import proactive

QUICK = os.environ.get("BENCH_QUICK") == "1"
CUSTOMERS = int(os.environ.get("BENCH_PROACTIVE_CUSTOMERS", "10000" if QUICK else "100000"))
TENANTS = 4
NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)

_SEED = [
    "INSERT INTO tenants (id, name) SELECT 'bench-' || t, 'Bench ' || t"
    " FROM generate_series(1, $2::int) t WHERE $1::timestamptz IS NOT NULL",
    # customers: id order is random; n numbers them within the tenant
    "INSERT INTO customers (tenant_id, name, created_at)"
    " SELECT 'bench-' || (1 + g % $2::int), 'c' || g,"
    "        $1::timestamptz - (30 + g % 400) * interval '1 day'"
    " FROM generate_series(1, $3::int) g",
    """INSERT INTO customer_care_state (tenant_id, entity_type, entity_id, care_state,
                                        escalation_status, last_signal_at, created_at, updated_at)
       SELECT tenant_id, 'contact', id,
              CASE WHEN r < 0.70 THEN 'active' WHEN r < 0.85 THEN 'at_risk'
                   WHEN r < 0.95 THEN 'dormant' ELSE 'reactivated' END,
              CASE WHEN random() < 0.03 THEN 'open' END,
              $1::timestamptz - random() * interval '60 days', created_at, created_at
       FROM (SELECT tenant_id, id, created_at, random() AS r FROM customers
             WHERE tenant_id LIKE 'bench-%') c""",
    """INSERT INTO customer_care_state_history (tenant_id, entity_type, entity_id, from_state,
                                                to_state, reason, actor, created_at)
       SELECT tenant_id, 'contact', entity_id, 'active', care_state, 'bench', 'bench',
              $1::timestamptz - CASE WHEN random() < 0.2 THEN random() * interval '7 days'
                                     ELSE interval '8 days' + random() * interval '30 days' END
       FROM customer_care_state WHERE tenant_id LIKE 'bench-%' AND care_state <> 'active'""",
    """INSERT INTO conversations (tenant_id, customer_id, initial_channel, current_channel,
                                  started_at, last_message_at)
       SELECT tenant_id, id, 'email', 'email', created_at, created_at FROM customers
       WHERE tenant_id LIKE 'bench-%'""",
    """INSERT INTO messages (tenant_id, conversation_id, customer_id, channel, direction, role,
                             content, subject, status, sentiment, created_at)
       SELECT v.tenant_id, v.id, v.customer_id, 'email', 'inbound', 'customer', 'hello',
              'Question ' || (k % 5), 'processed',
              least(1, greatest(0, 0.55 + (random() - 0.5) * 0.8)),
              $1::timestamptz - random() * interval '60 days'
       FROM conversations v CROSS JOIN LATERAL generate_series(1, 1 + (hashtext(v.id::text) & 3)) k
       WHERE v.tenant_id LIKE 'bench-%'""",
    """INSERT INTO messages (tenant_id, conversation_id, customer_id, channel, direction, role,
                             content, status, in_reply_to, created_at)
       SELECT tenant_id, conversation_id, customer_id, 'email', 'outbound', 'agent',
              CASE WHEN random() < 0.1 THEN 'A teammate will get back to you soon.'
                   ELSE 'Here is how to do it.' END, 'delivered', id,
              created_at + random() * interval '2 minutes'
       FROM messages WHERE tenant_id LIKE 'bench-%' AND direction = 'inbound'""",
    """INSERT INTO agent_metrics (tenant_id, message_id, metric_name, metric_value, dimensions,
                                  recorded_at)
       SELECT tenant_id, id, 'escalated', 0,
              jsonb_build_object('kb_topic', (ARRAY['Sync', 'Billing', 'Exports', 'SSO'])[
                                     1 + (hashtext(id::text) & 3)],
                                 'escalation_reasons', CASE WHEN random() < 0.06
                                     THEN '["pricing_or_contract"]'::jsonb ELSE '[]'::jsonb END),
              created_at
       FROM messages
       WHERE tenant_id LIKE 'bench-%' AND direction = 'inbound' AND random() < 0.33""",
    """WITH chosen AS (
           SELECT DISTINCT ON (customer_id) tenant_id, customer_id, conversation_id, id,
                  created_at
           FROM messages WHERE tenant_id LIKE 'bench-%' AND direction = 'inbound'
           ORDER BY customer_id, created_at DESC),
       opened AS (
           INSERT INTO tickets (tenant_id, customer_id, conversation_id, source_channel,
                                source_message_id, priority, category, created_at, updated_at)
           SELECT tenant_id, customer_id, conversation_id, 'email', id,
                  (ARRAY['low', 'medium', 'high', 'urgent'])[1 + (hashtext(id::text) & 3)],
                  'general', $1::timestamptz - random() * interval '10 days', $1::timestamptz
           FROM chosen WHERE random() < 0.2 RETURNING id, source_message_id)
       UPDATE messages m SET ticket_id = opened.id FROM opened
       WHERE m.id = opened.source_message_id""",
    # Half the tickets were answered: our reply to the ticket's message is on the ticket.
    """UPDATE messages r SET ticket_id = m.ticket_id FROM messages m
       WHERE r.tenant_id LIKE 'bench-%' AND r.direction = 'outbound' AND m.id = r.in_reply_to
         AND m.ticket_id IS NOT NULL AND random() < 0.5""",
    """INSERT INTO care_tasks (tenant_id, customer_id, kind, title, created_by, created_at)
       SELECT tenant_id, id, 'follow_up_task', 'Call back', 'bench',
              $1::timestamptz - random() * interval '6 days'
       FROM customers WHERE tenant_id LIKE 'bench-%' AND random() < 0.02""",
    """INSERT INTO customer_merges (tenant_id, survivor_id, merged_id, status, reason, actor,
                                    created_at)
       SELECT a.tenant_id, a.id, b.id, 'candidate', 'shared phone', 'bench', $1::timestamptz
       FROM (SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) n
             FROM customers WHERE tenant_id LIKE 'bench-%') a
       JOIN (SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) n
             FROM customers WHERE tenant_id LIKE 'bench-%') b
         ON b.tenant_id = a.tenant_id AND b.n = a.n + 1
       WHERE a.n % 200 = 0""",
    """INSERT INTO care_proposals (tenant_id, customer_id, action, status, draft, outcome,
                                   created_at, expires_at)
       SELECT tenant_id, id, 'send_reply', 'rejected', 'draft', 'IDEA_REJECTED',
              $1::timestamptz - random() * interval '30 days', $1::timestamptz
       FROM customers WHERE tenant_id LIKE 'bench-%' AND random() < 0.03""",
    "ANALYZE",
]


class PeakRss:
    """The process's peak resident memory while the block runs, sampled every 20 ms."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            with open("/proc/self/statm") as statm:
                rss = int(statm.read().split()[1]) * page / 2**20
            self.peak_mb = max(self.peak_mb, rss)
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


async def _seed(pool: Pool) -> float:
    started = time.perf_counter()
    dsn = pool._connect_args[0]  # the scratch database's URL
    conn = await asyncpg.connect(dsn)  # no command timeout: seeding takes a while
    try:
        for statement in _SEED:
            await conn.execute(statement, *[NOW, TENANTS, CUSTOMERS][:_arity(statement)])
    finally:
        await conn.close()
    return time.perf_counter() - started


def _arity(statement: str) -> int:
    return max((n for n in (1, 2, 3) if f"${n}" in statement), default=0)


async def _counted(pool: Pool, counter: list[int]) -> None:
    """Count every statement the pool's connections send (both of them)."""
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    for conn in held:
        conn.add_query_logger(lambda record: counter.__setitem__(0, counter[0] + 1))
    for conn in held:
        await pool.release(conn)


async def _measure(pool: Pool, settings: Settings, name: str, now: datetime,
                   counter: list[int]) -> dict[str, Any]:
    counter[0] = 0
    assessor = Assessor(settings.proactive.rules())
    with PeakRss() as rss:
        started = time.perf_counter()
        report = await proactive.sweep(pool=pool, settings=settings, now=now,
                                       cap=CUSTOMERS, assessor=assessor)
        seconds = time.perf_counter() - started
    return {"sweep": name, "seconds": round(seconds, 2), "statements": counter[0],
            "looked": report.looked, "recomputed": report.recomputed,
            "unchanged": report.unchanged, "firings": report.firings,
            "by_trigger": dict(report.by_trigger), "peak_rss_mb": round(rss.peak_mb, 1),
            # per customer only where customers, not the pass's fixed cost, make the time
            "per_customer_ms": (round(seconds * 1000 / report.looked, 3)
                                if report.looked >= 100 else None)}


async def run() -> dict[str, Any]:
    async with scratch_pool("fte-bench-proactive-", max_size=3) as pool:
        settings = Settings()
        seeded_s = await _seed(pool)
        async with pool.acquire() as conn:
            counts = {table: await conn.fetchval(f"SELECT count(*) FROM {table}")
                      for table in ("customers", "messages", "tickets", "care_tasks")}
        counter = [0]
        await _counted(pool, counter)
        first = await _measure(pool, settings, "full", NOW, counter)
        second = await _measure(pool, settings, "nothing due", NOW + timedelta(minutes=1),
                                counter)
        conn = await asyncpg.connect(pool._connect_args[0])  # no command timeout
        try:
            await conn.execute("UPDATE care_perception SET next_look_at = '-infinity'")
            await conn.execute("VACUUM ANALYZE care_perception")
        finally:
            await conn.close()
        forced = await _measure(pool, settings, "forced look, facts unchanged",
                                NOW + timedelta(minutes=2), counter)
    return {"customers": CUSTOMERS, "tenants": TENANTS, "seeded_s": round(seeded_s, 1),
            "rows": counts, "batch_size": settings.proactive.batch_size,
            "sweeps": [first, second, forced], "load": os.getloadavg()}


def print_report(result: dict[str, Any]) -> None:
    print(f"\nProactive sweep: {result['customers']:,} customers in {result['tenants']} tenants "
          f"({result['rows']['messages']:,} messages, {result['rows']['tickets']:,} open "
          f"tickets; seeded in {result['seeded_s']} s), batches of {result['batch_size']}")
    print("| sweep | s | statements | looked | recomputed | firings | ms/customer | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for s in result["sweeps"]:
        print(f"| {s['sweep']} | {s['seconds']} | {s['statements']} | {s['looked']} | "
              f"{s['recomputed']} | {s['firings']} | {s['per_customer_ms']} | "
              f"{s['peak_rss_mb']} |")
    print(f"firings of the full sweep by trigger: {result['sweeps'][0]['by_trigger']}")
    print(f"load average after: {tuple(round(x, 2) for x in result['load'])}")


if __name__ == "__main__":
    print_report(asyncio.run(run()))
