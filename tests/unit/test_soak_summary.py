"""The soak's judge (tests/load/soak_summary.py) on series made up here: it must see memory
that keeps climbing, and not call a flat series (with noise), a warm-up that levels off or a
group's shared pages a leak; files, connections and queues likewise; latency per window."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.load import soak_summary

T0 = datetime(2030, 1, 1, tzinfo=UTC)
MINUTES = range(46)  # a 45-minute soak sampled once a minute (t = 0 included)


def _sample(minute: int, processes: dict[str, dict[str, Any]], **system: Any) -> dict[str, Any]:
    rows = {name: {"count": 1, "pids": [100], "rss_mb": 0.0, "pss_mb": 0.0, "uss_mb": 0.0,
                   "max_rss_mb": row.get("rss_mb", 0.0), "fds": 20, "threads": 4,
                   "cpu_s": 1.0, "db_connections": 2, **row}
            for name, row in processes.items()}
    return {"t_s": minute * 60.0, "loadavg": [2.0 + minute % 3, 2.0, 2.0], "processes": rows,
            "db": {"total": system.pop("db_total", 10)}, "outbox_backlog": 0,
            "unprocessed_inbound": 0, "undelivered_replies": 0, "consumer_lag": {"g": 0.0},
            **system}


def _noise(rng: random.Random, spread: float) -> float:
    return rng.uniform(-spread, spread)


def test_slope_is_least_squares_in_units_per_hour() -> None:
    assert soak_summary.slope_per_hour([(0, 100), (1800, 110), (3600, 120)]) == \
        pytest.approx(20.0)
    assert soak_summary.slope_per_hour([(0, 5), (60, 5)]) == 0
    assert soak_summary.slope_per_hour([(60, 5)]) is None
    assert soak_summary.slope_per_hour([(60, 5), (60, 6)]) is None


def test_a_leak_is_seen_and_a_flat_or_levelling_series_is_not() -> None:
    rng = random.Random(18)
    samples = []
    for m in MINUTES:
        samples.append(_sample(m, {
            # 30 MB an hour, with +-3 MB of noise: a leak.
            "worker": {"rss_mb": 200 + 0.5 * m + _noise(rng, 3)},
            # Flat at 150 MB, +-4 MB of noise (allocator arenas come and go).
            "api-process-1": {"rss_mb": 150 + _noise(rng, 4)},
            # Climbs 80 MB in its first ten minutes (caches, model, pool), then stays.
            "dispatcher": {"rss_mb": 100 + 8 * min(m, 10) + _noise(rng, 1)},
            # Rises steeply after the warm-up, then levels off for the later half: flattens.
            "relay": {"rss_mb": 120 + 2 * min(max(m - 10, 0), 10) + _noise(rng, 0.5)},
        }))
    result = soak_summary.processes(samples, warmup_s=600)
    assert result["worker"]["growing"] == ["memory"]
    assert result["worker"]["rss_mb"]["slope_per_h"] == pytest.approx(30, abs=6)
    assert result["api-process-1"]["growing"] == []
    assert abs(result["api-process-1"]["rss_mb"]["slope_per_h"]) < soak_summary.RSS_LIMIT_MB_PER_H
    assert result["dispatcher"]["growing"] == []
    assert result["dispatcher"]["rss_mb"]["peak"] > 175  # the peak is over the whole run
    assert result["dispatcher"]["rss_mb"]["samples"] == 36  # minutes 10-45
    assert result["relay"]["rss_mb"]["slope_per_h"] > soak_summary.RSS_LIMIT_MB_PER_H
    assert result["relay"]["growing"] == []
    summary = {"channels": {}, "processes": result,
               "system": soak_summary.system(samples, warmup_s=600)}
    assert soak_summary.verdict(summary) == ["worker: memory grows"]
    row = next(line for line in soak_summary.table(summary).splitlines()
               if line.startswith("| worker |"))
    assert row.startswith("| worker | 1 | 2") and "| 20 → 20 | 2 → 2 |" in row


def test_spikes_on_a_flat_floor_are_not_growth() -> None:
    # PostgreSQL's I/O workers as the soak saw them: 306 open files, now and then more for a
    # minute, the highest in the last sample.
    spikes = {15: 367, 30: 350, 40: 320, 45: 396}
    samples = [_sample(m, {"postgres-aux": {"count": 8, "fds": spikes.get(m, 306)}})
               for m in MINUTES]
    row = soak_summary.processes(samples, warmup_s=600)["postgres-aux"]
    assert row["fds"]["slope_per_h"] > soak_summary.COUNT_LIMIT_PER_H
    assert row["fds"]["late_slope_per_h"] > soak_summary.COUNT_LIMIT_PER_H
    assert row["growing"] == []


def test_a_group_is_judged_by_its_private_memory_and_every_process_by_its_own_peak() -> None:
    samples = [_sample(m, {"postgres-backends": {
        "count": 12, "rss_mb": 300 + 4 * m, "pss_mb": 100 + m, "uss_mb": 40.0,
        "max_rss_mb": 90 + m * 0.2}}) for m in MINUTES]
    row = soak_summary.processes(samples, warmup_s=600)["postgres-backends"]
    assert row["memory_measure"] == "uss"
    assert row["growing"] == []  # the shared buffers touched, not a leak
    assert row["peak_process_rss_mb"] == pytest.approx(99)
    assert "| postgres-backends (USS) | 12 | 99 | 40 → 40 | 0.0 (0.0) |" in \
        soak_summary.table({"processes": {"postgres-backends": row}})
    leaking = [_sample(m, {"postgres-backends": {"count": 12, "uss_mb": 40.0 + m}})
               for m in MINUTES]
    assert soak_summary.processes(leaking, warmup_s=600)["postgres-backends"]["growing"] == \
        ["memory"]


def test_files_connections_and_queues_that_keep_growing_are_problems() -> None:
    samples = [_sample(m, {"api": {"rss_mb": 100.0, "fds": 20 + m, "db_connections": 2}},
                       db_total=10 + m // 5, outbox_backlog=m * 3) for m in MINUTES]
    summary = {"channels": {"web_form": {"lost": 0, "duplicated": 1}},
               "processes": soak_summary.processes(samples, warmup_s=600),
               "system": soak_summary.system(samples, warmup_s=600)}
    assert soak_summary.verdict(summary) == [
        "web_form: lost 0, duplicated 1", "api: fds grows", "db_connections grows",
        "outbox_backlog grows"]
    assert summary["system"]["loadavg_1m"] == {"median": 3.0, "min": 2.0, "max": 4.0}
    assert summary["system"]["unprocessed_inbound"]["grows"] is False


def test_a_process_over_the_ceiling_fails_and_the_harness_is_not_judged() -> None:
    samples = [_sample(m, {"worker": {"rss_mb": 900.0 + 3 * m},
                           "fakes": {"rss_mb": 100.0 + m}}) for m in MINUTES]
    summary = {"channels": {}, "processes": soak_summary.processes(samples, warmup_s=600),
               "system": soak_summary.system(samples, warmup_s=600),
               "expected_growth": {"fakes": "the load harness"}}
    assert soak_summary.verdict(summary) == ["worker: peak RSS 1035.0 MB",
                                             "worker: memory grows"]


def test_a_run_shorter_than_the_warm_up_uses_every_sample() -> None:
    samples = [_sample(m, {"api": {"rss_mb": 100.0 + m}}) for m in (0, 1)]
    row = soak_summary.processes(samples, warmup_s=600)["api"]
    assert row["rss_mb"]["samples"] == 2
    assert row["rss_mb"]["slope_per_h"] == pytest.approx(60)
    assert row["rss_mb"]["late_slope_per_h"] is None


def test_latency_is_split_into_the_first_and_last_ten_minutes() -> None:
    def reply(channel: str, minute: float, seconds: float,
              status: str = "delivered") -> dict[str, Any]:
        accepted = T0 + timedelta(minutes=minute)
        return {"channel": channel, "status": status, "accepted_at": accepted,
                "delivered_at": accepted + timedelta(seconds=seconds)}

    replies = [reply("web_form", m, 1.0) for m in range(10)] + \
        [reply("web_form", 20, 50.0)] + \
        [reply("web_form", m, 3.0) for m in range(35, 45)] + \
        [reply("email", 44, 2.0), reply("email", 44.5, 99.0, status="queued")]
    windows = soak_summary.latency_windows(replies, load_started=T0, load_s=2700)
    assert windows["web_form"]["first_10_min"] == {"replies": 10, "p50_s": 1.0, "p95_s": 1.0}
    assert windows["web_form"]["last_10_min"] == {"replies": 10, "p50_s": 3.0, "p95_s": 3.0}
    assert windows["email"] == {"first_10_min": {"replies": 0, "p50_s": None, "p95_s": None},
                                "last_10_min": {"replies": 1, "p50_s": 2.0, "p95_s": 2.0}}


def test_volumes_are_per_minute_and_in_multiples_of_the_constitutions_day() -> None:
    channels = {"web_form": {"accepted": 720}, "email": {"accepted": 540},
                "whatsapp": {"accepted": 1080}}
    assert soak_summary.volumes(channels, load_s=2700) == {
        "web_form": {"accepted": 720, "per_min": 16.0, "times_day_volume": 7.2},
        "email": {"accepted": 540, "per_min": 12.0, "times_day_volume": 10.8},
        "whatsapp": {"accepted": 1080, "per_min": 24.0, "times_day_volume": 21.6}}
