"""Migrations from several pods at once, and the sweeper recovering messages the broker lost."""

from __future__ import annotations

import asyncio
import io
import json
import uuid

import asyncpg
import numpy as np
import pytest
import structlog

from production.config import Settings
from production.database.migrate import load_migrations, migrate
from production.database.pool import Pool, create_pool
from production.database.queries import reference
from production.domain.support_form import SupportFormSubmission
from production.embeddings import DIMENSIONS
from production.local_stack import EmbeddedPostgres
from production.logging import configure_logging
from production.services import ticket_access
from production.services.intake import submit_support_form
from production.settings_env import with_database
from tests.conftest import Stack, as_customer, form, wait_for


async def test_migrations_run_once_even_when_several_pods_start_together(
    postgres: EmbeddedPostgres,
) -> None:
    name = f"fte_migrate_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"postgresql://postgres@127.0.0.1:{postgres.port}/{name}"

    results = await asyncio.gather(*(migrate(url) for _ in range(4)))

    versions = [m.version for m in load_migrations()]
    assert sorted(results, key=len, reverse=True)[0] == versions  # one pod applied them all
    assert sum(len(r) for r in results) == len(versions)  # and nobody applied any twice
    assert await migrate(url) == []  # a later run has nothing to do
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(versions)
        seeded = await conn.fetch("SELECT channel, max_response_length, length_unit "
                                  "FROM channel_configs ORDER BY channel")
        assert [(r["channel"], r["max_response_length"], r["length_unit"]) for r in seeded] == [
            ("email", 500, "words"), ("web_form", 300, "words"), ("whatsapp", 300, "chars")]
    finally:
        await conn.close()


async def test_a_pool_opened_before_the_migrations_searches_vectors_after_them(
    postgres: EmbeddedPostgres, settings: Settings,
) -> None:
    """The pool registers pgvector's codec on each connection; one that opened before the
    migration created the extension gets it at its next acquire."""
    name = f"fte_early_pool_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"postgresql://postgres@127.0.0.1:{postgres.port}/{name}"
    pool = await create_pool(with_database(settings, url), min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:  # no vector type yet: the codec waits
            assert await conn.fetchval(
                "SELECT count(*) FROM pg_type WHERE typname = 'vector'") == 0
        await migrate(url)
        vector = np.random.default_rng(3).standard_normal(DIMENSIONS).astype(np.float32)
        async with pool.acquire() as conn:  # the same connection, now with the codec
            await reference.upsert_knowledge(
                conn, "techcorp", title="Early", content="A pool older than its schema.",
                category=None, source="test", content_hash="h", embedding=vector.tolist(),
                model="m")
            [nearest] = await reference.nearest_knowledge(conn, "techcorp", vector.tolist(),
                                                          model="m")
            stored = await conn.fetchval("SELECT embedding FROM knowledge_base")
        assert nearest.similarity == pytest.approx(1.0)
        assert np.array_equal(stored.to_numpy(), vector)  # float4, bit for bit
    finally:
        await pool.close()


async def test_the_sweeper_requeues_a_message_whose_event_the_broker_lost(stack: Stack) -> None:
    # Accept a form, then lose its event the way a restarted memory-only broker would:
    # the outbox row counts as published, but nothing reached Kafka.
    submission = SupportFormSubmission.model_validate(form())
    receipt = await _accept_without_publishing(stack, submission)

    async def replied() -> bool:
        res = await as_customer(stack, receipt)
        return any(m["direction"] == "outbound" for m in res.json()["messages"])

    await wait_for(replied, timeout_s=15, interval_s=0.2)
    async with stack.pool.acquire() as conn:
        republished = await conn.fetchval(
            "SELECT last_published_at IS NOT NULL FROM messages m JOIN tickets t "
            "ON t.id = m.ticket_id WHERE t.ticket_number = $1 AND m.direction = 'inbound'",
            receipt)
    assert republished


async def _accept_without_publishing(stack: Stack, submission: SupportFormSubmission) -> str:
    # Published where no worker listens (the dead-letter topic): for the worker it is lost.
    receipt = await submit_support_form(pool=stack.pool, tenant_id="techcorp", form=submission,
                                        idempotency_key=None,
                                        topic=stack.settings.kafka.topic_dlq,
                                        links=ticket_access.links_for(settings=stack.settings))
    return receipt.ticket_id


def test_logs_are_json_and_carry_no_email_or_phone() -> None:
    buffer = io.StringIO()
    configure_logging("INFO", process="test")
    structlog.configure(logger_factory=structlog.WriteLoggerFactory(file=buffer))
    try:
        structlog.get_logger("t").info("form_accepted", customer_id="c-1", channel="web_form",
                                       note="from ada@example.com or +1 415 555 0123")
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
    line = json.loads(buffer.getvalue().strip().splitlines()[-1])
    assert line["event"] == "form_accepted"
    assert line["customer_id"] == "c-1" and line["channel"] == "web_form"
    assert line["process"] == "test" and line["level"] == "info" and line["timestamp"]
    assert "ada@example.com" not in buffer.getvalue()
    assert "415" not in buffer.getvalue()


async def test_only_one_relay_publishes_at_a_time_and_a_standby_takes_over(
    postgres: EmbeddedPostgres, broker: object
) -> None:
    from production.database.queries import outbox
    from production.services.relay import run_relay
    from tests.conftest import isolated_settings

    settings: Settings = await isolated_settings(postgres, broker, "relay")  # type: ignore[arg-type]
    pool = await create_pool(settings, min_size=1, max_size=6)
    published: dict[str, list[str]] = {"a": [], "b": []}

    def recorder(name: str):  # type: ignore[no-untyped-def]
        async def send(topic: str, key: bytes, value: bytes, headers: object) -> object:
            published[name].append(key.decode())
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        return send

    async def enqueue(keys: range) -> None:
        async with pool.acquire() as conn:
            for i in keys:
                await outbox.enqueue(conn, "techcorp", topic="t", key=str(i), payload={"i": i})

    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    relay_a = asyncio.create_task(run_relay(pool=pool, settings=settings, send=recorder("a"),
                                            stopping=stop_a))
    await wait_for(lambda: _relay_lock_held(pool))  # a leads before b starts
    relay_b = asyncio.create_task(run_relay(pool=pool, settings=settings, send=recorder("b"),
                                            stopping=stop_b))
    try:
        await enqueue(range(50))
        await wait_for(lambda: _published(published, 50))
        assert published["a"] == [str(i) for i in range(50)]  # the leader, in outbox order
        assert published["b"] == []  # the standby published nothing
        stop_a.set()
        await relay_a
        await enqueue(range(50, 60))
        await wait_for(lambda: _published(published, 60), timeout_s=10)
        assert published["b"] == [str(i) for i in range(50, 60)]
    finally:
        stop_a.set()
        stop_b.set()
        await asyncio.gather(relay_a, relay_b)
        await pool.close()


async def _relay_lock_held(pool: Pool) -> bool:
    """True once a session of this database holds an advisory lock (the relay's)."""
    async with pool.acquire() as conn:
        return bool(await conn.fetchval(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"))


async def _published(published: dict[str, list[str]], total: int) -> bool:
    return sum(len(v) for v in published.values()) >= total
