"""``CollectorRegistry``: the core's registry, plus what prometheus_client's registry does in
Python: custom collectors, ``collect()`` as ``Metric`` objects, ``restricted_registry``,
``get_sample_value`` and ``target_info``."""

from __future__ import annotations

import os
import threading
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from . import _native
from ._errors import make
from ._families import Metric, Sample, float_to_go_string

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "info": ("_info",),
}

_created_enabled: Optional[bool] = None


def use_created() -> bool:
    """Whether ``_created`` samples are written: not when ``disable_created_metrics()`` was
    called or ``PROMETHEUS_DISABLE_CREATED_SERIES`` is true."""
    if _created_enabled is not None:
        return _created_enabled
    return os.environ.get("PROMETHEUS_DISABLE_CREATED_SERIES", "False").lower() not in ("true", "1", "t")


def disable_created_metrics() -> None:
    """Leaves the ``_created`` samples out of every exposition."""
    global _created_enabled
    _created_enabled = False


def enable_created_metrics() -> None:
    """Writes the ``_created`` samples again."""
    global _created_enabled
    _created_enabled = True


#: prometheus_client's name for a name clash: metricore's ``ConflictError`` itself, so that
#: ``except DuplicateTimeseries`` catches every clash, the core's included.
DuplicateTimeseries = _native.ConflictError


def _duplicates(names: Set[str]) -> _native.MetricoreError:
    return make(
        _native.ConflictError, "conflict", None, "Duplicated timeseries in CollectorRegistry: {}".format(names)
    )


def sample_names(name: str, typ: str) -> List[str]:
    """Every sample name a family of this name and type may write."""
    return [name] + [name + s for s in _SUFFIXES.get(typ, ())]


def _native_metric(family: Dict[str, Any], created: bool) -> Metric:
    kind = family["kind"]
    m = Metric(family["name"], family["help"], kind)
    m.unit = family["unit"] or ""
    names = family["label_names"]
    name = family["name"]
    add = m.samples.append
    for series in family["series"]:
        labels = dict(zip(names, series["labels"]))
        value = series["value"]
        if kind == "counter":
            add(Sample(name + "_total", labels, float(value)))
            if created:
                add(Sample(name + "_created", labels, float(series["created"])))
        elif kind == "gauge":
            add(Sample(name, labels, float(value)))
        else:
            with_sum = True
            if kind == "histogram":
                buckets = value.buckets()
                # As prometheus_client: no _sum when the lowest bound is negative.
                with_sum = not buckets or buckets[0][0] >= 0
                for le, count in buckets:
                    add(Sample(name + "_bucket", {**labels, "le": float_to_go_string(le)}, float(count)))
            add(Sample(name + "_count", labels, float(value.count)))
            if with_sum:
                add(Sample(name + "_sum", labels, float(value.sum)))
            if created:
                add(Sample(name + "_created", labels, float(series["created"])))
    return m


class CollectorRegistry(_native.CollectorRegistry):
    """A set of metric families and custom collectors, collected and exposed together.

    Metrics join it at construction (``registry=``); ``register()`` adds any object with a
    ``collect()`` method yielding ``Metric`` objects (and, optionally, ``describe()``).
    ``target_info`` (a dict) adds a ``target_info`` info family.
    """

    def __init__(
        self, auto_describe: bool = False, target_info: Optional[Dict[str, str]] = None,
        **kwargs: Any,
    ) -> None:
        self._auto_describe = auto_describe
        self._lock = threading.Lock()
        # (collector, the core families registered before it, its sample names)
        self._collectors: List[Tuple[Any, Set[str], Set[str]]] = []
        self._target_info: Optional[Dict[str, str]] = None
        self.set_target_info(target_info)

    # ------------------------------------------------------------------ registration
    def _names_of(self, collector: Any) -> Set[str]:
        describe = getattr(collector, "describe", None)
        if describe is None and self._auto_describe:
            describe = collector.collect
        if describe is None:
            return set()
        out: Set[str] = set()
        for metric in describe():
            out.update(sample_names(metric.name, metric.type))
        return out

    def _used_names(self) -> Set[str]:
        used: Set[str] = {n for _, names in self.sample_names() for n in names}
        for _, _, names in self._collectors:
            used |= names
        if self._target_info is not None:
            used.add("target_info")
        return used

    def register(self, collector: Any) -> None:
        """Adds a custom collector (an object with ``collect()``).

        Raises:
            DuplicateTimeseries: it yields a sample name the registry already has.
        """
        if isinstance(collector, (_native.Counter, _native.Gauge, _native.Histogram, _native.Summary)):
            raise _native.InvalidConfigError(
                f"metric '{collector.name}': a metricore metric joins a registry when it is made;"
                " pass registry= to its constructor"
            )
        with self._lock:
            names = self._names_of(collector)
            duplicates = self._used_names() & names
            if duplicates:
                raise _duplicates(duplicates)
            self._collectors.append((collector, set(self.family_names()), names))

    def unregister(self, collector: Any) -> bool:  # type: ignore[override]
        """Removes a custom collector, a metric, or a family by name."""
        with self._lock:
            for i, (c, _, _) in enumerate(self._collectors):
                if c is collector:
                    del self._collectors[i]
                    return True
        return bool(super().unregister(collector))

    # ------------------------------------------------------------------ collection
    def _segments(self, wanted: Optional[Set[str]] = None) -> Iterator[Any]:
        """What a collection is made of, in registration order: ``("core", names)`` for a run
        of core families and ``("metrics", [Metric, ...])`` for a custom collector's
        (``target_info`` first)."""
        if self._target_info is not None:
            yield "metrics", [self._target_info_metric()]
        names = self.family_names()
        emitted: Set[str] = set()
        with self._lock:
            collectors = list(self._collectors)
        for collector, before, claimed in collectors:
            run = [n for n in names if n in before and n not in emitted]
            if run:
                emitted.update(run)
                yield "core", run
            if wanted is None or not claimed or wanted & claimed:
                yield "metrics", list(collector.collect())
        # The rest, the registry's own metricore_* families included.
        yield "core_except", sorted(emitted)

    def collect(self) -> Iterator[Metric]:
        """Every family as a prometheus_client ``Metric``, in registration order."""
        return self._collect_named(None)

    def _collect_named(self, wanted: Optional[Set[str]]) -> Iterator[Metric]:
        """``collect()``; with ``wanted`` (sample names), only the core families and the
        collectors (those that ``describe()`` themselves) that may write one of them are
        collected, as prometheus_client's restricted registry does."""
        created = use_created()
        families: Optional[Dict[str, Dict[str, Any]]] = None
        core_names: Optional[List[str]] = None
        if wanted is not None:
            core_names = [n for n, samples in self.sample_names() if wanted & set(samples)]
        for what, segment in self._segments(wanted):
            if what == "metrics":
                yield from segment
                continue
            if families is None:
                families = {f["name"]: f for f in self.gather(names=core_names)}
            if what == "core":
                chosen = [families[n] for n in segment if n in families]
            else:
                chosen = [f for n, f in families.items() if n not in segment]
            for f in chosen:
                yield _native_metric(f, created)

    def has_custom_collectors(self) -> bool:
        """Whether anything beyond the core's families is collected (custom collectors or
        ``target_info``)."""
        return bool(self._collectors) or self._target_info is not None

    def restricted_registry(self, names: Iterable[str]) -> "RestrictedRegistry":
        """A view that collects only the samples named in ``names``."""
        return RestrictedRegistry(names, self)

    def set_target_info(self, labels: Optional[Dict[str, str]]) -> None:
        """Sets (or, with ``None``, removes) the ``target_info`` family's labels."""
        with self._lock:
            if labels:
                if self._target_info is None and "target_info" in self._used_names():
                    raise _duplicates({"target_info"})
                self._target_info = dict(labels)
            else:
                self._target_info = None

    def get_target_info(self) -> Optional[Dict[str, str]]:
        """The ``target_info`` labels, or ``None``."""
        with self._lock:
            return None if self._target_info is None else dict(self._target_info)

    def _target_info_metric(self) -> Metric:
        m = Metric("target", "Target metadata", "info")
        m.add_sample("target_info", dict(self._target_info or {}), 1.0)
        return m

    def get_sample_value(self, name: str, labels: Optional[Dict[str, str]] = None) -> Optional[float]:
        """The value of one sample as a scrape would show it, or ``None`` (for tests)."""
        want = labels or {}
        for metric in self.collect():
            for s in metric.samples:
                if s.name == name and s.labels == want:
                    return s.value
        return None

    def __repr__(self) -> str:
        return f"CollectorRegistry(families={self.family_names()!r}, collectors={len(self._collectors)})"


class RestrictedRegistry:
    """A registry view yielding only the samples whose names were asked for."""

    def __init__(self, names: Iterable[str], registry: CollectorRegistry) -> None:
        self._name_set = set(names)
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for metric in self._registry._collect_named(self._name_set):
            m = metric._restricted_metric(self._name_set)
            if m is not None:
                yield m

    def get_sample_value(self, name: str, labels: Optional[Dict[str, str]] = None) -> Optional[float]:
        want = labels or {}
        for metric in self.collect():
            for s in metric.samples:
                if s.name == name and s.labels == want:
                    return s.value
        return None


#: The registry metrics join when no ``registry=`` is given: the core's default registry.
REGISTRY = CollectorRegistry(_core_default=True)
_native.set_default_registry(REGISTRY)
