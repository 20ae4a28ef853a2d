"""Settings handed on (settings_env) and `fte up`'s plan, without I/O: a child process
reads exactly the settings its parent hands it, and `fte up` runs what its settings say."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from production import settings_env
from production.bootstrap import Process
from production.config import (
    CareSettings,
    DatabaseSettings,
    KafkaSettings,
    OpenAISettings,
    ReliabilitySettings,
    Settings,
    UpSettings,
)
from production.local_stack import LocalBroker
from production.supervisor import Child, LocalStack, plan


def _clear_settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every variable a Settings group reads, so only what the test sets counts."""
    defaults = Settings()
    groups = [getattr(defaults, name) for name in Settings.model_fields]
    prefixes = tuple(group.model_config["env_prefix"].upper() for group in groups
                     if isinstance(group, BaseSettings))
    top = {name.upper() for name in Settings.model_fields}
    for name in list(os.environ):
        if name.upper() in top or name.upper().startswith(prefixes):
            monkeypatch.delenv(name)


def test_a_child_process_reads_the_settings_it_was_handed(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    parent = Settings(
        log_level="WARNING", enabled_channels=["email", "web_form"], metrics_port=0,
        database=DatabaseSettings(url="postgresql://postgres@127.0.0.1:5432/fte",
                                  pool_max_size=7),
        kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9092", enable_idempotence=False,
                            topic_incoming="t.in", max_in_flight=3),
        openai=OpenAISettings(api_key="sk-test", base_url="http://127.0.0.1:1/v1"),
        care=CareSettings(autonomy_enabled=True, shadow_mode=False,
                          tenant_allowlist=["globex", "initech"]),
        reliability=ReliabilitySettings(backoff_initial_s=0.01, sweeper_deadline_s=2.5),
        up=UpSettings(workers=3),
    )
    _clear_settings_env(monkeypatch)
    env = settings_env.settings_env(parent)
    assert env["DATABASE_URL"] == "postgresql://postgres@127.0.0.1:5432/fte"
    assert env["CARE_TENANT_ALLOWLIST"] == "globex,initech"
    assert env["KAFKA_ENABLE_IDEMPOTENCE"] == "false"
    assert "WEB_DIST_DIR" not in env  # unset: the child keeps its default
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings().model_dump() == parent.model_dump()


def test_child_env_is_this_environment_then_the_settings_then_the_extras(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTE_TEST_INHERITED", "kept")
    settings = settings_env.with_database(Settings(), "postgresql://postgres@127.0.0.1:1/x")
    env = settings_env.child_env(settings, METRICS_PORT="0")
    assert env["FTE_TEST_INHERITED"] == "kept"
    assert env["DATABASE_URL"] == "postgresql://postgres@127.0.0.1:1/x"
    assert env["METRICS_PORT"] == "0"


def test_with_database_copies_the_settings() -> None:
    original = Settings()
    scoped = settings_env.with_database(original, "postgresql://postgres@127.0.0.1:1/other")
    assert scoped.database_url() == "postgresql://postgres@127.0.0.1:1/other"
    assert original.database.url != scoped.database.url


def test_fte_up_runs_one_of_each_by_default_and_as_many_as_it_is_told() -> None:
    assert plan(UpSettings()) == [("api", "api"), ("worker", "worker"),
                                  ("dispatcher", "dispatcher"), ("relay", "relay"),
                                  ("scheduler", "scheduler")]
    assert plan(UpSettings(workers=2, dispatchers=3)) == [
        ("api", "api"), ("worker-1", "worker"), ("worker-2", "worker"),
        ("dispatcher-1", "dispatcher"), ("dispatcher-2", "dispatcher"),
        ("dispatcher-3", "dispatcher"), ("relay", "relay"), ("scheduler", "scheduler")]


def test_the_queue_drainers_start_at_a_lower_priority_through_nice() -> None:
    cli = [sys.executable, "-m", "production.cli"]
    assert Child("worker-2", "worker", {}).argv() == ["nice", "-n", "10", *cli, "worker"]
    assert Child("dispatcher", "dispatcher", {}).argv() == ["nice", "-n", "5", *cli,
                                                            "dispatcher"]
    assert Child("api", "api", {}).argv() == [*cli, "api"]


def test_the_children_run_on_the_stack_with_the_local_limits_and_the_demo_opt_in() -> None:
    stack = Settings(kafka=KafkaSettings(bootstrap_servers="127.0.0.1:1"),
                     up=UpSettings(api_processes=3))
    local = LocalStack(stack, data_dir=Path("unused"), broker=LocalBroker(port=1))
    child = local.child_settings(stack)
    assert (child.api.workers, child.kafka.enable_idempotence) == (3, False)
    assert (child.care.autonomy_enabled, child.care.shadow_mode) == (True, False)
    assert stack.care.autonomy_enabled is False  # the stack's own settings are untouched

    external = LocalStack(stack, data_dir=Path("unused"), autonomy_demo=False)
    observed = external.child_settings(stack.model_copy(update={"up": UpSettings()}))
    assert observed.api.workers == min(2, os.cpu_count() or 1)
    assert observed.kafka.enable_idempotence is True  # real Kafka can do it
    assert observed.care.autonomy_enabled is False


async def test_a_process_stops_every_loop_when_one_fails_and_raises_its_error() -> None:
    stopping = asyncio.Event()
    ended: list[str] = []

    async def steady() -> None:
        await stopping.wait()
        ended.append("steady")

    async def failing() -> None:
        raise RuntimeError("dead-letter ratio exceeded")

    process = Process("worker", loops=(steady, failing), stopping=stopping)
    with pytest.raises(RuntimeError, match="dead-letter ratio"):
        await asyncio.wait_for(process.run(), 5)
    assert stopping.is_set() and ended == ["steady"]


async def test_a_process_warms_up_first_and_its_loops_end_when_it_is_asked_to_stop() -> None:
    stopping = asyncio.Event()
    warmed: list[str] = []

    async def warm_up() -> None:
        warmed.append("model")

    async def loop() -> None:
        await stopping.wait()

    process = Process("relay", loops=(loop, loop), stopping=stopping, warm_up=warm_up)
    await process.start()
    assert warmed == ["model"]
    running = asyncio.create_task(process.run())
    stopping.set()
    await asyncio.wait_for(running, 5)
    await process.stop()
