"""`fte topics`: creates what is missing and warns about a topic with too few partitions (the
worker's autoscaling needs a partition per pod) instead of silently keeping it."""

from __future__ import annotations

import uuid

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from structlog.testing import capture_logs

from production.config import Settings
from production.messaging.kafka import ensure_topics


async def test_missing_topics_are_created_and_a_short_one_is_reported(
        settings: Settings) -> None:
    tag = uuid.uuid4().hex[:8]
    names = {"topic_incoming": f"in-{tag}", "topic_outgoing": f"out-{tag}",
             "topic_dlq": f"dlq-{tag}"}
    own = settings.model_copy(update={"kafka": settings.kafka.model_copy(
        update={**names, "partitions": 6})})
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_servers())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(names["topic_incoming"], 2, 1)])
        with capture_logs() as logs:
            created = await ensure_topics(own)
        assert sorted(created) == sorted([names["topic_outgoing"], names["topic_dlq"]])
        assert [e for e in logs if e["event"] == "topic_has_fewer_partitions"] == [{
            "event": "topic_has_fewer_partitions", "log_level": "warning",
            "topic": names["topic_incoming"], "partitions": 2, "configured": 6}]
        described = await admin.describe_topics([names["topic_outgoing"]])
        assert len(described[0]["partitions"]) == 6

        with capture_logs() as logs:
            assert await ensure_topics(own) == []
        assert [e["topic"] for e in logs if e["event"] == "topic_has_fewer_partitions"] == [
            names["topic_incoming"]]
    finally:
        await admin.close()
