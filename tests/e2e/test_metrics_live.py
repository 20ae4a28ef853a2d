"""The metrics as Prometheus sees them: every process kind (`fte api`, `worker`, `dispatcher`,
`relay`, `scheduler`) started for real, real traffic through them (answered forms, an escalation,
a record nobody can read) on the local model, then each one scraped:

* `promtool check metrics` finds nothing to complain about in any scrape;
* every metric an alert rule or a dashboard panel names is in a scrape, with samples (the
  dashboards have no panel on a metric that does not exist);
* a real Prometheus (Debian's) scraping them loads the rules file, evaluates every rule without
  error, and answers every panel's query, with data unless the panel shows an event this
  traffic does not make.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from monitoring import alerts, expressions
from production import metrics
from production.config import Settings
from production.local_stack import EmbeddedPostgres, LocalBroker, free_port
from tests.conftest import (
    child_env,
    form,
    isolated_settings,
    read_ticket,
    wait_for,
    wait_until_healthy,
)

PROCESSES = ("api", "worker", "dispatcher", "relay", "scheduler")
# Served, but a sample needs an event this traffic does not make: a model that fails
# (tests/integration/test_openai_path.py counts it).
RARE = {metrics.MODEL_ERRORS.name}
# Panels of events this traffic may not make (a 5xx: a health check before the consumers
# joined): their queries answer, with no series.
EVENT_PANELS = {
    "overview: Errors (5xx share) by route",
    "agent: Model errors",
    "care: Throttles",
    "channels: Provider errors",
}
RULES = Path(__file__).resolve().parents[2] / "monitoring" / "prometheus" / "fte.rules.yml"
# How the panels' variables are set when they are asked here.
PANEL_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h",
                   "$namespace": alerts.NAMESPACE, "$tenant": ".*"}


def _samples(text: str) -> tuple[set[str], set[str]]:
    """Return the sample names of a scrape, and the names its families could show."""
    samples: set[str] = set()
    served: set[str] = set()
    for family in text_string_to_metric_families(text):
        samples.update(sample.name for sample in family.samples)
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
        served.update(family.name + s for s in suffixes.get(family.type, ("",)))
    return samples, served


async def _scrape(ports: dict[str, int]) -> dict[str, str]:
    async with httpx.AsyncClient(timeout=5) as http:
        return {name: (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                for name, port in ports.items()}


@contextmanager
def _prometheus(ports: dict[str, int], folder: Path) -> Iterator[str]:
    """Run Debian's Prometheus on the rules file, scraping every process each second; yield
    its URL."""
    web = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": name, "static_configs": [
                {"targets": [f"127.0.0.1:{port}"], "labels": {"namespace": alerts.NAMESPACE}}]}
            for name, port in ports.items()],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(
        ["/usr/bin/prometheus", f"--config.file={folder / 'prometheus.yml'}",
         f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{web}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{web}"
    finally:
        proc.terminate()
        proc.wait(15)


async def _query(http: httpx.AsyncClient, expr: str) -> list[object]:
    """Return the result of an instant query (the query must succeed)."""
    for variable, value in PANEL_VARIABLES.items():
        expr = expr.replace(variable, value)
    res = await http.get("/api/v1/query", params={"query": expr})
    assert res.status_code == 200 and res.json()["status"] == "success", (expr, res.text)
    result: list[object] = res.json()["data"]["result"]
    return result


async def _ask_prometheus(url: str) -> None:
    """Wait until it scraped every process twice and evaluated every rule; then check every
    rule's health and every panel's query."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        async def ready() -> bool:
            try:
                return (await http.get("/-/ready")).status_code == 200
            except httpx.TransportError:
                return False

        async def scraping() -> bool:  # every process up, in three scrapes (rate needs two)
            scrapes = await _query(http, "count_over_time(up[1m]) >= 3 and up == 1")
            return len(scrapes) == len(PROCESSES)

        await wait_for(ready, timeout_s=30, interval_s=0.2)

        await wait_for(scraping, timeout_s=30, interval_s=0.5)

        async def evaluated() -> list[dict[str, str]] | None:
            groups = (await http.get("/api/v1/rules")).json()["data"]["groups"]
            rules = [rule for group in groups for rule in group["rules"]]
            return rules if rules and all(r["health"] != "unknown" for r in rules) else None

        rules = await wait_for(evaluated, timeout_s=15, interval_s=0.5)
        assert len(rules) == sum(len(g["rules"]) for g in alerts.groups())
        assert {r["name"]: r["health"] for r in rules} == {r["name"]: "ok" for r in rules}
        for _, expr in expressions.rule_expressions():
            await _query(http, expr)
        empty = set()
        for where, expr in expressions.dashboard_expressions():
            if not await _query(http, expr) and ": $" not in where:
                empty.add(where)
        assert empty <= EVENT_PANELS, sorted(empty - EVENT_PANELS)


@contextmanager
def _started(env: dict[str, str], ports: dict[str, int]) -> Iterator[None]:
    procs = {name: subprocess.Popen(
        [sys.executable, "-m", "production.cli", name], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(env, **({"API_PORT": str(ports[name]), "METRICS_PORT": "0"} if name == "api"
                        else {"METRICS_PORT": str(ports[name])})))
        for name in PROCESSES}
    try:
        yield
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _traffic(settings: Settings, http: httpx.AsyncClient) -> None:
    """Two answered forms, an escalation, a dead letter."""
    opened = []
    for body in (form(), form(message="I want a refund and I will call my lawyer."), form()):
        res = await http.post("/api/v1/support/form", json=body)
        assert res.status_code == 201, res.text
        opened.append((res.json()["ticket_id"], res.json()["access_token"]))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_servers())
    await producer.start()
    try:  # a record no worker can read: dead-lettered
        await producer.send_and_wait(settings.kafka.topic_incoming, b"not an event", key=b"x")
    finally:
        await producer.stop()

    async def answered() -> bool:
        for ticket, token in (opened[0], opened[2]):  # the escalation waits for a person
            view = (await read_ticket(http, ticket, token)).json()
            if not any(m["direction"] == "outbound" for m in view["messages"]):
                return False
        return True

    await wait_for(answered, timeout_s=60, interval_s=0.2)


async def test_every_process_serves_clean_metrics_naming_what_rules_and_panels_use(
    postgres: EmbeddedPostgres, broker: LocalBroker
) -> None:
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    assert Path(promtool).is_file(), "promtool: `make test` installs Debian's prometheus"
    settings = await isolated_settings(postgres, broker, "metrics")
    ports = {name: free_port() for name in PROCESSES}
    named: dict[str, set[str]] = {}
    for where, expr in expressions.every_expression():
        for name in expressions.metric_names(expr) - expressions.recorded() - \
                expressions.EXTERNAL:
            named.setdefault(name, set()).add(where)
    with _started(child_env(settings), ports):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['api']}",
                                     timeout=10) as http:
            await wait_until_healthy(http, timeout_s=60)
            await _traffic(settings, http)

        async def everything_observed() -> dict[str, str] | None:
            scrapes = await _scrape(ports)
            seen = set().union(*(_samples(text)[0] for text in scrapes.values()))
            return scrapes if set(named) - RARE <= seen else None

        # The scheduler and the relay report on their own cadence (a second or so).
        try:
            scrapes = await wait_for(everything_observed, timeout_s=30, interval_s=0.5)
        except AssertionError:  # the assertion below names what is missing
            scrapes = await _scrape(ports)
        with tempfile.TemporaryDirectory(prefix="fte-prometheus-") as folder, \
                _prometheus(ports, Path(folder)) as url:
            await _ask_prometheus(url)
    samples = {name: _samples(text) for name, text in scrapes.items()}
    seen = set().union(*(s for s, _ in samples.values()))
    served = set().union(*(s for _, s in samples.values()))
    missing = {name: sorted(where) for name, where in named.items()
               if name not in (served if name in RARE else seen)}
    assert not missing, f"named by rules or panels, not exposed after traffic: {missing}"
    for name, text in scrapes.items():
        done = await asyncio.to_thread(subprocess.run, [promtool, "check", "metrics"],
                                       input=text, capture_output=True, text=True, check=False)
        assert (done.returncode, done.stdout + done.stderr) == (0, ""), name
    # What each kind of process reports about itself.
    assert metrics.POOL_SIZE.name in samples["scheduler"][0] & samples["api"][0]
    assert metrics.CONSUMER_LAG.name in samples["worker"][0] & samples["dispatcher"][0]
    assert f"{metrics.MODEL_LATENCY.name}_count" in samples["worker"][0]
