"""The shared dialect workload (tests/fixtures/dialects/workload.json) replayed through the
Python skin: its exposition must be byte for byte what prometheus_client wrote for the same
workload (the committed goldens beside it). Summary is the core's summary kind underneath
(any quantile can be read) and is exposed as prometheus_client's Summary: _count, _sum and
_created, typed summary."""

from __future__ import annotations

import json
import math
import re
from typing import Any, Dict

import metricore

from conftest import FIXTURES

DIALECTS = FIXTURES / "dialects"
KINDS = {"counter": metricore.Counter, "gauge": metricore.Gauge, "histogram": metricore.Histogram,
         "summary": metricore.Summary}
SPECIAL = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}


def replay(registry: metricore.CollectorRegistry) -> Dict[str, Any]:
    workload = json.loads((DIALECTS / "workload.json").read_text())
    metrics: Dict[str, Any] = {}
    for op in workload["ops"]:
        kind = op["op"]
        if kind in KINDS:
            kw: Dict[str, Any] = {"registry": registry}
            if op.get("unit"):
                kw["unit"] = op["unit"]
            if "buckets" in op:
                kw["buckets"] = op["buckets"]
            m = KINDS[kind](op["name"], op["help"], op["labels"], **kw)
            metrics[m.name] = m
            continue
        m = metrics[op["name"]]
        target = m.labels(*op["labels"]) if op["labels"] else m
        value = SPECIAL.get(op["value"], op["value"])
        getattr(target, kind)(value)
    return metrics


def test_text_is_prometheus_clients_golden() -> None:
    registry = metricore.CollectorRegistry()
    replay(registry)
    want = (DIALECTS / "prometheus_client.no_created.txt").read_text()
    assert registry.render_text(created=False) == want


def test_openmetrics_is_prometheus_clients_golden_but_for_created_times() -> None:
    registry = metricore.CollectorRegistry()
    replay(registry)
    created = re.compile(r"^(\S+_created(?:\{[^}]*\})?) \S+$", re.M)
    want = created.sub(r"\1 <t>", (DIALECTS / "prometheus_client.om.txt").read_text())
    assert created.sub(r"\1 <t>", registry.render_openmetrics()) == want


def test_summary_is_the_core_summary_kind() -> None:
    registry = metricore.CollectorRegistry()
    batch = replay(registry)["batch"]
    (family,) = [f for f in registry.gather() if f["name"] == "batch"]
    assert family["kind"] == "summary"
    snap = family["series"][0]["value"]
    assert (snap.count, snap.sum) == (2, 7.5)
    # Quantiles come from the core's HDR counts, within its precision.
    assert math.isclose(batch.quantile(1.0), 4.5, rel_tol=1e-3)
    assert math.isclose(batch.quantile(0.0), 3.0, rel_tol=1e-3)
    # Asked for, the same kind exposes quantile series too (prom-client's shape).
    q = metricore.Summary("sized", "S.", registry=registry, quantiles=[0.5, 0.99])
    q.observe(10)
    text = registry.render_text()
    assert 'sized{quantile="0.5"} 10.0' in text and 'sized{quantile="0.99"} 10.0' in text
