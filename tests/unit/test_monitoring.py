"""Monitoring as code, checked offline: the metric registry, the alert rules (`promtool check
rules`, `promtool test rules` with a firing and a quiet case per alert), the runbooks, the
dashboards, and the generated files against their code. `tests/e2e/test_metrics_live.py`
checks the same expressions against what the running processes expose."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from monitoring import alerts, dashboards, expressions, generate
from production import metrics
from tests.unit.test_manifests import (
    KUBERNETES_VERSION,
    NAMESPACE,
    _crd_models,
    _validate_custom_resource,
)

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "monitoring" / "prometheus" / "fte.rules.yml"
RULE_TESTS = ROOT / "monitoring" / "prometheus" / "fte.rules.test.yml"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
K8S_MONITORING = ROOT / "k8s" / "monitoring"
# Labels that would make one series per customer, conversation or message.
UNBOUNDED = re.compile(r"customer|conversation|message|ticket|email|phone|user|id$")


def _promtool() -> str:
    found = shutil.which("promtool") or "/usr/bin/promtool"
    if not Path(found).is_file():
        pytest.fail("promtool not found: `make test` installs Debian's prometheus package")
    return found


def _load(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


# --- The registry ----------------------------------------------------------------------------


def test_every_metric_is_declared_once_with_a_bounded_set_of_labels() -> None:
    assert len(metrics.DECLARED) >= 30
    for name, declared in metrics.DECLARED.items():
        assert re.fullmatch(r"fte_[a-z][a-z0-9_]*", name), name
        assert (declared.kind == "counter") == name.endswith("_total"), name
        assert declared.help.strip(), name
        for label in declared.labels:
            assert not UNBOUNDED.search(label), f"{name}: label {label!r} is unbounded"
    # The objects the code uses carry the names the rules and dashboards use.
    assert metrics.FIRST_RESPONSE.name == "fte_first_response_seconds"
    assert metrics.REPLIES.name in metrics.DECLARED


# --- The rules ---------------------------------------------------------------------------------


def test_the_rules_file_passes_promtool_check_rules() -> None:
    done = subprocess.run([_promtool(), "check", "rules", str(RULES)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 16 rules found" in done.stdout


def test_the_rules_pass_their_promtool_unit_tests() -> None:
    done = subprocess.run([_promtool(), "test", "rules", str(RULE_TESTS)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alerts.alerts()}
    assert firing == names
    assert quiet == names


def test_every_alert_follows_the_mixin_conventions_and_has_its_runbook() -> None:
    headings = {line[3:].strip().lower() for line in RUNBOOKS.read_text().splitlines()
                if line.startswith("## ")}
    for rule in alerts.alerts():
        name = rule["alert"]
        assert re.fullmatch(r"Fte(?:[A-Z][a-z0-9]+)+", name), name
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        notes = rule["annotations"]
        assert set(notes) == {"summary", "description", "runbook_url"}, name
        base, _, anchor = notes["runbook_url"].partition("#")
        assert base == alerts.RUNBOOKS and base.endswith("docs/runbooks.md")
        assert anchor == name.lower() and anchor in headings, f"{name}: no runbook section"
    assert len(headings) == len(alerts.alerts())


def test_the_constitutions_thresholds_are_the_alerts_thresholds() -> None:
    by_name = {rule["alert"]: rule["expr"] for rule in alerts.alerts()}
    assert by_name["FteEscalationRateHigh"].endswith("> 0.25")
    assert by_name["FteFirstResponseSlow"].endswith("> 3")
    assert by_name["FtePodRestarting"].endswith("[10m]) > 3")
    assert by_name["FteConsumerLagHigh"].endswith("> 100")
    assert "> 4 * 3600" in by_name["FteInboxDraftStale"]
    assert "> 0.144" in by_name["FteFirstResponseBudgetBurnFast"]
    assert "> 0.06" in by_name["FteFirstResponseBudgetBurnSlow"]


def test_the_prometheus_rule_holds_the_rules_file() -> None:
    (rule,) = _load(K8S_MONITORING / "prometheusrule.yaml")
    (plain,) = _load(RULES)
    assert rule["spec"]["groups"] == plain["groups"]


# --- Expressions: they parse and name declared metrics ----------------------------------------


@pytest.mark.parametrize(("where", "expr"), expressions.every_expression(),
                         ids=[where for where, _ in expressions.every_expression()])
def test_every_expression_parses_and_names_declared_metrics(where: str, expr: str) -> None:
    names = expressions.metric_names(expr)
    assert names, f"{where}: selects no metric"
    unknown = names - metrics.exposed_names() - expressions.recorded() - expressions.EXTERNAL
    assert not unknown, f"{where}: {sorted(unknown)} not declared in production/metrics.py"


def test_a_misspelled_metric_is_caught() -> None:
    expr = "sum(rate(fte_replys_total[5m]))"
    assert expressions.metric_names(expr) - metrics.exposed_names() == {"fte_replys_total"}
    # Nor does a histogram with negative buckets (sentiment) show a _sum to average.
    assert f"{metrics.SENTIMENT.name}_sum" not in metrics.exposed_names()
    with pytest.raises(ValueError, match=r"."):
        expressions.parse("sum(rate(fte_replies_total[5m])")


# --- Dashboards --------------------------------------------------------------------------------


def test_the_four_dashboards_filter_by_namespace_and_tenant() -> None:
    boards = dashboards.dashboards()
    assert {board["title"] for board in boards.values()} == {
        "FTE / Overview", "FTE / Agent", "FTE / C.A.R.E.", "FTE / Channels"}
    tenant_metrics = {name for name, declared in metrics.DECLARED.items()
                      if "tenant" in declared.labels}
    for stem, board in boards.items():
        variables = {v["name"] for v in board["templating"]["list"]}
        assert {"datasource", "namespace"} <= variables, stem
        for panel in board["panels"]:
            assert panel["datasource"] == "${datasource}"
            for target in panel["targets"]:
                assert 'namespace=~"$namespace"' in target["expr"], (stem, panel["title"])
                if expressions.metric_names(target["expr"]) & tenant_metrics:
                    assert "tenant" in variables and 'tenant=~"$tenant"' in target["expr"]
    assert "tenant" in {v["name"] for v in boards["care"]["templating"]["list"]}


# --- Generated files ---------------------------------------------------------------------------


def test_the_generated_files_are_the_committed_files() -> None:
    for path, text in generate.artefacts().items():
        assert path.is_file(), f"{path} missing: run python -m monitoring.generate"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(ROOT)} differs from its code: run python -m monitoring.generate")


def test_the_dashboard_config_maps_hold_the_committed_dashboards() -> None:
    maps = _load(K8S_MONITORING / "dashboards.yaml")
    assert len(maps) == 4
    for config_map in maps:
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        ((key, text),) = config_map["data"].items()
        stem = key.removeprefix("fte-").removesuffix(".json")
        committed = ROOT / "monitoring" / "grafana" / "dashboards" / f"{stem}.json"
        assert json.loads(text) == json.loads(committed.read_text())


# --- k8s/monitoring, validated offline ---------------------------------------------------------


def _monitoring_docs() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S_MONITORING.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs.extend(_load(path))
    return docs


def test_the_monitoring_manifests_are_schema_valid() -> None:
    models = _crd_models()
    kinds = set()
    for doc in _monitoring_docs():
        kinds.add(doc["kind"])
        assert doc["metadata"]["namespace"] == NAMESPACE
        model = models.get((doc["apiVersion"], doc["kind"]))
        if model is not None:
            _validate_custom_resource(model, doc)
        else:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    assert kinds == {"ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"}


def test_the_monitoring_kustomization_lists_every_manifest() -> None:
    (kustomization,) = _load(K8S_MONITORING / "kustomization.yaml")
    on_disk = {p.name for p in K8S_MONITORING.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == on_disk
    assert kustomization["namespace"] == NAMESPACE


def test_every_process_is_scraped_in_kubernetes() -> None:
    scraped: set[str] = set()
    for doc in _monitoring_docs():
        if doc["kind"] == "ServiceMonitor":
            scraped.add(doc["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"])
        elif doc["kind"] == "PodMonitor":
            (expression,) = doc["spec"]["selector"]["matchExpressions"]
            scraped.update(expression["values"])
            assert doc["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
    assert scraped == {"api", "worker", "dispatcher", "relay", "scheduler"}


# --- docker-compose: Prometheus and Grafana ---------------------------------------------------


def test_compose_prometheus_scrapes_every_process_and_loads_the_same_rules() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    prometheus = services["prometheus"]
    assert "./monitoring/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.compose.yml" in prometheus["command"]
    config_path = ROOT / "monitoring" / "prometheus" / "prometheus.compose.yml"
    config = yaml.safe_load(config_path.read_text())
    assert config["rule_files"] == [RULES.name]  # the very file the PrometheusRule holds
    targets = {}
    for job in config["scrape_configs"]:
        (static,) = job["static_configs"]
        assert static["labels"] == {"namespace": NAMESPACE}
        (target,) = static["targets"]
        targets[job["job_name"]] = target
    assert targets == {"api": "api:8000", "worker": "worker:9100",
                       "dispatcher": "dispatcher:9100", "relay": "relay:9100",
                       "scheduler": "scheduler:9100"}
    for name, target in targets.items():
        assert services[name]["environment"]["METRICS_PORT"] == "9100"
        assert target.split(":")[0] == name
    done = subprocess.run([_promtool(), "check", "config", str(config_path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_grafana_is_provisioned_with_the_datasource_and_the_dashboards() -> None:
    grafana = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["grafana"]
    assert "./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    provisioning = ROOT / "monitoring" / "grafana" / "provisioning"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"]
    assert (source["type"], source["url"], source["isDefault"]) == (
        "prometheus", "http://prometheus:9090", True)
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "fte.yml").read_text())[
        "providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (ROOT / "monitoring" / "grafana" / "dashboards" / Path(home).name).is_file()
