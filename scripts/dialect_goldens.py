"""Replays tests/fixtures/dialects/workload.json through prometheus_client and writes its
expositions: prometheus_client.txt (0.0.4), prometheus_client.om.txt (OpenMetrics) and
prometheus_client.no_created.txt (0.0.4 with PROMETHEUS_DISABLE_CREATED_SERIES=true).

Usage: python dialect_goldens.py WORKLOAD OUT_DIR
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Dict

import prometheus_client
from prometheus_client import metrics as pc_metrics
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

KNOWN_OPS = {"counter", "gauge", "histogram", "summary", "inc", "set", "observe"}


def number(v: Any) -> float:
    return float({"NaN": "nan", "+Inf": "inf", "-Inf": "-inf"}.get(v, v)) if isinstance(v, str) else v


def replay(workload: Dict[str, Any], created: bool) -> prometheus_client.CollectorRegistry:
    # Series creation times are pinned: prometheus_client reads time.time() when a child
    # is created, and metricore's test sets the same time in its snapshots.
    pinned = workload["created"]
    real_time = time.time
    time.time = lambda: pinned  # type: ignore[assignment]
    pc_metrics._use_created = created  # what PROMETHEUS_DISABLE_CREATED_SERIES sets at import
    try:
        registry = prometheus_client.CollectorRegistry()
        metrics: Dict[str, Any] = {}
        for op in workload["ops"]:
            kind = op["op"]
            assert kind in KNOWN_OPS, f"unknown op {kind!r}"
            if kind in ("counter", "gauge", "histogram", "summary"):
                cls = {
                    "counter": prometheus_client.Counter,
                    "gauge": prometheus_client.Gauge,
                    "histogram": prometheus_client.Histogram,
                    "summary": prometheus_client.Summary,
                }[kind]
                extra = {"buckets": op["buckets"]} if "buckets" in op else {}
                m = cls(op["name"], op["help"], op["labels"], unit=op.get("unit", ""),
                        registry=registry, **extra)
                metrics[m._name] = m
                continue
            m = metrics[op["name"]]
            if op["labels"]:
                m = m.labels(*op["labels"])
            getattr(m, op["op"])(number(op["value"]))
        return registry
    finally:
        time.time = real_time  # type: ignore[assignment]


def main() -> None:
    workload = json.loads(Path(sys.argv[1]).read_text())
    out = Path(sys.argv[2])
    registry = replay(workload, created=True)
    (out / "prometheus_client.txt").write_bytes(prometheus_client.generate_latest(registry))
    (out / "prometheus_client.om.txt").write_bytes(generate_openmetrics(registry))
    registry = replay(workload, created=False)
    (out / "prometheus_client.no_created.txt").write_bytes(prometheus_client.generate_latest(registry))


if __name__ == "__main__":
    main()
