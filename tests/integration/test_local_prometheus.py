"""`fte up`'s Prometheus: Debian's binary (`make run` installs it) on its generated
configuration, scraping a real /metrics and loading the rules file it is given."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, Counter, start_http_server

from production.local_stack import LocalPrometheus, free_port
from tests.conftest import wait_for

RULES = """groups:
  - name: fte-test
    rules:
      - alert: FteTestScraped
        expr: up{job="fte"} == 1
        labels: {severity: info}
"""


async def test_it_scrapes_each_target_under_its_process_name_and_loads_the_rules() -> None:
    registry = CollectorRegistry()
    Counter("fte_test_total", "a counter to scrape", registry=registry).inc(3)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    with tempfile.TemporaryDirectory(prefix="fte-prom-") as tmp:
        rules = Path(tmp) / "fte.rules.yml"
        rules.write_text(RULES)
        prometheus = LocalPrometheus(Path("/usr/bin/prometheus"), Path(tmp) / "prometheus",
                                     {"worker": port}, rules=rules)
        await asyncio.to_thread(prometheus.start)
        try:
            async with httpx.AsyncClient(base_url=prometheus.url, timeout=5) as http:
                async def scraped() -> float | None:
                    res = await http.get("/api/v1/query", params={
                        "query": 'fte_test_total{job="fte",process="worker"}'})
                    found = res.json()["data"]["result"]
                    return float(found[0]["value"][1]) if found else None

                assert await wait_for(scraped, timeout_s=30, interval_s=0.5) == 3.0
                groups = (await http.get("/api/v1/rules")).json()["data"]["groups"]
                assert [rule["name"] for g in groups for rule in g["rules"]] == ["FteTestScraped"]
        finally:
            prometheus.stop()
            server.shutdown()
            thread.join()
        assert prometheus.proc is not None and prometheus.proc.poll() is not None
