"""The soak's arithmetic, on the samples `tests/load/soak.py` took once a minute.

A sample is a dict: `t_s` (seconds since the load started), `loadavg` ([1, 5, 15 min]),
`processes` ({name: {count, rss_mb, pss_mb, uss_mb, fds, threads, cpu_s, db_connections}}),
`db` ({total, by_process: {name: {state: n}}}), `outbox_backlog`, `unprocessed_inbound`,
`undelivered_replies` and `consumer_lag` ({group: records}).

A series grows when its least-squares slope after the warm-up is above a limit and does not
flatten: the slope over the later half of the samples after the warm-up is above it too (memory
that climbs while caches, pools and arenas fill, then stays, is not a leak), and its floor
rises: the later half's lowest value is above the earlier half's (a few spikes, such as
PostgreSQL opening files for a moment, are not growth).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

HOUR_S = 3600.0
# The constitution's 24-hour volumes (success criterion 5) and its memory ceiling per pod.
DAY_VOLUMES = {"web_form": 100, "email": 50, "whatsapp": 50}
RSS_CEILING_MB = 1024.0
# A process's RSS grows "without flattening" above this many MB per hour (240 MB a day).
RSS_LIMIT_MB_PER_H = 10.0
# Open files or database connections: more than this many more per hour.
COUNT_LIMIT_PER_H = 5.0


def slope_per_hour(points: Sequence[tuple[float, float]]) -> float | None:
    """Return the least-squares slope of value over time (seconds) in units per hour, or None
    with fewer than two distinct instants."""
    if len(points) < 2:
        return None
    mean_t = statistics.fmean(t for t, _ in points)
    mean_v = statistics.fmean(v for _, v in points)
    sxx = sum((t - mean_t) ** 2 for t, _ in points)
    if sxx == 0:
        return None
    sxy = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return sxy / sxx * HOUR_S


@dataclass(frozen=True)
class Trend:
    """One series after the warm-up: where it started and ended, its peak over the whole run,
    its slope per hour, the slope over the later half (whether it flattens) and each half's
    lowest value (whether its floor rises)."""

    samples: int
    first: float
    last: float
    peak: float
    slope_per_h: float | None
    late_slope_per_h: float | None
    early_floor: float | None = None
    late_floor: float | None = None

    def grows(self, limit_per_h: float) -> bool:
        """Whether it keeps rising faster than `limit_per_h` (the later half too)."""
        if self.slope_per_h is None or self.slope_per_h <= limit_per_h:
            return False
        if self.early_floor is not None and self.late_floor is not None \
                and self.late_floor <= self.early_floor:
            return False
        return self.late_slope_per_h is None or self.late_slope_per_h > limit_per_h


def trend(points: Sequence[tuple[float, float]], *, warmup_s: float) -> Trend | None:
    """Return the trend of a (t_s, value) series, the slopes over the points from `warmup_s`
    on (all of them when the run was shorter than the warm-up), or None without points."""
    if not points:
        return None
    points = sorted(points)
    steady = [p for p in points if p[0] >= warmup_s]
    if len(steady) < 2:
        steady = list(points)
    middle = steady[0][0] + (steady[-1][0] - steady[0][0]) / 2
    late = [p for p in steady if p[0] >= middle]
    early = [p for p in steady if p[0] < middle]
    late_slope = slope_per_hour(late) if len(late) >= 3 else None
    return Trend(samples=len(steady), first=steady[0][1], last=steady[-1][1],
                 peak=max(v for _, v in points), slope_per_h=_round(slope_per_hour(steady)),
                 late_slope_per_h=_round(late_slope),
                 early_floor=min(v for _, v in early) if early else None,
                 late_floor=min(v for _, v in late) if late else None)


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _series(samples: Iterable[dict[str, Any]], pick: Any) -> list[tuple[float, float]]:
    points = []
    for sample in samples:
        value = pick(sample)
        if value is not None:
            points.append((float(sample["t_s"]), float(value)))
    return points


def _of_process(samples: Iterable[dict[str, Any]], name: str,
                key: str) -> list[tuple[float, float]]:
    return _series(samples, lambda sample: sample["processes"].get(name, {}).get(key))


def processes(samples: Sequence[dict[str, Any]], *, warmup_s: float) -> dict[str, Any]:
    """Per process (or group): RSS, PSS and USS, open files and database connections, each a
    trend, and whether any grows. Memory is judged by RSS for one process and by USS (private
    memory: what a leak adds) for a group of several, whose RSS counts the shared pages (for
    PostgreSQL: its shared buffers) once per process."""
    names = sorted({name for s in samples for name in s["processes"]})
    result: dict[str, Any] = {}
    for name in names:
        rss, pss, uss, fds, conns = (
            trend(_of_process(samples, name, key), warmup_s=warmup_s)
            for key in ("rss_mb", "pss_mb", "uss_mb", "fds", "db_connections"))
        counts = [s["processes"][name]["count"] for s in samples if name in s["processes"]]
        pids = {pid for s in samples for pid in s["processes"].get(name, {}).get("pids", [])}
        group = max(counts) > 1 and uss is not None
        memory = uss if group else rss
        growing = [what for what, tr, limit in (("memory", memory, RSS_LIMIT_MB_PER_H),
                                                 ("fds", fds, COUNT_LIMIT_PER_H),
                                                 ("db_connections", conns, COUNT_LIMIT_PER_H))
                   if tr is not None and tr.grows(limit)]
        result[name] = {
            "processes": max(counts), "pids_seen": len(pids),
            "memory_measure": "uss" if group else "rss",
            "rss_mb": _dict(rss), "pss_mb": _dict(pss), "uss_mb": _dict(uss), "fds": _dict(fds),
            "db_connections": _dict(conns), "growing": growing,
            "peak_process_rss_mb": max((s["processes"][name].get("max_rss_mb", 0.0)
                                        for s in samples if name in s["processes"]),
                                       default=0.0)}
    return result


def _dict(value: Trend | None) -> dict[str, Any] | None:
    return None if value is None else asdict(value)


def system(samples: Sequence[dict[str, Any]], *, warmup_s: float) -> dict[str, Any]:
    """The machine's load average, and the database's and queues' trends."""
    loads = [s["loadavg"][0] for s in samples if s.get("loadavg")]
    result: dict[str, Any] = {
        "loadavg_1m": {"median": round(statistics.median(loads), 2), "min": min(loads),
                       "max": max(loads)} if loads else None}
    picks: dict[str, Any] = {
        "db_connections": lambda s: s["db"].get("total"),
        "outbox_backlog": lambda s: s.get("outbox_backlog"),
        "unprocessed_inbound": lambda s: s.get("unprocessed_inbound"),
        "undelivered_replies": lambda s: s.get("undelivered_replies"),
        "consumer_lag": lambda s: sum(s["consumer_lag"].values())
        if s.get("consumer_lag") is not None else None,
    }
    for key, pick in picks.items():
        tr = trend(_series(samples, pick), warmup_s=warmup_s)
        result[key] = _dict(tr)
        if tr is not None:
            result[key]["grows"] = tr.grows(COUNT_LIMIT_PER_H)
    return result


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the q-quantile (nearest rank) of the values, or None if there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 2)


def latency_windows(replies: Iterable[dict[str, Any]], *, load_started: datetime,
                    load_s: float, window_s: float = 600.0) -> dict[str, Any]:
    """Accepted → delivered p50/p95 per channel for the messages accepted in the load's first
    and last `window_s` (a reply's `accepted_at` and `delivered_at`)."""
    first_end = load_started + timedelta(seconds=window_s)
    last_start = load_started + timedelta(seconds=max(0.0, load_s - window_s))
    buckets: dict[str, dict[str, list[float]]] = {}
    for reply in replies:
        if reply["delivered_at"] is None or reply["status"] != "delivered":
            continue
        seconds = (reply["delivered_at"] - reply["accepted_at"]).total_seconds()
        channel = buckets.setdefault(reply["channel"], {"first": [], "last": []})
        if reply["accepted_at"] < first_end:
            channel["first"].append(seconds)
        if reply["accepted_at"] >= last_start:
            channel["last"].append(seconds)
    return {channel: {f"{which}_{int(window_s // 60)}_min": {
        "replies": len(values), "p50_s": percentile(values, 0.5),
        "p95_s": percentile(values, 0.95)} for which, values in windows.items()}
        for channel, windows in sorted(buckets.items())}


def volumes(channels: dict[str, dict[str, Any]], *, load_s: float) -> dict[str, Any]:
    """Accepted per channel, per minute, and as multiples of the constitution's 24-hour
    volume."""
    return {channel: {"accepted": figures["accepted"],
                      "per_min": round(figures["accepted"] / (load_s / 60), 2) if load_s else 0,
                      "times_day_volume": round(figures["accepted"] / DAY_VOLUMES[channel], 1)}
            for channel, figures in channels.items() if channel in DAY_VOLUMES}


def verdict(summary: dict[str, Any]) -> list[str]:
    """What fails the soak: anything lost or duplicated, a process over the memory ceiling,
    a series that grows (memory, files, connections, a queue)."""
    problems = []
    for channel, figures in summary["channels"].items():
        if figures["lost"] or figures["duplicated"]:
            problems.append(f"{channel}: lost {figures['lost']}, "
                            f"duplicated {figures['duplicated']}")
    for name, figures in summary["processes"].items():
        if figures["peak_process_rss_mb"] >= RSS_CEILING_MB:
            problems.append(f"{name}: peak RSS {figures['peak_process_rss_mb']} MB")
        if name in summary.get("expected_growth", {}):
            continue
        problems.extend(f"{name}: {what} grows" for what in figures["growing"])
    for key in ("db_connections", "outbox_backlog", "unprocessed_inbound",
                "undelivered_replies", "consumer_lag"):
        figures = summary["system"].get(key)
        if figures and figures.get("grows"):
            problems.append(f"{key} grows")
    return problems


def table(summary: dict[str, Any]) -> str:
    """The summary's per-process figures as a Markdown table (what specs/reliability.md
    quotes)."""
    lines = ["| process | n | peak RSS MB | memory after warm-up MB | slope MB/h (later half) "
             "| fds | db connections |", "|---|---|---|---|---|---|---|"]
    for name, row in summary["processes"].items():
        memory = row[f"{row['memory_measure']}_mb"]
        fds, conns = row["fds"], row["db_connections"]
        label = name if row["memory_measure"] == "rss" else f"{name} (USS)"
        lines.append(
            f"| {label} | {row['processes']} | {row['peak_process_rss_mb']:.0f} "
            f"| {memory['first']:.0f} → {memory['last']:.0f} "
            f"| {memory['slope_per_h']} ({memory['late_slope_per_h']}) "
            f"| {fds['first']:.0f} → {fds['last']:.0f} "
            f"| {conns['first']:.0f} → {conns['last']:.0f} |")
    return "\n".join(lines)
