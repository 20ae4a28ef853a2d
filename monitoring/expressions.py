"""Every PromQL expression the rules and the dashboards hold, and the metrics each one names
(the tests check that they parse and that the processes expose those metrics)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import promql_parser

from monitoring import alerts, dashboards

# Grafana's variables, replaced by something PromQL accepts before parsing.
_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$namespace": "ns", "$tenant": "t"}
_LABEL_VALUES = re.compile(r"^label_values\((?P<expr>.+),\s*(?P<label>\w+)\)$")

# Series other exporters provide (kube-state-metrics, in a cluster).
EXTERNAL = frozenset({"kube_pod_container_status_restarts_total"})


def rule_expressions() -> Iterator[tuple[str, str]]:
    """Yield (where, expr) for every rule."""
    for group in alerts.groups():
        for rule in group["rules"]:
            yield f"rule {rule.get('alert') or rule.get('record')}", rule["expr"]


def dashboard_expressions() -> Iterator[tuple[str, str]]:
    """Yield (where, expr) for every panel target and every query variable."""
    for stem, board in dashboards.dashboards().items():
        for panel in board["panels"]:
            for target in panel["targets"]:
                yield f"{stem}: {panel['title']}", target["expr"]
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":
                match = _LABEL_VALUES.match(variable["query"])
                assert match, f"{stem}: ${variable['name']} is not label_values(expr, label)"
                yield f"{stem}: ${variable['name']}", match["expr"]


def recorded() -> frozenset[str]:
    """Return the names the recording rules give their series."""
    return frozenset(rule["record"] for group in alerts.groups() for rule in group["rules"]
                     if "record" in rule)


def parse(expr: str) -> Any:
    """Return the expression's syntax tree (Grafana's variables filled in)."""
    for variable, value in _VARIABLES.items():
        expr = expr.replace(variable, value)
    return promql_parser.parse(expr)


def metric_names(expr: str) -> set[str]:
    """Return the metric names the expression selects."""
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(parse(expr), visit)
    return names


def every_expression() -> list[tuple[str, str]]:
    return [*rule_expressions(), *dashboard_expressions()]
