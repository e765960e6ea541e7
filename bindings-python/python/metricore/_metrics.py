"""The prometheus_client metric types the core has no kind for, built on core families.

- ``Info`` is a gauge family ``NAME_info`` whose series carry the info as labels and the value
  1, which is what prometheus_client writes in the 0.0.4 text format.
- ``Enum`` is a gauge family ``NAME`` with one series per state, labelled ``NAME="state"``,
  1 for the current state and 0 for the others, as prometheus_client writes it in 0.0.4.

In OpenMetrics, Info and Enum stay gauges (prometheus_client says ``info`` and ``stateset``).
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from . import _native
from ._errors import make
from ._registry import REGISTRY

_MISSING: Any = object()


def _full_name(name: str, namespace: str, subsystem: str, unit: str) -> str:
    full = "_".join(p for p in (namespace, subsystem, name) if p)
    if unit and not full.endswith("_" + unit):
        full += "_" + unit
    return full


def _label_error(metric: str, rule: str) -> _native.MetricoreError:
    return make(_native.InvalidLabelsError, "invalid_labels", metric, rule)


def _registry_kw(registry: Any) -> Dict[str, Any]:
    return {} if registry is _MISSING else {"registry": registry}


def _resolve_labels(
    name: str, labelnames: Tuple[str, ...], values: Tuple[Any, ...], kw: Dict[str, Any]
) -> Tuple[str, ...]:
    if not labelnames:
        raise _label_error(name, "has no label names; record on it directly, without labels()")
    if values and kw:
        raise _label_error(name, "give label values either by position or by name, not both")
    if kw:
        unknown = set(kw) - set(labelnames)
        if unknown:
            raise _label_error(
                name, f"unknown label '{sorted(unknown)[0]}' (label names are: {', '.join(labelnames)})"
            )
        missing = [n for n in labelnames if n not in kw]
        if missing:
            raise _label_error(name, f"label '{missing[0]}' is missing")
        return tuple(str(kw[n]) for n in labelnames)
    if len(values) != len(labelnames):
        raise _label_error(
            name,
            f"expected {len(labelnames)} label values ({', '.join(labelnames)}), got {len(values)}",
        )
    return tuple(str(v) for v in values)


class Info:
    """prometheus_client's ``Info``: ``info({"version": "1.2"})`` publishes
    ``NAME_info{version="1.2"} 1``.

    The info keys become label names, so every child of a labelled ``Info`` must use the same
    keys; an unlabelled ``Info`` may change its keys (the family is registered again).
    """

    _root: "_InfoFamily"
    _labelvalues: Tuple[str, ...]

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
        _parent: Optional["Info"] = None,
    ) -> None:
        if _parent is not None:
            self._root = _parent._root
            self._labelvalues = _labelvalues or ()
            return
        if unit:
            raise make(_native.InvalidConfigError, "invalid_config", name, "an Info has no unit")
        self._root = _InfoFamily(
            _full_name(name, namespace, subsystem, unit),
            documentation,
            tuple(labelnames),
            registry,
        )
        self._labelvalues = ()

    @property
    def name(self) -> str:
        """The family name, without the ``_info`` suffix the samples carry."""
        return self._root.name

    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> "Info":
        """The child for these label values."""
        if self._labelvalues:
            raise _label_error(self._root.name, "labels() was already applied to this child")
        values = _resolve_labels(self._root.name, self._root.labelnames, labelvalues, labelkwargs)
        return Info(self._root.name, "", _labelvalues=values, _parent=self)

    def info(self, val: Dict[str, str]) -> None:
        """Publishes ``val`` (str keys and values) as this series' labels."""
        if self._root.labelnames and not self._labelvalues:
            raise _label_error(self._root.name, "has label names; call labels(...) first")
        self._root.publish(self._labelvalues, val)

    def remove(self, *labelvalues: Any) -> None:
        """Removes the child with these label values."""
        self._root.remove(tuple(str(v) for v in labelvalues))

    def clear(self) -> None:
        """Removes every child."""
        self._root.clear()


class _InfoFamily:
    def __init__(self, name: str, documentation: str, labelnames: Tuple[str, ...], registry: Any) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.registry = REGISTRY if registry is _MISSING else registry
        self.keys: Optional[Tuple[str, ...]] = None
        self.values: Dict[Tuple[str, ...], Dict[str, str]] = {}
        self.lock = threading.Lock()
        self.gauge = self._register(())
        if not labelnames:
            self.gauge.set(1)

    def _register(self, keys: Tuple[str, ...]) -> _native.Gauge:
        return _native.Gauge(
            self.name + "_info", self.documentation, self.labelnames + keys, registry=self.registry
        )

    def publish(self, labelvalues: Tuple[str, ...], val: Dict[str, str]) -> None:
        if not isinstance(val, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in val.items()
        ):
            raise make(_native.InvalidValueError, "invalid_value", self.name, "info() takes a dict of str to str")
        clash = set(val) & set(self.labelnames)
        if clash:
            raise _label_error(self.name, f"info key '{sorted(clash)[0]}' is also a label name")
        keys = tuple(sorted(val))
        with self.lock:
            if keys != self.keys:
                if self.labelnames and self.keys is not None:
                    raise _label_error(
                        self.name, f"info keys must stay {list(self.keys)} for every child, not {list(keys)}"
                    )
                # The first info(), or an unlabelled Info changing its keys: the keys are label
                # names, so the family is registered again with them.
                if self.registry is not None:
                    self.registry.unregister(self.name + "_info")
                self.gauge = self._register(keys)
                self.keys = keys
                self.values = {}
            if not self.labelnames and not keys:
                self.gauge.set(1)
                return
            old = self.values.get(labelvalues)
            if old is not None:
                self.gauge.remove(*(labelvalues + tuple(old[k] for k in keys)))
            self.values[labelvalues] = dict(val)
            self.gauge.labels(*(labelvalues + tuple(val[k] for k in keys))).set(1)

    def remove(self, labelvalues: Tuple[str, ...]) -> None:
        with self.lock:
            old = self.values.pop(labelvalues, None)
            if old is not None and self.keys is not None:
                self.gauge.remove(*(labelvalues + tuple(old[k] for k in self.keys)))

    def clear(self) -> None:
        with self.lock:
            self.values.clear()
            self.gauge.clear()


class Enum:
    """prometheus_client's ``Enum``: one of ``states`` at a time, exposed as a gauge per state
    (1 for the current one)."""

    _gauge: _native.Gauge
    _name: str
    _labelnames: Tuple[str, ...]
    _states: List[str]
    _labelvalues: Tuple[str, ...]
    _lock: threading.Lock

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: Any = _MISSING,
        states: Optional[Sequence[str]] = None,
        _parent: Optional["Enum"] = None,
        _labelvalues: Tuple[str, ...] = (),
    ) -> None:
        if _parent is not None:
            self._gauge = _parent._gauge
            self._name = _parent._name
            self._labelnames = _parent._labelnames
            self._states = _parent._states
            self._labelvalues = _labelvalues
            self._lock = _parent._lock
            self._set_state(self._states[0])
            return
        if unit:
            raise make(_native.InvalidConfigError, "invalid_config", name, "an Enum has no unit")
        full = _full_name(name, namespace, subsystem, unit)
        self._name = full
        self._labelnames = tuple(labelnames)
        if full in self._labelnames:
            raise _label_error(full, f"an Enum cannot have a label named after itself ('{full}')")
        if not states:
            raise make(_native.InvalidConfigError, "invalid_config", full, "an Enum needs at least one state")
        self._states = [str(s) for s in states]
        if len(set(self._states)) != len(self._states):
            raise make(_native.InvalidConfigError, "invalid_config", full, "Enum states must be distinct")
        self._gauge = _native.Gauge(full, documentation, self._labelnames + (full,), **_registry_kw(registry))
        self._labelvalues = ()
        self._lock = threading.Lock()
        if not self._labelnames:
            self._set_state(self._states[0])

    @property
    def name(self) -> str:
        """The family name."""
        return self._name

    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> "Enum":
        """The child for these label values (starting in the first state)."""
        if self._labelvalues:
            raise _label_error(self._name, "labels() was already applied to this child")
        values = _resolve_labels(self._name, self._labelnames, labelvalues, labelkwargs)
        return Enum(self._name, "", _parent=self, _labelvalues=values)

    def state(self, state: str) -> None:
        """Sets the current state."""
        if self._labelnames and not self._labelvalues:
            raise _label_error(self._name, "has label names; call labels(...) first")
        if state not in self._states:
            raise make(
                _native.InvalidValueError, "invalid_value", self._name,
                f"unknown state '{state}' (states are: {', '.join(self._states)})",
            )
        self._set_state(state)

    def _set_state(self, state: str) -> None:
        with self._lock:
            for s in self._states:
                self._gauge.labels(*(self._labelvalues + (s,))).set(1 if s == state else 0)
