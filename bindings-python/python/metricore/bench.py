"""Side-by-side bench: metricore beside prometheus_client and hdrh, in one process.

Run ``python -m metricore.bench`` (``--quick`` for a short run, ``--json`` for machine-readable
output, ``--check`` to exit 1 when a bar is missed). Each figure is the median over several
repeats of ``timeit`` loops, in nanoseconds per operation (loop overhead included, as for the
"empty Python call" baseline printed first). Peers that are not installed are skipped, and the
output says so.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit
from typing import Any, Dict, List, Optional, Tuple

import metricore

#: (label, bar in ns/op or None). Renders are per call (10k series; a custom collector of
#: 1,250 samples, whose bar is a ratio, at most 0.5x prometheus_client: see the ratio column).
BARS: Dict[str, float] = {
    "counter inc": 60.0,
    "labelled inc (uncached)": 150.0,
    "histogram observe": 70.0,
    "HDR record": 70.0,
    "render 10k series": 4_000_000.0,
}


Case = Tuple[str, Dict[str, Any]]


def _median_ns(case: Case, number: int, repeat: int) -> float:
    stmt, env = case
    timer = timeit.Timer(stmt, globals=env)
    runs = timer.repeat(repeat=repeat, number=number)
    return statistics.median(runs) / number * 1e9


def _empty() -> None:
    pass


_EMPTY: Case = ("f()", {"f": _empty})


def _custom_collector_registry(registry: Any, core: Any) -> Any:
    """A registry with one custom collector yielding 1,250 gauge, counter and histogram
    samples, built once (the case times the scrape, not the collector's own code)."""
    g = core.GaugeMetricFamily("bench_queue_depth", "Depth.", labels=["queue", "shard"])
    for i in range(1000):
        g.add_metric([f"q{i % 10}", str(i)], i * 1.5)
    c = core.CounterMetricFamily("bench_jobs", "Jobs.", labels=["queue"])
    for i in range(200):
        c.add_metric([f"q{i}"], i)
    h = core.HistogramMetricFamily("bench_lat", "Latency.", labels=["route"])
    for i in range(10):
        h.add_metric([f"/r{i}"], [("0.1", 1), ("1.0", 5), ("+Inf", 9)], 3.5)
    families = [g, c, h]

    class Collector:
        def collect(self) -> List[Any]:
            return families

    registry.register(Collector())
    return registry


def _ours_cases(series: int) -> Dict[str, Case]:
    reg = metricore.CollectorRegistry()
    c = metricore.Counter("bench_requests", "Requests.", registry=reg)
    lc = metricore.Counter("bench_labelled", "Requests.", ["method"], registry=reg)
    h = metricore.Histogram("bench_latency_seconds", "Latency.", registry=reg)
    hdr = metricore.Histogram("bench_hdr", "HDR.", registry=reg, buckets=None)
    big = metricore.CollectorRegistry()
    fam = metricore.Counter("bench_series", "Series.", ["id"], registry=big)
    for i in range(series):
        fam.labels(str(i)).inc(i)
    return {
        "counter inc": ("c.inc()", {"c": c}),
        "labelled inc (uncached)": ('c.labels("GET").inc()', {"c": lc}),
        "histogram observe": ("h.observe(0.0123)", {"h": h}),
        "HDR record": ("h.record(12345)", {"h": hdr}),
        "render 10k series": ("g(r)", {"g": metricore.generate_latest, "r": big}),
        "render custom collector": ("g(r)", {
            "g": metricore.generate_latest,
            "r": _custom_collector_registry(metricore.CollectorRegistry(), metricore),
        }),
    }


def _prometheus_cases(series: int) -> Optional[Dict[str, Case]]:
    try:
        import prometheus_client as pc
        import prometheus_client.core as pc_core
    except ImportError:
        return None
    reg = pc.CollectorRegistry()
    c = pc.Counter("bench_requests", "Requests.", registry=reg)
    lc = pc.Counter("bench_labelled", "Requests.", ["method"], registry=reg)
    h = pc.Histogram("bench_latency_seconds", "Latency.", registry=reg)
    big = pc.CollectorRegistry()
    fam = pc.Counter("bench_series", "Series.", ["id"], registry=big)
    for i in range(series):
        fam.labels(str(i)).inc(i)
    return {
        "counter inc": ("c.inc()", {"c": c}),
        "labelled inc (uncached)": ('c.labels("GET").inc()', {"c": lc}),
        "histogram observe": ("h.observe(0.0123)", {"h": h}),
        "render 10k series": ("g(r)", {"g": pc.generate_latest, "r": big}),
        "render custom collector": ("g(r)", {
            "g": pc.generate_latest,
            "r": _custom_collector_registry(pc.CollectorRegistry(), pc_core),
        }),
    }


def _hdrh_cases() -> Optional[Dict[str, Case]]:
    try:
        from hdrh.histogram import HdrHistogram
    except ImportError:
        return None
    hh = HdrHistogram(1, 60_000_000, 3)
    return {"HDR record": ("h.record_value(12345)", {"h": hh})}


def run(quick: bool) -> Dict[str, Any]:
    """Measures every case; returns ``{"baseline_ns", "rows": [...], "skipped": [...]}``."""
    series = 10_000
    number = 20_000 if quick else 200_000
    repeat = 5 if quick else 9
    render_number, render_repeat = (1, 3) if quick else (3, 7)
    peer_render_number, peer_render_repeat = 1, 3

    def measure(name: str, fn: Case, peer: bool = False) -> float:
        if name.startswith("render"):
            n, r = (peer_render_number, peer_render_repeat) if peer else (render_number, render_repeat)
            return _median_ns(fn, n, r)
        return _median_ns(fn, number, repeat)

    baseline = _median_ns(_EMPTY, number, repeat)
    ours = _ours_cases(series)
    prom = _prometheus_cases(series)
    hdrh = _hdrh_cases()
    skipped = []
    if prom is None:
        skipped.append("prometheus_client is not installed")
    if hdrh is None:
        skipped.append("hdrh is not installed")
    peers: Dict[str, Tuple[str, Case]] = {}
    for name, case in (prom or {}).items():
        peers[name] = ("prometheus_client", case)
    for name, case in (hdrh or {}).items():
        peers[name] = ("hdrh", case)
    rows: List[Dict[str, Any]] = []
    for name, case in ours.items():
        ns = measure(name, case)
        peer = peers.get(name)
        peer_name = peer[0] if peer else None
        peer_ns = measure(name, peer[1], peer=True) if peer else None
        bar = BARS.get(name)
        rows.append(
            {
                "case": name,
                "metricore_ns": ns,
                "peer": peer_name,
                "peer_ns": peer_ns,
                "speedup": (peer_ns / ns) if peer_ns else None,
                "bar_ns": bar,
                "meets_bar": (ns <= bar) if bar is not None else None,
            }
        )
    return {"baseline_ns": baseline, "rows": rows, "skipped": skipped}


def _fmt(ns: Optional[float]) -> str:
    if ns is None:
        return "-"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e4:
        return f"{ns / 1e3:.1f} us"
    return f"{ns:.0f} ns"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metricore.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (for CI)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--check", action="store_true", help="exit 1 if a bar is missed")
    args = parser.parse_args(argv)
    result = run(args.quick)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"empty Python call (baseline): {_fmt(result['baseline_ns'])}/op")
        print(f"{'case':<26} {'metricore':>11} {'peer':>18} {'peer time':>11} {'ratio':>8} {'bar':>9}  ok")
        for r in result["rows"]:
            ratio = f"{r['speedup']:.1f}x" if r["speedup"] else "-"
            ok = {True: "yes", False: "MISS", None: "-"}[r["meets_bar"]]
            print(
                f"{r['case']:<26} {_fmt(r['metricore_ns']):>11} {r['peer'] or '-':>18} "
                f"{_fmt(r['peer_ns']):>11} {ratio:>8} {_fmt(r['bar_ns']):>9}  {ok}"
            )
        for s in result["skipped"]:
            print(f"skipped: {s}")
        missed = sum(1 for r in result["rows"] if r["meets_bar"] is False)
        print(f"bars: {len(result['rows']) - missed} met, {missed} missed")
    if args.check and any(r["meets_bar"] is False for r in result["rows"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
