"""The text formats for families that do not live in the core: a custom collector's
``Metric`` objects, or a restricted view of a registry. Registries of core metrics only are
rendered by the core; this writes the same bytes, in prometheus_client's spelling, for the
rest."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List

from ._families import Metric, Sample, float_to_go_string


def _escape_help(s: str) -> str:
    return s.replace("\\", r"\\").replace("\n", r"\n")


def _escape_value(s: Any) -> str:
    return str(s).replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _labels(labels: Dict[str, Any]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape_value(v)}"' for k, v in sorted(labels.items())) + "}"


def _text_line(s: Sample) -> str:
    ts = ""
    if s.timestamp is not None:
        ts = f" {int(float(s.timestamp) * 1000):d}"
    return f"{s.name}{_labels(s.labels)} {float_to_go_string(s.value)}{ts}\n"


_TEXT_TYPE = {"info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram", "unknown": "untyped"}


def text(metrics: Iterable[Metric]) -> bytes:
    """The Prometheus text format 0.0.4, as prometheus_client writes it."""
    out: List[str] = []
    for metric in metrics:
        try:
            name, typ = metric.name, metric.type
            if typ == "counter":
                name += "_total"
            elif typ == "info":
                name += "_info"
            typ = _TEXT_TYPE.get(typ, typ)
            doc = _escape_help(metric.documentation)
            out.append(f"# HELP {name} {doc}\n# TYPE {name} {typ}\n")
            # OpenMetrics-only samples go into gauge families of their own after the family.
            extra: Dict[str, List[str]] = {}
            for s in metric.samples:
                for suffix in ("_created", "_gsum", "_gcount"):
                    if s.name == metric.name + suffix:
                        extra.setdefault(suffix, []).append(_text_line(s))
                        break
                else:
                    out.append(_text_line(s))
        except Exception as e:
            e.args = (e.args or ("",)) + (metric,)
            raise
        for suffix, lines in sorted(extra.items()):
            out.append(f"# HELP {metric.name}{suffix} {doc}\n# TYPE {metric.name}{suffix} gauge\n")
            out.extend(lines)
    return "".join(out).encode("utf-8")


def _exemplar(metric: Metric, s: Sample) -> str:
    if metric.type in ("histogram", "gaugehistogram") and s.name.endswith("_bucket"):
        pass
    elif metric.type == "counter" and s.name.endswith("_total"):
        pass
    else:
        raise ValueError(
            f"Metric {metric.name} has exemplars, but is not a histogram bucket or counter total"
        )
    e = s.exemplar
    assert e is not None
    labels = ",".join(f'{k}="{_escape_value(v)}"' for k, v in sorted(e.labels.items()))
    ts = f" {e.timestamp}" if e.timestamp is not None else ""
    return f" # {{{labels}}} {float_to_go_string(e.value)}{ts}"


def openmetrics(metrics: Iterable[Metric]) -> bytes:
    """OpenMetrics 1.0.0, as prometheus_client writes it (ends with ``# EOF``)."""
    return openmetrics_families(metrics) + b"# EOF\n"


def openmetrics_families(metrics: Iterable[Metric]) -> bytes:
    """The OpenMetrics families, without the closing ``# EOF``."""
    out: List[str] = []
    for metric in metrics:
        try:
            name = metric.name
            out.append(f"# HELP {name} {_escape_value(metric.documentation)}\n# TYPE {name} {metric.type}\n")
            if metric.unit:
                out.append(f"# UNIT {name} {metric.unit}\n")
            for s in metric.samples:
                ex = _exemplar(metric, s) if s.exemplar else ""
                ts = f" {s.timestamp}" if s.timestamp is not None else ""
                out.append(f"{s.name}{_labels(s.labels)} {float_to_go_string(s.value)}{ts}{ex}\n")
        except Exception as e:
            e.args = (e.args or ("",)) + (metric,)
            raise
    return "".join(out).encode("utf-8")
