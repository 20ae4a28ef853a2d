"""The three-channel load, short (`make load` is the long one): web-form, WhatsApp and email
customers against a real `fte up` on the provider fakes for 30 s. Every accepted message is
answered once and delivered once, per channel; then every process's log output is scanned for
the email addresses and phone numbers the run used, and none is there. The soak's sampler
(tests/load/soak.py, `make soak`) watches the run and sees every process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.load.run import run
from tests.load.soak import Sampler, summarize, write_csv

pytestmark = pytest.mark.e2e


def test_thirty_seconds_of_three_channels_lose_nothing_and_log_no_pii(tmp_path: Path) -> None:
    sampler = Sampler(tmp_path / "load", interval_s=15)
    result = run(users=20, spawn_rate=10, duration_s=30, out=tmp_path / "load", drain_s=120,
                 observer=sampler)
    for channel, figures in result.channels.items():
        assert figures["accepted"] > 0, channel
        assert figures["lost"] == 0, (channel, figures)
        assert figures["duplicated"] == 0, (channel, figures)
        assert figures["answered"] == figures["delivered"] == figures["accepted"], channel
    assert result.identities >= sum(f["accepted"] for f in result.channels.values()) // 3
    assert result.logs_scanned["fte-up.log"] > 10_000  # the children's logs are in it
    assert result.pii_found == []
    assert (tmp_path / "load" / "locust.html").is_file()
    assert result.locust["web: submit"]["failures"] == 0
    _the_sampler_saw_every_process(sampler, result.channels, tmp_path / "load")


def _the_sampler_saw_every_process(sampler: Sampler, channels: dict[str, dict[str, int]],
                                   out: Path) -> None:
    assert len(sampler.samples) >= 3, sampler.errors  # at 0, 15 and 30 s, and at the end
    for name in ("supervisor", "api", "api-process-1", "api-process-2", "worker",
                 "dispatcher", "relay", "scheduler", "broker", "postgres", "postgres-backends",
                 "fakes", "locust"):  # Locust has exited by the last sample
        seen = [s["processes"][name] for s in sampler.samples if name in s["processes"]]
        assert seen and all(row["rss_mb"] > 0 and row["fds"] > 0 for row in seen), name
    last = sampler.samples[-1]
    for name in ("worker", "dispatcher", "relay", "api-process-1"):
        assert last["db"]["by_process"][name], (name, last["db"])
        assert last["processes"][name]["db_connections"] > 0, name
    assert last["processes"]["postgres-backends"]["count"] > 0 and last["db"]["total"] > 0
    assert last["outbox_backlog"] >= 0 and last["unprocessed_inbound"] >= 0
    assert {"fte-worker", "fte-dispatcher"} <= set(last["consumer_lag"]), last["consumer_lag"]
    summary = summarize(sampler, channels, warmup_s=0)
    assert summary["processes"]["worker"]["rss_mb"]["samples"] == len(sampler.samples)
    assert summary["latency"]["web_form"]["first_10_min"]["replies"] == \
        channels["web_form"]["delivered"]
    write_csv(out, sampler.samples)
    assert (out / "processes.csv").read_text().count("\n") > 13 * len(sampler.samples)
