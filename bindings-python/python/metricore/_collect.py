"""Reading samples back the way a scrape shows them (prometheus_client's
``get_sample_value``)."""

from __future__ import annotations

import math
from typing import Any, Dict, Iterator, Optional, Tuple


def float_to_go_string(d: float) -> str:
    """A bound as the exposition writes it (``0.005``, ``1.0``, ``+Inf``), the same spelling
    prometheus_client's ``floatToGoString`` gives."""
    d = float(d)
    if d == math.inf:
        return "+Inf"
    if d == -math.inf:
        return "-Inf"
    if math.isnan(d):
        return "NaN"
    s = repr(d)
    dot = s.find(".")
    if d > 0 and dot > 6:
        mantissa = f"{s[0]}.{s[1:dot]}{s[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+0{dot - 1}"
    return s


def samples(registry: Any) -> Iterator[Tuple[str, Dict[str, str], float]]:
    """Every sample of a collection as ``(name, labels, value)``, ``_created`` included."""
    for family in registry.gather():
        name = family["name"]
        kind = family["kind"]
        for series in family["series"]:
            labels = dict(zip(family["label_names"], series["labels"]))
            value = series["value"]
            if kind == "counter":
                yield name + "_total", labels, float(value)
                yield name + "_created", labels, float(series["created"])
            elif kind == "gauge":
                yield name, labels, float(value)
            else:
                for le, count in value.buckets():
                    yield name + "_bucket", {**labels, "le": float_to_go_string(le)}, float(count)
                yield name + "_count", labels, float(value.count)
                yield name + "_sum", labels, float(value.sum)
                yield name + "_created", labels, float(series["created"])


def get_sample_value(
    registry: Any, name: str, labels: Optional[Dict[str, str]] = None
) -> Optional[float]:
    """The value of sample ``name`` with exactly ``labels``, or ``None``."""
    want = labels or {}
    for sample_name, sample_labels, value in samples(registry):
        if sample_name == name and sample_labels == want:
            return value
    return None
