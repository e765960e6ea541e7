"""``Info`` and ``Enum``: prometheus_client's metric types the core has no kind for.

Both keep their few values in Python and join their registry as collectors, so they are
exposed exactly as prometheus_client exposes them: an ``info`` family whose ``NAME_info``
series carry the info as labels with the value 1, and a ``stateset`` family with one series
per state (declared order), labelled ``NAME="state"``, 1 for the current state; the 0.0.4
text format writes both as gauges. Children are kept in the order they were first used.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from . import _native
from ._errors import make
from ._families import Metric, Sample
from ._registry import REGISTRY

_MISSING: Any = object()
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _bad(cls: Any, kind: str, metric: Optional[str], rule: str) -> _native.MetricoreError:
    return make(cls, kind, metric, rule)


def _label_error(metric: str, rule: str) -> _native.MetricoreError:
    return make(_native.InvalidLabelsError, "invalid_labels", metric, rule)


def _full_name(kind: str, name: str, namespace: str, subsystem: str, unit: str) -> str:
    if not name:
        raise _bad(_native.InvalidNameError, "invalid_name", name, "a metric name must not be empty")
    full = "_".join(p for p in (namespace, subsystem, name) if p)
    if unit:
        raise _bad(_native.InvalidConfigError, "invalid_config", full, f"an {kind} has no unit")
    if not _METRIC_NAME.match(full):
        raise _bad(
            _native.InvalidNameError, "invalid_name", full,
            "a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*",
        )
    return full


def _check_label_names(metric: str, labelnames: Iterable[str]) -> Tuple[str, ...]:
    names = tuple(labelnames)
    for n in names:
        if not isinstance(n, str):
            raise make(_native.MetricTypeError, "invalid_type", metric, f"label names must be str, not {type(n).__name__}")
        if not _LABEL_NAME.match(n) or n.startswith("__"):
            raise _bad(
                _native.InvalidNameError, "invalid_name", metric,
                f"label name '{n}' must match [a-zA-Z_][a-zA-Z0-9_]* and not start with '__'",
            )
    if len(set(names)) != len(names):
        raise _label_error(metric, "label names must be distinct")
    return names


def _resolve_labels(
    name: str, labelnames: Tuple[str, ...], values: Tuple[Any, ...], kw: Dict[str, Any]
) -> Tuple[str, ...]:
    if not labelnames:
        raise _label_error(name, "has no label names; record on it directly, without labels()")
    if values and kw:
        raise _label_error(name, "give label values either by position or by name, not both")
    if kw:
        if set(kw) != set(labelnames):
            raise _label_error(name, f"label names must be exactly: {', '.join(labelnames)}")
        return tuple(str(kw[n]) for n in labelnames)
    if len(values) != len(labelnames):
        raise _label_error(
            name, f"expected {len(labelnames)} label values ({', '.join(labelnames)}), got {len(values)}"
        )
    return tuple(str(v) for v in values)


class _PythonMetric:
    """What Info and Enum share: children by label values, registration as a collector."""

    _kind = ""
    _name: str
    _documentation: str
    _labelnames: Tuple[str, ...]
    _labelvalues: Tuple[str, ...]
    _lock: threading.Lock
    _children: Dict[Tuple[str, ...], Any]

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: Any = _MISSING,
        _labelvalues: Optional[Tuple[str, ...]] = None,
        _parent: Optional["_PythonMetric"] = None,
    ) -> None:
        if _parent is not None:
            self._name = _parent._name
            self._documentation = _parent._documentation
            self._labelnames = _parent._labelnames
            self._labelvalues = _labelvalues or ()
            self._lock = _parent._lock
            self._children = _parent._children
            return
        self._name = _full_name(self._kind, name, namespace, subsystem, unit)
        self._documentation = documentation
        self._labelnames = _check_label_names(self._name, labelnames)
        self._labelvalues = ()
        self._lock = threading.Lock()
        self._children = {}
        self._validate()
        if not self._labelnames:
            self._children[()] = self._initial()
        registry = REGISTRY if registry is _MISSING else registry
        if registry is not None:
            registry.register(self)

    def _validate(self) -> None:
        """Checks the kind's own options."""

    def _initial(self) -> Any:
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The family name."""
        return self._name

    @property
    def _type(self) -> str:
        return self._kind

    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> Any:
        """The child for these label values, created on first use."""
        if self._labelvalues:
            raise _label_error(self._name, "labels() was already applied to this child")
        values = _resolve_labels(self._name, self._labelnames, labelvalues, labelkwargs)
        with self._lock:
            if values not in self._children:
                self._children[values] = self._initial()
        return type(self)(self._name, "", _labelvalues=values, _parent=self)

    def remove(self, *labelvalues: Any) -> None:
        """Removes the child with these label values (nothing if there is none)."""
        if not self._labelnames:
            raise _label_error(self._name, "has no label names; there is no child to remove")
        values = tuple(str(v) for v in labelvalues)
        if len(values) != len(self._labelnames):
            raise _label_error(self._name, f"expected {len(self._labelnames)} label values, got {len(values)}")
        with self._lock:
            self._children.pop(values, None)

    def remove_by_labels(self, labels: Dict[str, str]) -> None:
        """Removes every child whose labels include all of ``labels``."""
        if not self._labelnames:
            raise _label_error(self._name, "has no label names; there is no child to remove")
        if not isinstance(labels, dict):
            raise make(
                _native.MetricTypeError, "invalid_type", self._name,
                "remove_by_labels() takes a dict of label names to values",
            )
        unknown = [k for k in labels if k not in self._labelnames]
        if unknown:
            raise _label_error(self._name, f"unknown label '{unknown[0]}' (label names are: {', '.join(self._labelnames)})")
        if not labels:
            return
        want = {self._labelnames.index(k): str(v) for k, v in labels.items()}
        with self._lock:
            for values in list(self._children):
                if all(values[i] == v for i, v in want.items()):
                    del self._children[values]

    def clear(self) -> None:
        """Removes every child (an unlabelled metric keeps its value)."""
        if not self._labelnames:
            return
        with self._lock:
            self._children.clear()

    def _observable(self) -> Tuple[str, ...]:
        if self._labelnames and not self._labelvalues:
            raise _label_error(
                self._name, f"{self._kind} metric is missing label values; call labels(...) first"
            )
        return self._labelvalues

    def describe(self) -> List[Metric]:
        return [Metric(self._name, self._documentation, self._kind)]

    def collect(self) -> List[Metric]:
        m = Metric(self._name, self._documentation, self._kind)
        with self._lock:
            children = list(self._children.items())
        for values, value in children:
            m.samples.extend(self._samples(dict(zip(self._labelnames, values)), value))
        return [m]

    def _samples(self, labels: Dict[str, str], value: Any) -> List[Sample]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"metricore.{type(self).__name__}({self._name})"


class Info(_PythonMetric):
    """prometheus_client's ``Info``: ``info({"version": "1.2"})`` publishes
    ``NAME_info{version="1.2"} 1``."""

    _kind = "info"

    def _initial(self) -> Dict[str, str]:
        return {}

    def info(self, val: Dict[str, str]) -> None:
        """Publishes ``val`` (str keys and values) as this series' labels."""
        values = self._observable()
        if not isinstance(val, dict):
            raise make(_native.InvalidValueError, "invalid_value", self._name, "info() takes a dict of str to str")
        overlap = set(self._labelnames) & set(val)
        if overlap:
            raise _label_error(self._name, f"info key '{sorted(overlap)[0]}' is also a label name")
        if any(not isinstance(v, str) for v in val.values()) or any(not isinstance(k, str) for k in val):
            raise make(_native.InvalidValueError, "invalid_value", self._name, "info() takes a dict of str to str")
        with self._lock:
            self._children[values] = dict(val)

    def _samples(self, labels: Dict[str, str], value: Dict[str, str]) -> List[Sample]:
        return [Sample(self._name + "_info", {**labels, **value}, 1.0)]


class Enum(_PythonMetric):
    """prometheus_client's ``Enum``: one of ``states`` at a time, each state a series (1 for
    the current one)."""

    _kind = "stateset"
    _states: List[str]

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: Any = _MISSING,
        _labelvalues: Optional[Tuple[str, ...]] = None,
        _parent: Optional["Enum"] = None,
        states: Optional[Sequence[str]] = None,
    ) -> None:
        if _parent is not None:
            self._states = _parent._states
        else:
            self._states = [str(s) for s in (states or [])]
        super().__init__(
            name, documentation, labelnames, namespace, subsystem, unit, registry,
            _labelvalues=_labelvalues, _parent=_parent,
        )

    def _validate(self) -> None:
        if self._name in self._labelnames:
            raise _label_error(self._name, f"an Enum cannot have a label named after itself ('{self._name}')")
        if not self._states:
            raise make(_native.InvalidConfigError, "invalid_config", self._name, "an Enum needs at least one state")

    def _initial(self) -> int:
        return 0

    def state(self, state: str) -> None:
        """Sets the current state."""
        values = self._observable()
        try:
            index = self._states.index(state)
        except ValueError:
            raise make(
                _native.InvalidValueError, "invalid_value", self._name,
                f"unknown state '{state}' (states are: {', '.join(self._states)})",
            ) from None
        with self._lock:
            self._children[values] = index

    def _samples(self, labels: Dict[str, str], value: int) -> List[Sample]:
        return [
            Sample(self._name, {**labels, self._name: s}, 1.0 if i == value else 0.0)
            for i, s in enumerate(self._states)
        ]
