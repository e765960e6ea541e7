"""The cross-language golden cases of tests/fixtures/*.json, run through the Python API.

This mirrors core/tests/fixtures.rs and follows tests/fixtures/README.md to the letter:
unknown keys, ops or kinds fail the case, so a typo in a fixture cannot silently test
nothing. Expectations are read from a collection (``registry.gather()``), never through
lookups."""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Optional, Tuple

import pytest

import metricore

from conftest import FIXTURES

DECL_KEYS = {
    "kind", "name", "help", "labels", "unit", "cardinality_limit",
    "lowest", "highest", "significant_figures", "resolution", "buckets",
}
HISTOGRAM_KEYS = {"lowest", "highest", "significant_figures", "resolution", "buckets"}
OP_KEYS = {
    "op", "metric", "labels", "value", "count", "error", "error_metric", "from", "from_labels",
    "blob_hex", "encoding", "into", "into_labels", "note",
}
SERIES_KEYS = {
    "metric", "family", "labels", "value", "count", "sum", "min", "max", "saturated",
    "quantiles", "buckets", "note",
}
ERROR_KINDS = {
    "invalid_name", "invalid_labels", "conflict", "invalid_value", "invalid_config",
    "invalid_exemplar", "corrupt_blob",
}


class BrokenFixture(Exception):
    """The fixture itself is malformed (not a library failure)."""


def only_keys(obj: Dict[str, Any], allowed: set, what: str) -> None:
    unknown = set(obj) - allowed
    if unknown:
        raise BrokenFixture(f"{what}: unknown key {sorted(unknown)[0]!r} (allowed: {sorted(allowed)})")


def as_float(v: Any, what: str) -> float:
    if isinstance(v, bool):
        raise BrokenFixture(f"{what} must be a number, not {v!r}")
    if isinstance(v, (int, float)):
        return float(v)
    if v == "NaN":
        return math.nan
    if v == "+Inf":
        return math.inf
    if v == "-Inf":
        return -math.inf
    raise BrokenFixture(f"{what} must be a number or 'NaN', '+Inf', '-Inf', not {v!r}")


def as_uint(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise BrokenFixture(f"{what} must be a non-negative integer, not {v!r}")
    return v


def close(got: float, want: float) -> bool:
    return (math.isnan(got) and math.isnan(want)) or got == want or abs(got - want) <= 1e-9 * max(abs(got), abs(want))


def register(registry: metricore.CollectorRegistry, decl: Dict[str, Any]) -> Tuple[str, Any]:
    """Declares a metric; returns (key, metric); library errors propagate."""
    only_keys(decl, DECL_KEYS, "metric declaration")
    kind, name = decl["kind"], decl["name"]
    if kind != "histogram" and set(decl) & HISTOGRAM_KEYS:
        raise BrokenFixture(f"{sorted(set(decl) & HISTOGRAM_KEYS)[0]!r} is a histogram option, but {name!r} is a {kind}")
    common: Dict[str, Any] = dict(
        labelnames=decl.get("labels", []),
        unit=decl.get("unit", ""),
        registry=registry,
    )
    if "cardinality_limit" in decl:
        common["cardinality_limit"] = as_uint(decl["cardinality_limit"], "cardinality_limit")
    help_text = decl.get("help", "")
    if kind == "counter":
        return name, metricore.Counter(name, help_text, **common)
    if kind == "gauge":
        return name, metricore.Gauge(name, help_text, **common)
    if kind == "histogram":
        buckets: Optional[List[float]] = None
        if "buckets" in decl:
            buckets = [as_float(b, "bucket bound") for b in decl["buckets"]]
        return name, metricore.Histogram(
            name,
            help_text,
            buckets=buckets,
            lowest=as_uint(decl.get("lowest", 1), "lowest"),
            highest=as_uint(decl.get("highest", 60_000_000), "highest"),
            significant_figures=as_uint(decl.get("significant_figures", 3), "significant_figures"),
            resolution=decl.get("resolution", "microsecond"),
            **common,
        )
    raise BrokenFixture(f"unknown metric kind {kind!r}")


class Case:
    def __init__(self) -> None:
        self.registry = metricore.CollectorRegistry()
        self.metrics: Dict[str, Any] = {}

    def metric(self, key: str) -> Any:
        if key not in self.metrics:
            raise BrokenFixture(f"no metric declared as {key!r}")
        return self.metrics[key]

    def series(self, key: str, labels: List[str]) -> Any:
        m = self.metric(key)
        return m.labels(*labels) if labels else m

    def histogram(self, key: str, labels: List[str]) -> Any:
        if not isinstance(self.metric(key), metricore.Histogram):
            raise BrokenFixture(f"{key!r} is not a histogram")
        return self.series(key, labels)

    def run(self, op: Dict[str, Any]) -> None:
        """Runs one op; library errors propagate."""
        name = op["op"]
        if name == "register":
            key, m = register(self.registry, op["metric"])
            self.metrics.setdefault(key, m)
            return
        key = op["metric"]
        labels = op.get("labels", [])
        value = op.get("value")
        m = self.metric(key)
        if isinstance(m, metricore.Counter) and name == "inc":
            n = 1 if value is None else as_uint(value, "counter increment")
            self.series(key, labels).inc(n)
        elif isinstance(m, metricore.Gauge) and name in ("inc", "dec", "set", "add", "sub"):
            if value is None and name not in ("inc", "dec"):
                raise BrokenFixture(f"{name} needs a 'value'")
            x = 1.0 if value is None else as_float(value, "gauge value")
            g = self.series(key, labels)
            if name in ("inc", "add"):
                g.inc(x)
            elif name in ("dec", "sub"):
                g.dec(x)
            else:
                g.set(x)
        elif isinstance(m, metricore.Histogram) and name == "record":
            v = as_uint(value, "recorded integer")
            self.histogram(key, labels).record(v, as_uint(op.get("count", 1), "count"))
        elif isinstance(m, metricore.Histogram) and name in ("observe", "record_ms"):
            x = as_float(value, "value")
            h = self.histogram(key, labels)
            h.observe(x) if name == "observe" else h.record_ms(x)
        elif isinstance(m, metricore.Histogram) and name == "merge":
            source = self.histogram(op["from"], op.get("from_labels", []))
            target = self.histogram(key, labels)
            target.merge(source.snapshot())
        elif isinstance(m, metricore.Histogram) and name == "merge_v2":
            blob = bytes.fromhex(op["blob_hex"])
            self.histogram(key, labels).merge(blob)
        elif isinstance(m, metricore.Histogram) and name == "v2_round_trip":
            encoding = op.get("encoding", "plain")
            if encoding not in ("plain", "deflate"):
                raise BrokenFixture(f"unknown encoding {encoding!r}")
            target = self.histogram(op["into"], op.get("into_labels", []))
            snap = self.histogram(key, labels).snapshot()
            blob = snap.encode_v2(compressed=encoding == "deflate")
            decoded = metricore.HistogramSnapshot.decode(blob, resolution=snap.resolution)
            target.merge(decoded)
        else:
            raise BrokenFixture(f"op {name!r} does not apply to {key!r}")


def check_outcome(op: Dict[str, Any], error: Optional[BaseException]) -> Optional[str]:
    want = op.get("error")
    want_metric = op.get("error_metric")
    if want is not None and want not in ERROR_KINDS:
        raise BrokenFixture(f"unknown error kind {want!r}")
    if error is None:
        return f"succeeded, but should fail with {want}" if want else None
    if not isinstance(error, metricore.MetricoreError):
        return f"raised {type(error).__name__}: {error}, which is not a MetricoreError"
    if want is None:
        return f"failed unexpectedly: {error.kind} ({error})"
    if error.kind != want:
        return f"failed with {error.kind} ({error}), but should fail with {want}"
    if not isinstance(error, (ValueError, TypeError)):
        return f"{type(error).__name__} is not a ValueError or TypeError"
    if want_metric is not None and (error.metric != want_metric or not str(error).startswith(f"metric '{want_metric}': ")):
        return f"the error should name metric {want_metric!r}: {error}"
    return None


def check_histogram(s: metricore.HistogramSnapshot, want: Dict[str, Any]) -> List[str]:
    if "value" in want:
        raise BrokenFixture("a histogram series has count/sum/min/max/saturated/quantiles/buckets, not 'value'")
    bad = []
    for key, got in (("count", s.count), ("min", s.min), ("max", s.max), ("saturated", s.saturated)):
        if key in want and as_uint(want[key], key) != got:
            bad.append(f"{key}: got {got}, want {want[key]}")
    if "sum" in want and not close(s.sum, as_float(want["sum"], "sum")):
        bad.append(f"sum: got {s.sum}, want {want['sum']}")
    for q in want.get("quantiles", []):
        only_keys(q, {"q", "value"}, "quantile")
        got = s.value_at_quantile(float(q["q"]))
        if got != as_uint(q["value"], "quantile value"):
            bad.append(f"quantile {q['q']}: got {got}, want {q['value']}")
    if "buckets" in want:
        wanted = []
        for b in want["buckets"]:
            only_keys(b, {"le", "count"}, "bucket")
            wanted.append((as_float(b["le"], "le"), as_uint(b["count"], "bucket count")))
        got_b = s.buckets()
        if len(got_b) != len(wanted) or any(not close(g[0], w[0]) or g[1] != w[1] for g, w in zip(got_b, wanted)):
            bad.append(f"buckets (le, cumulative count): got {got_b}, want {wanted}")
    return bad


def check_expect(case: Case, expect: Dict[str, Any]) -> List[str]:
    only_keys(expect, {"families", "series"}, "expect")
    gathered = case.registry.gather()
    bad = []
    if "families" in expect:
        got = [f["name"] for f in gathered]
        if got != expect["families"]:
            bad.append(f"families: got {got}, want {expect['families']}")
    for want in expect.get("series", []):
        only_keys(want, SERIES_KEYS, "expected series")
        if ("metric" in want) == ("family" in want):
            raise BrokenFixture("an expected series names either 'metric' or 'family'")
        name = case.metric(want["metric"]).name if "metric" in want else want["family"]
        labels = tuple(want.get("labels", []))
        what = f"series {name}{list(labels)}"
        found = [
            (f, s) for f in gathered if f["name"] == name for s in f["series"] if s["labels"] == labels
        ]
        if not found:
            bad.append(f"{what}: not collected")
            continue
        family, series = found[0]
        value = series["value"]
        if family["kind"] == "histogram":
            errs = check_histogram(value, want)
        else:
            only_keys(want, {"metric", "family", "labels", "value", "note"}, "expected counter or gauge series")
            errs = []
            if "value" in want:
                if family["kind"] == "counter":
                    w = as_uint(want["value"], "value")
                    if value != w or not isinstance(value, int):
                        errs.append(f"value: got {value!r}, want {w}")
                elif not close(value, as_float(want["value"], "value")):
                    errs.append(f"value: got {value!r}, want {want['value']}")
        bad.extend(f"{what}: {e}" for e in errs)
    return bad


def run_case(case: Dict[str, Any]) -> List[str]:
    only_keys(case, {"name", "description", "note", "metrics", "ops", "expect"}, "case")
    c = Case()
    for decl in case.get("metrics", []):
        key, m = register(c.registry, decl)  # declarations must succeed
        if key in c.metrics:
            raise BrokenFixture(f"{key!r} is declared twice")
        c.metrics[key] = m
    failures = []
    for i, op in enumerate(case.get("ops", [])):
        only_keys(op, OP_KEYS, "op")
        error: Optional[BaseException] = None
        try:
            c.run(op)
        except BrokenFixture:
            raise
        except Exception as e:  # the library's answer, checked below
            error = e
        msg = check_outcome(op, error)
        if msg:
            failures.append(f"op #{i} {json.dumps(op)}: {msg}")
    if "expect" in case:
        failures.extend(f"expect: {e}" for e in check_expect(c, case["expect"]))
    return failures


def load_cases() -> List[Any]:
    params = []
    files = sorted(FIXTURES.glob("*.json"))
    assert files, f"no fixtures in {FIXTURES}"
    for path in files:
        doc = json.loads(path.read_text())
        only_keys(doc, {"description", "cases"}, path.name)
        assert isinstance(doc["description"], str)
        names = set()
        for case in doc["cases"]:
            assert case["name"] not in names, f"{path.name}: case name {case['name']!r} appears twice"
            names.add(case["name"])
            params.append(pytest.param(case, id=f"{path.stem}::{case['name']}"))
    return params


CASES = load_cases()


def test_every_fixture_file_has_cases() -> None:
    files = {p.stem for p in FIXTURES.glob("*.json")}
    covered = {p.id.split("::")[0] for p in CASES}
    assert files == covered and len(CASES) >= len(files)


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: Dict[str, Any]) -> None:
    failures = run_case(case)
    assert not failures, "\n".join(failures)
