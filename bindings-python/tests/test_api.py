"""The prometheus_client-shaped API: constructors, labels, remove/clear, decorators and
context managers, Summary/Info/Enum, the default registry."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

import metricore
from metricore import CollectorRegistry, Counter, Enum, Gauge, Histogram, Info, Summary


def test_counter_counts_and_total_suffix(registry: CollectorRegistry) -> None:
    c = Counter("requests_total", "Requests.", registry=registry)
    assert c.name == "requests"
    c.inc()
    c.inc(41)
    c.inc(2.0)  # a whole float is accepted, as prometheus_client accepts floats
    assert c.get() == 44
    assert registry.get_sample_value("requests_total") == 44.0
    # `requests` and `requests_total` name the same counter.
    same = Counter("requests", "Requests.", registry=registry)
    same.inc()
    assert c.get() == 45


def test_counter_takes_any_non_negative_number_as_prometheus_client_does(
    registry: CollectorRegistry,
) -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    peer_registry = prometheus_client.CollectorRegistry()
    peer = prometheus_client.Counter("cost", "C.", registry=peer_registry)
    ours = Counter("cost", "C.", registry=registry)
    for amount in (0.5, 0, 1e300, 2**70, 0.25, 3):
        peer.inc(amount)
        ours.inc(amount)
        want = peer_registry.get_sample_value("cost_total")
        assert ours.get() == want, amount
        assert registry.get_sample_value("cost_total") == want, amount


def test_namespace_subsystem_unit(registry: CollectorRegistry) -> None:
    h = Histogram("latency", "L.", namespace="app", subsystem="http", unit="seconds", registry=registry)
    assert h.name == "app_http_latency_seconds"
    g = Gauge("size", "S.", unit="bytes", registry=registry)
    assert g.name == "size_bytes"


def test_labels_by_position_and_name(registry: CollectorRegistry) -> None:
    c = Counter("hits", "Hits.", ["method", "code"], registry=registry)
    assert c.labelnames == ("method", "code")
    c.labels("GET", "200").inc()
    c.labels(method="GET", code="200").inc(2)
    c.labels("GET", 200).inc()  # non-str values go through str(), as in prometheus_client
    child = c.labels("POST", "500")
    child.inc(5)
    assert child.labelvalues == ["POST", "500"]
    assert c.labels("GET", "200").get() == 4
    assert registry.get_sample_value("hits_total", {"method": "POST", "code": "500"}) == 5.0


def test_cached_child_is_reused_and_remove_invalidates(registry: CollectorRegistry) -> None:
    c = Counter("jobs", "Jobs.", ["queue"], registry=registry)
    a = c.labels("q1")
    assert c.labels("q1") is a  # the family's child cache
    a.inc(3)
    c.remove("q1")
    assert registry.get_sample_value("jobs_total", {"queue": "q1"}) is None
    fresh = c.labels("q1")
    assert fresh is not a
    fresh.inc()
    assert registry.get_sample_value("jobs_total", {"queue": "q1"}) == 1.0
    c.labels("q2").inc()
    c.clear()
    assert registry.gather()[0]["series"] == []
    c.labels("q2").inc(7)
    assert registry.get_sample_value("jobs_total", {"queue": "q2"}) == 7.0


def test_remove_through_a_second_object_of_the_same_family(registry: CollectorRegistry) -> None:
    first = Counter("tasks", "Tasks.", ["kind"], registry=registry)
    second = Counter("tasks", "Tasks.", ["kind"], registry=registry)  # the same family
    first.labels("a").inc()
    second.remove("a")
    first.labels("a").inc(2)  # must land in a live series, not the removed one
    assert registry.get_sample_value("tasks_total", {"kind": "a"}) == 2.0


def test_overflow_lookups_are_counted_every_time(registry: CollectorRegistry) -> None:
    c = Counter("capped", "Capped.", ["id"], registry=registry, cardinality_limit=1)
    c.labels("a").inc()
    for _ in range(3):
        c.labels("b").inc()
    assert registry.get_sample_value("capped_total", {"id": "__overflow__"}) == 3.0
    assert registry.get_sample_value("metricore_cardinality_overflow_total", {"metric": "capped"}) == 3.0


def test_gauge_operations(registry: CollectorRegistry) -> None:
    g = Gauge("temp", "T.", registry=registry)
    g.set(10)
    g.inc()
    g.inc(0.5)
    g.dec()
    g.dec(2)
    assert g.get() == 8.5
    g.set(math.nan)
    assert math.isnan(g.get())
    before = time.time()
    g.set_to_current_time()
    assert before - 1 <= g.get() <= time.time() + 1


def test_gauge_track_inprogress_and_time(registry: CollectorRegistry) -> None:
    g = Gauge("inflight", "I.", registry=registry)
    with g.track_inprogress():
        assert g.get() == 1
        with g.track_inprogress():
            assert g.get() == 2
    assert g.get() == 0

    @g.track_inprogress()
    def work() -> float:
        return g.get()

    assert work() == 1 and g.get() == 0
    t = Gauge("last_duration", "D.", registry=registry)
    with t.time():
        time.sleep(0.02)
    assert 0.015 <= t.get() < 2


def test_histogram_observe_and_exact_default_buckets(registry: CollectorRegistry) -> None:
    h = Histogram("lat_seconds", "L.", registry=registry)
    for v in (0.005, 0.2, 0.2, 3.0, 100.0):
        h.observe(v)
    get = registry.get_sample_value
    assert get("lat_seconds_bucket", {"le": "0.005"}) == 1.0  # equal to a bound counts in it
    assert get("lat_seconds_bucket", {"le": "0.25"}) == 3.0
    assert get("lat_seconds_bucket", {"le": "5.0"}) == 4.0
    assert get("lat_seconds_bucket", {"le": "+Inf"}) == 5.0
    assert get("lat_seconds_count") == 5.0
    assert get("lat_seconds_sum") == pytest.approx(103.405)
    assert h.count() == 5


def test_histogram_custom_buckets_widen_the_range(registry: CollectorRegistry) -> None:
    h = Histogram("size_bytes", "S.", buckets=[100, 1000, 1e6, "+Inf"], registry=registry)
    h.observe(5e5)
    assert h.snapshot().saturated == 0  # the range grew to twice the largest bound
    assert registry.get_sample_value("size_bytes_bucket", {"le": "1e+06"}) == 1.0
    assert "metricore_saturated_values" not in registry.family_names()


def test_histogram_time_as_context_manager_and_decorator(registry: CollectorRegistry) -> None:
    h = Histogram("op_seconds", "O.", registry=registry)
    with h.time():
        time.sleep(0.01)

    @h.time()
    def op(x: int) -> int:
        return x * 2

    assert op(21) == 42
    assert op.__name__ == "op"
    s = h.snapshot()
    assert s.count == 2
    assert s.sum >= 0.009


def test_decorators_wrap_coroutines(registry: CollectorRegistry) -> None:
    h = Histogram("async_seconds", "A.", registry=registry)

    @h.time()
    async def op() -> str:
        await asyncio.sleep(0.01)
        return "done"

    assert asyncio.run(op()) == "done"
    assert h.snapshot().sum >= 0.009


def test_count_exceptions(registry: CollectorRegistry) -> None:
    c = Counter("failures", "F.", registry=registry)
    with pytest.raises(KeyError):
        with c.count_exceptions():
            raise KeyError("x")
    with c.count_exceptions(ValueError):
        pass
    with pytest.raises(KeyError):
        with c.count_exceptions(ValueError):
            raise KeyError("not counted")

    @c.count_exceptions()
    def boom() -> None:
        raise RuntimeError

    with pytest.raises(RuntimeError):
        boom()
    assert c.get() == 2


def test_summary_exposes_count_and_sum(registry: CollectorRegistry) -> None:
    s = Summary("req_size", "Sizes.", ["route"], registry=registry)
    child = s.labels("/")
    for v in (1.0, 2.0, 3.0):
        child.observe(v)
    assert registry.get_sample_value("req_size_count", {"route": "/"}) == 3.0
    assert registry.get_sample_value("req_size_sum", {"route": "/"}) == 6.0
    assert child.quantile(0.5) == pytest.approx(2.0, rel=1e-3)
    with child.time():
        pass
    assert registry.get_sample_value("req_size_count", {"route": "/"}) == 4.0


def test_info(registry: CollectorRegistry) -> None:
    i = Info("build", "Build.", registry=registry)
    assert registry.get_sample_value("build_info") == 1.0
    i.info({"version": "1.2", "commit": "abc"})
    assert registry.get_sample_value("build_info", {"version": "1.2", "commit": "abc"}) == 1.0
    i.info({"version": "1.3"})
    assert registry.get_sample_value("build_info", {"version": "1.3"}) == 1.0
    assert registry.get_sample_value("build_info", {"version": "1.2", "commit": "abc"}) is None
    labelled = Info("target", "T.", ["env"], registry=registry)
    labelled.labels("prod").info({"region": "eu"})
    labelled.labels(env="dev").info({"region": "us"})
    assert registry.get_sample_value("target_info", {"env": "dev", "region": "us"}) == 1.0
    # Each child may carry other keys, as in prometheus_client.
    labelled.labels("prod").info({"zone": "a"})
    assert registry.get_sample_value("target_info", {"env": "prod", "zone": "a"}) == 1.0
    assert registry.get_sample_value("target_info", {"env": "prod", "region": "eu"}) is None
    with pytest.raises(metricore.InvalidLabelsError, match="metric 'target'"):
        labelled.labels("prod").info({"env": "a"})
    # prometheus_client raises ValueError for a value that is not a str.
    with pytest.raises(metricore.InvalidValueError):
        i.info({"version": 2})  # type: ignore[dict-item]


def test_enum(registry: CollectorRegistry) -> None:
    e = Enum("task_state", "State.", states=["starting", "running", "stopped"], registry=registry)
    get = registry.get_sample_value
    assert get("task_state", {"task_state": "starting"}) == 1.0
    e.state("running")
    assert get("task_state", {"task_state": "starting"}) == 0.0
    assert get("task_state", {"task_state": "running"}) == 1.0
    with pytest.raises(metricore.InvalidValueError, match="metric 'task_state': unknown state 'paused'"):
        e.state("paused")
    assert get("task_state", {"task_state": "running"}) == 1.0
    le = Enum("worker_state", "W.", ["worker"], states=["idle", "busy"], registry=registry)
    le.labels("w1").state("busy")
    assert get("worker_state", {"worker": "w1", "worker_state": "busy"}) == 1.0
    with pytest.raises(metricore.InvalidConfigError):
        Enum("no_states", "N.", registry=registry, states=[])


def test_default_registry(unique_name) -> None:
    name = unique_name("default_counter")
    c = Counter(name, "Default.")
    c.inc(3)
    assert metricore.REGISTRY.get_sample_value(name + "_total") == 3.0
    assert f"{name}_total 3" in metricore.generate_latest().decode()
    assert metricore.REGISTRY.unregister(c)
    assert name + "_total" not in metricore.generate_latest().decode()


def test_registry_none_registers_nowhere(registry: CollectorRegistry, unique_name) -> None:
    name = unique_name("private")
    c = Counter(name, "P.", registry=None)
    c.inc()
    assert c.get() == 1
    assert name not in metricore.REGISTRY.family_names()


def test_registry_snapshot_and_summary(registry: CollectorRegistry) -> None:
    c = Counter("reqs", "R.", ["m"], registry=registry)
    c.labels("GET").inc(2)
    Gauge("up", "U.", registry=registry).set(1)
    h = Histogram("lat_seconds", "L.", registry=registry)
    h.observe(0.25)
    snap = registry.snapshot()
    assert set(snap) == {"reqs", "up", "lat_seconds"}
    assert snap["reqs"]["series"][0]["value"] == {"value": 2}
    assert snap["lat_seconds"]["series"][0]["value"]["count"] == 1
    summary = registry.summary()
    assert summary["counters"] == {'reqs{m="GET"}': 2}
    assert summary["gauges"] == {"up": 1.0}
    assert summary["histograms"]["lat_seconds"]["latency"]["p50_ms"] == pytest.approx(250.0, rel=1e-3)


def test_cardinality_default_matches_core() -> None:
    from metricore import _native

    assert _native.DEFAULT_CARDINALITY_LIMIT == 10_000
    import inspect

    assert inspect.signature(Counter).parameters["cardinality_limit"].default == 10_000


def test_exemplars_in_openmetrics(registry: CollectorRegistry) -> None:
    c = Counter("ex", "E.", registry=registry)
    c.inc(1, exemplar={"trace_id": "abc"})
    h = Histogram("exh_seconds", "E.", registry=registry)
    h.observe(0.2, exemplar={"trace_id": "def"})
    om = registry.render_openmetrics()
    assert '# {trace_id="abc"} 1' in om
    assert '# {trace_id="def"} 0.2' in om
    with pytest.raises(metricore.InvalidExemplarError, match="metric 'ex'"):
        c.inc(1, exemplar={"trace_id": "x" * 200})
    assert c.get() == 2  # the increment still counts, as the core documents
