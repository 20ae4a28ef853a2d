"""Ready means ready: the API says `starting` (503) until the worker's and the dispatcher's
consumer groups hold their partitions, and a later rebalance is `degraded`, not `starting`."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from production.config import Settings
from production.database.pool import Pool
from production.messaging.kafka import _consuming, groups_ready, make_consumer
from tests.conftest import running_stack, wait_for


def _group(state: str, *assignments: list[tuple[str, list[int]]]) -> dict[str, object]:
    return {"error_code": 0, "group": "g", "state": state, "members": [
        {"member_assignment": ConsumerProtocolMemberAssignment(0, a, b"").encode() if a
         else b""} for a in assignments]}


@pytest.mark.parametrize(("group", "ready"), [
    (_group("Stable", [("t", [0, 1])], [("t", [2])]), True),
    (_group("Stable", [("t", [0, 1])]), False),  # partition 2 is nobody's
    (_group("Stable", [("other", [2])], [("t", [0, 1])]), False),
    (_group("PreparingRebalance", [("t", [0, 1, 2])]), False),
    (_group("Stable", []), True),  # the local broker reports no assignment bytes
    (_group("Empty"), False),
    ({"error_code": 16, "group": "g", "state": "", "members": []}, False),
    (None, False),
])
def test_a_group_consumes_only_when_stable_and_holding_every_partition(
        group: dict[str, object] | None, ready: bool) -> None:
    assert _consuming(group, "t", {0, 1, 2}) is ready


def test_a_stable_group_without_members_or_partitions_does_not_consume() -> None:
    assert not _consuming({"error_code": 0, "state": "Stable", "members": []}, "t", {0})
    assert not _consuming(_group("Stable", []), "t", set())


async def test_health_is_starting_until_every_consumer_holds_its_partitions(
        settings: Settings, pool: Pool) -> None:
    tag = uuid.uuid4().hex[:8]
    own = settings.model_copy(update={"kafka": settings.kafka.model_copy(update={
        "worker_group": f"worker-{tag}", "dispatcher_group": f"dispatcher-{tag}"})})
    async with running_stack(own, pool, workers=False) as api:
        res = await api.http.get("/api/v1/health")
        assert res.status_code == 503
        assert res.json()["status"] == "starting"
        assert res.json()["components"]["consumers"] == {
            f"worker-{tag}": "starting", f"dispatcher-{tag}": "starting"}

        worker = make_consumer(own, own.kafka.topic_incoming, own.kafka.worker_group)
        dispatcher = make_consumer(own, own.kafka.topic_outgoing, own.kafka.dispatcher_group)
        joining = make_consumer(own, own.kafka.topic_incoming, own.kafka.worker_group)
        await worker.start()
        await dispatcher.start()
        try:
            async def status() -> str | None:
                body = (await api.http.get("/api/v1/health")).json()
                return body["status"] if body["status"] != "starting" else None

            assert await wait_for(status, timeout_s=20) == "healthy"

            # After the start, a second worker joining rebalances the group: reported, and
            # the API stays in rotation (it is not `starting` again).
            async def degraded() -> dict[str, object] | None:
                res = await api.http.get("/api/v1/health")
                body = res.json()
                return body if res.status_code == 200 and body["status"] == "degraded" else None

            join = asyncio.create_task(joining.start())
            # A member that joins a live group makes the others wait for it: keep the first
            # worker polling, as the worker's loop does.
            polling = asyncio.create_task(_poll(worker, join))
            body = await wait_for(degraded, timeout_s=20)
            assert body["components"]["consumers"] == {f"worker-{tag}": "rebalancing",
                                                       f"dispatcher-{tag}": "up"}
            await join
            await polling
            assert await wait_for(status, timeout_s=20) == "healthy"
        finally:
            for consumer in (joining, dispatcher, worker):
                await consumer.stop()


async def _poll(consumer: AIOKafkaConsumer, until: asyncio.Task[None]) -> None:
    while not until.done():
        await consumer.getmany(timeout_ms=100)


async def test_an_api_without_consumers_does_not_wait_for_them(
        settings: Settings, pool: Pool) -> None:
    own = settings.model_copy(update={"api": settings.api.model_copy(update={
        "ready_requires_consumers": False}), "kafka": settings.kafka.model_copy(update={
            "worker_group": f"nobody-{uuid.uuid4().hex[:8]}"})})
    async with running_stack(own, pool, workers=False) as api:
        res = await api.http.get("/api/v1/health")
        assert res.status_code == 200
        assert res.json()["status"] == "healthy"
        assert "consumers" not in res.json()["components"]


async def test_asking_whether_consumers_are_ready_creates_no_topic(settings: Settings) -> None:
    tag = uuid.uuid4().hex[:8]
    missing = {f"nobody-{tag}": f"absent-{tag}"}
    assert await groups_ready(settings, missing) == {f"nobody-{tag}": False}
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_servers())
    await admin.start()
    try:
        assert f"absent-{tag}" not in await admin.list_topics()
    finally:
        await admin.close()
