"""Hostile input, function by function: every call below must raise a MetricoreError subclass
of ValueError or TypeError that names the metric, never a PanicException (which
``except Exception`` does not catch), and must leave what was recorded alone."""

from __future__ import annotations

import math
from typing import Any, Callable, List, Tuple, Type

import pytest

import metricore
from metricore import CollectorRegistry, Counter, Gauge, Histogram, Meter, Throughput

# Durations a Duration cannot hold (above ~1.8e19 s) or that are not durations at all.
HOSTILE_SECONDS: List[Any] = [1e20, 1e300, math.inf, -math.inf, math.nan, -1.0, -1e-9]
# Whole-number constructor options out of any range or with a fraction.
HOSTILE_WHOLE_OPTIONS: List[Any] = [-1, -(2**70), 1.5, -0.5, math.nan, math.inf]
# Numbers too large for the option's type, whatever the core's range for it.
HUGE_WHOLE_OPTIONS: List[Any] = [2**64, 2**200]
# Counts that are not whole numbers in 0..2**64.
HOSTILE_COUNTS: List[Any] = [-1, 2**64, 2**200, 0.5, -0.5, math.nan, math.inf]
HOSTILE_QUANTILES: List[Any] = [math.nan, -0.1, 1.1, math.inf, -math.inf]
WRONG_TYPES: List[Any] = ["1", b"1", [1], object()]
SURROGATE = "\udc80"

Case = Tuple[str, Callable[[], object], str, Type[BaseException]]


def expect(call: Callable[[], object], metric: str, builtin: Type[BaseException]) -> BaseException:
    try:
        call()
    except BaseException as e:  # noqa: BLE001 - the point is to see what escapes
        assert type(e).__name__ != "PanicException", f"panic: {e!r}"
        assert isinstance(e, metricore.MetricoreError), f"{type(e).__name__}: {e}"
        assert isinstance(e, builtin), f"{type(e).__mro__} is not a {builtin.__name__}"
        assert e.metric == metric, f"{e!r} names {e.metric!r}, not {metric!r}"
        assert str(e).startswith(f"metric '{metric}': "), str(e)
        return e
    raise AssertionError("no error raised")


def cases(registry: CollectorRegistry) -> List[Case]:
    out: List[Case] = []
    h = Histogram("lat_seconds", "L.", registry=registry)
    labelled = Counter("req", "R.", ["path"], registry=registry)
    meter, throughput = Meter(), Throughput()
    sampler = registry.sampler()
    for secs in HOSTILE_SECONDS:
        out += [
            (f"Counter(idle_ttl={secs})", lambda s=secs: Counter("c1", "C.", ["a"], registry=registry, idle_ttl=s), "c1", ValueError),
            (f"Gauge(idle_ttl={secs})", lambda s=secs: Gauge("g1", "G.", ["a"], registry=registry, idle_ttl=s), "g1", ValueError),
            (f"Histogram(idle_ttl={secs})", lambda s=secs: Histogram("h1", "H.", ["a"], registry=registry, idle_ttl=s), "h1", ValueError),
            (f"Histogram(window_seconds={secs})", lambda s=secs: Histogram("h2", "H.", registry=registry, window_seconds=s), "h2", ValueError),
            (f"Meter({secs})", lambda s=secs: Meter(s), "meter", ValueError),
            (f"Throughput({secs})", lambda s=secs: Throughput(s), "throughput", ValueError),
            (f"sampler().start({secs})", lambda s=secs: sampler.start(s), "resource sampler", ValueError),
        ]
    for bad in WRONG_TYPES:
        out += [
            (f"Counter(idle_ttl={bad!r})", lambda b=bad: Counter("c2", "C.", ["a"], registry=registry, idle_ttl=b), "c2", TypeError),
            (f"Histogram(window_seconds={bad!r})", lambda b=bad: Histogram("h3", "H.", registry=registry, window_seconds=b), "h3", TypeError),
            (f"Meter({bad!r})", lambda b=bad: Meter(b), "meter", TypeError),
            (f"Meter().mark({bad!r})", lambda b=bad: meter.mark(b), "meter", TypeError),
            (f"Throughput().record({bad!r})", lambda b=bad: throughput.record(b), "throughput", TypeError),
            (f"sampler().start({bad!r})", lambda b=bad: sampler.start(b), "resource sampler", TypeError),
            (f"quantile({bad!r})", lambda b=bad: h.quantile(b), "lat_seconds", TypeError),
            (f"record(1, count={bad!r})", lambda b=bad: h.record(1, count=b), "lat_seconds", TypeError),
        ]
    int_options = [
        ("Counter", "cardinality_limit", lambda **kw: Counter("c4", "C.", ["a"], registry=registry, **kw), "c4"),
        ("Gauge", "cardinality_limit", lambda **kw: Gauge("g4", "G.", ["a"], registry=registry, **kw), "g4"),
        ("Histogram", "cardinality_limit", lambda **kw: Histogram("h4", "H.", ["a"], registry=registry, **kw), "h4"),
        ("Histogram", "lowest", lambda **kw: Histogram("h5", "H.", registry=registry, **kw), "h5"),
        ("Histogram", "highest", lambda **kw: Histogram("h6", "H.", registry=registry, **kw), "h6"),
        ("Histogram", "significant_figures", lambda **kw: Histogram("h7", "H.", registry=registry, **kw), "h7"),
        ("Histogram", "sub_windows", lambda **kw: Histogram("h8", "H.", registry=registry, window_seconds=60, **kw), "h8"),
        (
            "Summary",
            "cardinality_limit",
            lambda **kw: metricore.Summary("s1", "S.", ["a"], registry=registry, **kw),
            "s1",
        ),
    ]
    for cls, option, make, metric in int_options:
        for n in HOSTILE_WHOLE_OPTIONS:
            out.append((f"{cls}({option}={n!r})", lambda m=make, o=option, v=n: m(**{o: v}), metric, ValueError))
        for bad in WRONG_TYPES:
            out.append((f"{cls}({option}={bad!r})", lambda m=make, o=option, v=bad: m(**{o: v}), metric, TypeError))
    for option, make, metric in [
        ("significant_figures", lambda **kw: Histogram("h9", "H.", registry=registry, **kw), "h9"),
        ("sub_windows", lambda **kw: Histogram("h10", "H.", registry=registry, window_seconds=60, **kw), "h10"),
        ("lowest", lambda **kw: Histogram("h11", "H.", registry=registry, **kw), "h11"),
    ]:
        for n in HUGE_WHOLE_OPTIONS:
            out.append((f"Histogram({option}={n})", lambda m=make, o=option, v=n: m(**{o: v}), metric, ValueError))
    for n in HOSTILE_COUNTS:
        out += [
            (f"record(1, count={n})", lambda c=n: h.record(1, count=c), "lat_seconds", ValueError),
            (f"Meter().mark({n})", lambda c=n: meter.mark(c), "meter", ValueError),
            (f"Throughput().record(bytes={n})", lambda c=n: throughput.record(1, 0, c), "throughput", ValueError),
            (f"Meter(sub_windows={n})", lambda c=n: Meter(60.0, c), "meter", ValueError),
        ]
    for q in HOSTILE_QUANTILES:
        out.append((f"quantile({q})", lambda x=q: h.quantile(x), "lat_seconds", ValueError))
    for value in [SURROGATE, f"ok{SURROGATE}ok", "\ud800"]:
        out += [
            (f"labels({value!r})", lambda v=value: labelled.labels(v), "req", ValueError),
            (f"labels(path={value!r})", lambda v=value: labelled.labels(path=v), "req", ValueError),
            (f"remove({value!r})", lambda v=value: labelled.remove(v), "req", ValueError),
        ]
    out += [
        ("Counter(labelnames=[surrogate])", lambda: Counter("c3", "C.", [SURROGATE], registry=registry), "c3", ValueError),
        ("Counter(name with NUL)", lambda: Counter("a\x00b", "C.", registry=registry), "a\x00b", ValueError),
        ("Counter(empty name)", lambda: Counter("", "C.", registry=registry), "", ValueError),
        ("labels(NUL in label name)", lambda: labelled.labels(**{"pa\x00th": "x"}), "req", ValueError),
    ]
    return out


def test_every_hostile_call_raises_a_typed_error_naming_the_metric(registry: CollectorRegistry) -> None:
    h = Histogram("kept_seconds", "K.", registry=registry)
    h.observe(0.5)
    failures = []
    for what, call, metric, builtin in cases(registry):
        try:
            expect(call, metric, builtin)
        except AssertionError as e:
            failures.append(f"{what}: {e}")
    assert not failures, "\n".join(failures)
    assert h.snapshot().count == 1, "nothing recorded is lost"


def test_hostile_values_change_nothing(registry: CollectorRegistry) -> None:
    h = Histogram("lat_seconds", "L.", registry=registry)
    h.record(100, count=3)
    meter = Meter()
    meter.mark(2)
    for n in HOSTILE_COUNTS:
        with pytest.raises(metricore.InvalidValueError):
            h.record(1, count=n)
        with pytest.raises(metricore.InvalidValueError):
            meter.mark(n)
    assert h.snapshot().count == 3
    assert meter.count == 2
    # The largest count that fits is accepted.
    h.record(1, count=2**64 - 1 - 3)
    assert h.snapshot().count == 2**64 - 1


def test_quantile_bounds_are_inclusive(registry: CollectorRegistry) -> None:
    h = Histogram("lat_seconds", "L.", registry=registry)
    h.observe(0.25)
    assert h.quantile(0) == pytest.approx(0.25, rel=1e-3)
    assert h.quantile(1) == pytest.approx(0.25, rel=1e-3)
    snap = h.snapshot()
    for q in HOSTILE_QUANTILES:
        with pytest.raises(metricore.InvalidValueError):
            snap.quantile(q)
        with pytest.raises(metricore.InvalidValueError):
            snap.value_at_quantile(q)
    with pytest.raises(metricore.InvalidValueError):
        snap.percentile_ms(100.5)


def test_a_hostile_v2_header_decodes_quickly_and_small() -> None:
    import struct
    import tracemalloc

    # 40 bytes declaring 1..2**62 at 5 significant figures, no counts.
    blob = struct.pack(">IIIIqqd", 0x1C849313, 0, 0, 5, 1, 2**62, 1.0)
    tracemalloc.start()
    snap = metricore.HistogramSnapshot.decode(blob)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert snap.count == 0
    # The Rust side does not allocate through Python, so also check the process did not grow by
    # the 47 MiB such a header used to cost: RSS before and after many decodes.
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(50):
        metricore.HistogramSnapshot.decode(blob)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert (after - before) < 16 * 1024, f"peak RSS grew by {after - before} KiB"
    assert peak < 1 << 20
