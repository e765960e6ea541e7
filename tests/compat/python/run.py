"""Differential compatibility suite: metricore against prometheus_client, side by side.

A seeded generator writes sequences of calls over prometheus_client's public API (metric
kinds, labels, registries, ``collect()``, custom collectors, ``generate_latest`` in both
formats, ``restricted_registry``, ``get_sample_value``, the WSGI and ASGI apps, the HTTP
server, the Pushgateway client against a loopback receiver, errors). Each sequence runs once
through ``prometheus_client`` and once through ``metricore.compat`` (what
``metricore.install()`` routes ``prometheus_client`` to), in one process, and every
observable result is compared: sample values, exposition bytes, HTTP status, headers and
bodies, and exception types (metricore's exception must be an instance of the class
prometheus_client raised).

One value is masked before comparing: ``_created`` samples, which are wall-clock times the
two libraries read at slightly different moments. A sequence whose first difference is
listed in ``differences.json`` counts as passed-with-accepted-difference; any other
difference fails it, and the sequence stops at its first difference (the two states no
longer match after it).

Usage: python run.py [--seed N] [--cases N] [-v]
Prints ``N passed, M failed`` last; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

import prometheus_client as peer
import prometheus_client.core as peer_core
import prometheus_client.exposition as peer_exposition
import prometheus_client.openmetrics.exposition as peer_om

import metricore.compat as ours
import metricore.compat.core as ours_core
import metricore.compat.exposition as ours_exposition
import metricore.compat.openmetrics.exposition as ours_om

HERE = os.path.dirname(os.path.abspath(__file__))


class Client:
    """One library's public API, reached the way a user reaches it."""

    def __init__(self, name: str, top: Any, core: Any, exposition: Any, om: Any) -> None:
        self.name = name
        self.top = top
        self.core = core
        self.exposition = exposition
        self.om = om


PEER = Client("prometheus_client", peer, peer_core, peer_exposition, peer_om)
OURS = Client("metricore", ours, ours_core, ours_exposition, ours_om)

_CREATED = re.compile(rb"^([a-zA-Z_:][a-zA-Z0-9_:]*_created(?:\{[^}]*\})?) \S+$", re.M)


def mask(body: bytes) -> bytes:
    """The exposition with every ``_created`` sample's value replaced."""
    return _CREATED.sub(rb"\1 <created>", body)


# ------------------------------------------------------------------------------- generator

NAMES = ["requests", "latency_seconds", "queue_depth", "jobs_total", "build", "state", "size_bytes"]
LABEL_NAMES = ["method", "code", "path", "le_x", "zone"]
LABEL_VALUES = ["GET", "POST", "200", "", "/a b", 'q"uote', "back\\slash", "new\nline", "é", "x" * 20]
AMOUNTS: List[Any] = [1, 2, 0, 0.5, 3.25, 17, 1e-9, 1e300, 2**70, -1, -0.5, math.inf, -math.inf, math.nan, "x", None, True]
BUCKET_SETS: List[Any] = [None, [0.1, 1, 10], [-1, 0, 1], [1, 2, 4, 8, float("inf")], [0.005, 0.5, 5.0]]


def gen_case(rng: random.Random) -> List[Dict[str, Any]]:
    ops: List[Dict[str, Any]] = []
    metrics: List[Dict[str, Any]] = []
    for _ in range(rng.randint(3, 14)):
        r = rng.random()
        if not metrics or r < 0.18:
            kind = rng.choice(["Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"])
            labels = rng.sample(LABEL_NAMES, rng.choice([0, 0, 1, 2]))
            op: Dict[str, Any] = {
                "op": "new", "kind": kind, "name": rng.choice(NAMES), "labels": labels,
                "doc": rng.choice(["Help.", "Multi\nline \\ help.", ""]),
            }
            if kind == "Histogram" and rng.random() < 0.6:
                op["buckets"] = rng.choice(BUCKET_SETS)
            if kind == "Enum":
                op["states"] = rng.sample(["a", "b", "c", "d"], rng.randint(1, 3))
            if kind in ("Counter", "Gauge") and rng.random() < 0.2:
                op["unit"] = "seconds"
            if rng.random() < 0.1:
                op["namespace"] = "app"
            ops.append(op)
            metrics.append(op)
            continue
        idx = rng.randrange(len(metrics))
        m = metrics[idx]
        lv = [rng.choice(LABEL_VALUES) for _ in m["labels"]]
        if rng.random() < 0.05:
            lv = lv + ["extra"]
        if r < 0.55:
            action = {
                "Counter": "inc", "Gauge": rng.choice(["inc", "dec", "set", "set_function"]),
                "Histogram": "observe", "Summary": "observe",
                "Info": "info", "Enum": "state",
            }[m["kind"]]
            op = {"op": action, "metric": idx, "labels": lv if m["labels"] else None}
            if action == "info":
                op["value"] = {rng.choice(["version", "commit", "zone"]): rng.choice(LABEL_VALUES)}
            elif action == "state":
                op["value"] = rng.choice((m.get("states") or ["a"]) + ["nope"])
            else:
                op["value"] = rng.choice(AMOUNTS)
            ops.append(op)
        elif r < 0.62:
            op = {"op": rng.choice(["remove", "clear", "remove_by_labels"]), "metric": idx, "labels": lv}
            if op["op"] == "remove_by_labels":
                names = m["labels"] + (["nope"] if rng.random() < 0.1 else [])
                op["by"] = {n: rng.choice(LABEL_VALUES[:4]) for n in rng.sample(names, min(len(names), rng.randint(0, 2)))}
            ops.append(op)
        elif r < 0.72:
            ops.append({"op": "expose", "format": rng.choice(["text", "openmetrics"])})
        elif r < 0.78:
            suffix = rng.choice(["", "_total", "_count", "_sum", "_bucket", "_info", "_created"])
            want = {n: rng.choice(LABEL_VALUES) for n in m["labels"]}
            ops.append({"op": "sample", "name": m["name"] + suffix, "labels": want})
        elif r < 0.82:
            ops.append({"op": "collect"})
        elif r < 0.86:
            names = [m["name"] + s for s in rng.sample(["", "_total", "_count", "_sum", "_bucket"], 2)]
            ops.append({"op": "restricted", "names": names})
        elif r < 0.91:
            ops.append({
                "op": rng.choice(["wsgi", "asgi"]),
                "method": rng.choice(["GET", "GET", "GET", "OPTIONS", "POST"]),
                "path": rng.choice(["/metrics", "/", "/favicon.ico"]),
                "query": rng.choice(["", "name[]=" + m["name"] + "_total", "name[]=" + m["name"]]),
                "accept": rng.choice([None, "application/openmetrics-text; version=1.0.0",
                                      "text/plain;version=1.0.0", "*/*", "application/openmetrics-text"]),
                "gzip": rng.random() < 0.2,
            })
        elif r < 0.96:
            ops.append({"op": "collector", "kind": rng.choice(
                ["gauge", "counter", "summary", "histogram", "info", "stateset", "gaugehistogram", "unknown"]),
                "name": rng.choice(["custom", "other_custom"]) + "_" + rng.choice(["a", "b"]),
                "value": rng.choice([1, 2.5, 7])})
        else:
            ops.append({"op": rng.choice(["http", "push"])})
    ops.append({"op": "expose", "format": "text"})
    ops.append({"op": "expose", "format": "openmetrics"})
    return ops


# ------------------------------------------------------------------------------- execution

class Receiver:
    """A loopback Pushgateway: records each request's method, path, Content-Type and body."""

    def __init__(self) -> None:
        seen: List[Tuple[str, str, Optional[str], bytes]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                seen.append((self.command, self.path, self.headers.get("Content-Type"), self.rfile.read(n)))
                self.send_response(202)
                self.end_headers()

            do_PUT = do_POST = do_DELETE = _record

            def log_message(self, *a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def outcome(fn: Callable[[], Any]) -> Tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001 (every exception is an observable result)
        return "raised", e


def collector_family(c: Client, spec: Dict[str, Any]) -> Any:
    k, name, v = spec["kind"], spec["name"], spec["value"]
    core = c.core
    if k == "gauge":
        f = core.GaugeMetricFamily(name, "Custom.", labels=["x"])
        f.add_metric(["1"], v)
        f.add_metric(["2"], v * 2)
    elif k == "counter":
        f = core.CounterMetricFamily(name, "Custom.", value=v, created=123.5)
    elif k == "summary":
        f = core.SummaryMetricFamily(name, "Custom.", count_value=3, sum_value=v)
    elif k == "histogram":
        f = core.HistogramMetricFamily(name, "Custom.", buckets=[("0.5", 1), ("1.0", 2), ("+Inf", 3)], sum_value=v)
    elif k == "info":
        f = core.InfoMetricFamily(name, "Custom.", value={"v": str(v)})
    elif k == "stateset":
        f = core.StateSetMetricFamily(name, "Custom.", value={"on": True, "off": False})
    elif k == "gaugehistogram":
        f = core.GaugeHistogramMetricFamily(name, "Custom.", buckets=[("1.0", 4), ("+Inf", 5)], gsum_value=v)
    else:
        f = core.UnknownMetricFamily(name, "Custom.", value=v)
    return f


def run_op(c: Client, state: Dict[str, Any], op: Dict[str, Any]) -> Any:
    reg = state["registry"]
    o = op["op"]
    if o == "new":
        kw: Dict[str, Any] = {"registry": reg}
        for k in ("buckets", "states", "unit", "namespace"):
            if k in op and op[k] is not None:
                kw[k] = op[k]
        cls = getattr(c.top, op["kind"])
        state["metrics"].append(None)
        m = cls(op["name"], op["doc"], op["labels"], **kw)
        state["metrics"][-1] = m
        return None
    if o in ("inc", "dec", "set", "observe", "info", "state", "set_function"):
        m = state["metrics"][op["metric"]]
        if m is None:
            return "no metric"
        target = m.labels(*op["labels"]) if op["labels"] is not None else m
        v = op["value"]
        if o == "set_function":
            return target.set_function(lambda: v)
        method = getattr(target, o)
        return method() if v is None and o in ("inc", "dec") else method(v)
    if o in ("remove", "clear", "remove_by_labels"):
        m = state["metrics"][op["metric"]]
        if m is None:
            return "no metric"
        if o == "remove_by_labels":
            return m.remove_by_labels(op["by"])
        return m.remove(*op["labels"]) if o == "remove" else m.clear()
    if o == "expose":
        gen = c.exposition.generate_latest if op["format"] == "text" else c.om.generate_latest
        return mask(gen(reg))
    if o == "sample":
        v = reg.get_sample_value(op["name"], op["labels"])
        return "created" if v is not None and op["name"].endswith("_created") else v
    if o == "collect":
        return [
            (m.name, m.type, m.unit, m.documentation,
             [(s.name, s.labels, "created" if s.name.endswith("_created") else s.value) for s in m.samples])
            for m in reg.collect()
        ]
    if o == "restricted":
        return mask(c.exposition.generate_latest(reg.restricted_registry(op["names"])))
    if o == "collector":
        fam = collector_family(c, op)

        class Custom:
            def collect(self) -> List[Any]:
                return [fam]

        return reg.register(Custom())
    if o == "wsgi":
        app = c.top.make_wsgi_app(reg)
        env = {"REQUEST_METHOD": op["method"], "PATH_INFO": op["path"], "QUERY_STRING": op["query"]}
        if op["accept"] is not None:
            env["HTTP_ACCEPT"] = op["accept"]
        if op["gzip"]:
            env["HTTP_ACCEPT_ENCODING"] = "gzip"
        seen: Dict[str, Any] = {}

        def start_response(status: str, headers: List[Tuple[str, str]]) -> None:
            seen["status"], seen["headers"] = status, headers

        body = b"".join(app(env, start_response))
        if op["gzip"] and ("Content-Encoding", "gzip") in seen["headers"]:
            import gzip
            body = gzip.decompress(body)
        return seen["status"], seen["headers"], mask(body)
    if o == "asgi":
        app = c.top.make_asgi_app(reg)
        headers = []
        if op["accept"] is not None:
            headers.append((b"accept", op["accept"].encode()))
        scope = {"type": "http", "method": op["method"], "path": op["path"],
                 "query_string": op["query"].encode(), "headers": headers}
        sent: List[Dict[str, Any]] = []

        async def receive() -> Dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(msg: Dict[str, Any]) -> None:
            sent.append(msg)

        asyncio.run(app(scope, receive, send))
        return sent[0]["status"], sent[0]["headers"], mask(sent[1]["body"])
    if o == "http":
        server, thread = c.top.start_http_server(0, addr="127.0.0.1", registry=reg)
        try:
            port = server.server_address[1]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
                return resp.status, resp.headers.get("Content-Type"), mask(resp.read())
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
    if o == "push":
        receiver = state["receiver"]
        receiver.seen.clear()
        c.top.push_to_gateway(receiver.url, job="compat job/1", registry=reg, grouping_key={"instance": "a b"})
        c.top.pushadd_to_gateway(receiver.url, job="j", registry=reg)
        c.top.delete_from_gateway(receiver.url, job="j", grouping_key={"k": ""})
        return [(m, p, t, mask(b)) for m, p, t, b in receiver.seen]
    raise ValueError(f"unknown op {o}")


def _builtin_base(cls: type) -> type:
    for base in cls.__mro__:
        if base.__module__ == "builtins":
            return base
    return Exception


def _our_class(peer_cls: type) -> type:
    """The class metricore offers under the name prometheus_client raised (its exception
    classes are reached through the same module paths), else the builtin it derives from."""
    if peer_cls.__module__.startswith("prometheus_client"):
        for module in (ours_core, ours.registry):
            found = getattr(module, peer_cls.__name__, None)
            if isinstance(found, type):
                return found
    return _builtin_base(peer_cls)


def canon(x: Any) -> Any:
    """``x`` with NaN spelled out, so that equal results compare equal."""
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    if isinstance(x, (list, tuple)):
        return type(x)(canon(v) for v in x)
    if isinstance(x, dict):
        return {k: canon(v) for k, v in x.items()}
    return x


def same(peer_out: Tuple[str, Any], ours_out: Tuple[str, Any]) -> bool:
    (pk, pv), (ok, ov) = peer_out, ours_out
    if pk != ok:
        return False
    if pk == "raised":
        return isinstance(ov, _our_class(type(pv)))
    return bool(canon(pv) == canon(ov))


def describe(x: Tuple[str, Any]) -> str:
    kind, v = x
    if kind == "raised":
        return f"raised {type(v).__name__}: {v}"
    s = repr(v)
    return s if len(s) < 600 else s[:600] + "…"


_SELF_FAMILY = re.compile(rb"^# HELP metricore_\S+ .*\n# TYPE \S+ \S+\n(?:(?!#)[^\n]*\n)*", re.M)


def without_self_metrics(x: Any) -> Any:
    """A result with metricore's own ``metricore_*`` families taken out."""
    if isinstance(x, bytes):
        return _SELF_FAMILY.sub(b"", x)
    if isinstance(x, tuple):
        return tuple(without_self_metrics(v) for v in x)
    if isinstance(x, list):
        return [without_self_metrics(v) for v in x if not (isinstance(v, tuple) and str(v[0]).startswith("metricore_"))]
    return x


def _peer_accepts_registration_twice(op: Dict[str, Any], p: Any, o: Any, history: List[Dict[str, Any]]) -> bool:
    if op["op"] != "new":
        return False
    earlier = [h for h in history if h["op"] == "new" and h["name"] == op["name"]]
    return bool(earlier) and p[0] == "raised" and o[0] == "ok"


def _non_finite_counter(op: Dict[str, Any], p: Any, o: Any, history: List[Dict[str, Any]]) -> bool:
    v = op.get("value")
    return (
        op["op"] == "inc" and isinstance(v, float) and not math.isfinite(v)
        and p[0] == "ok" and o[0] == "raised" and isinstance(o[1], ValueError)
    )


def _after_nan_observation(op: Dict[str, Any], p: Any, o: Any, history: List[Dict[str, Any]]) -> bool:
    return any(
        h["op"] == "observe" and isinstance(h.get("value"), float) and math.isnan(h["value"])
        for h in history + [op]
    )


def _after_wrong_type(op: Dict[str, Any], p: Any, o: Any, history: List[Dict[str, Any]]) -> bool:
    return any(
        h["op"] in ("inc", "dec", "set", "observe") and isinstance(h.get("value"), (str, type(None)))
        for h in history
    )


def _gauge_set_str(op: Dict[str, Any], p: Any, o: Any, history: List[Dict[str, Any]]) -> bool:
    return (
        op["op"] == "set" and isinstance(op.get("value"), str) and p[0] == o[0] == "raised"
        and isinstance(p[1], ValueError) and isinstance(o[1], TypeError)
    )


#: Accepted differences the runner can recognise, by id; only those listed in
#: differences.json (with their reasons) are applied. Each stops the sequence.
STOPPING = {
    "idempotent-registration": _peer_accepts_registration_twice,
    "counter-non-finite": _non_finite_counter,
    "nan-observation": _after_nan_observation,
    "wrong-type-records-nothing": _after_wrong_type,
    "gauge-set-str": _gauge_set_str,
}
_SUM_LINE = re.compile(rb"^([a-zA-Z_:][a-zA-Z0-9_:]*_sum(?:\{[^}]*\})?) (\S+)$", re.M)


def rounded_sums(x: Any) -> Any:
    """A result with every ``_sum`` value rounded to 12 significant digits."""
    if isinstance(x, bytes):
        def fix(m: "re.Match[bytes]") -> bytes:
            try:
                return m.group(1) + b" " + ("%.12g" % float(m.group(2))).encode()
            except ValueError:
                return m.group(0)
        return _SUM_LINE.sub(fix, x)
    if isinstance(x, tuple) and len(x) == 3 and isinstance(x[0], str) and x[0].endswith("_sum") and isinstance(x[2], float):
        return (x[0], x[1], float("%.12g" % x[2]))
    if isinstance(x, (tuple, list)):
        return type(x)(rounded_sums(v) for v in x)
    if isinstance(x, float):
        return float("%.12g" % x)
    return x


#: Differences that leave the states alike: both results are compared after normalising.
NORMALISING = {"self-metrics": without_self_metrics, "sum-last-digits": rounded_sums}


def accepted(diffs: Dict[str, str], op: Dict[str, Any], p: Tuple[str, Any], o: Tuple[str, Any],
             history: List[Dict[str, Any]]) -> Optional[str]:
    """The id of the listed difference this one is, if any."""
    for aid, test in STOPPING.items():
        if aid in diffs and test(op, p, o, history):
            return aid
    return None


def run_case(ops: List[Dict[str, Any]], diffs: Dict[str, str], receiver: Receiver,
             normalised: Dict[str, int]) -> Tuple[str, str]:
    states = {
        c.name: {"registry": c.top.CollectorRegistry(), "metrics": [], "receiver": receiver}
        for c in (PEER, OURS)
    }
    history: List[Dict[str, Any]] = []
    for i, op in enumerate(ops):
        p = outcome(lambda: run_op(PEER, states[PEER.name], op))
        o = outcome(lambda: run_op(OURS, states[OURS.name], op))
        if not same(p, o) and p[0] == o[0] == "ok":
            pv, ov = p[1], o[1]
            used = []
            for aid, normalise in NORMALISING.items():
                if aid in diffs and not same(("ok", pv), ("ok", ov)):
                    pv, ov = normalise(pv), normalise(ov)
                    used.append(aid)
            if same(("ok", pv), ("ok", ov)):
                for aid in used:
                    normalised[aid] = normalised.get(aid, 0) + 1
                o = p
        if not same(p, o):
            aid = accepted(diffs, op, p, o, history)
            if aid is not None:
                return "accepted", aid
            return "failed", (
                f"op {i}: {json.dumps(op, default=str)}\n  prometheus_client: {describe(p)}\n"
                f"  metricore:         {describe(o)}"
            )
        history.append(op)
    return "passed", ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=int(os.environ.get("COMPAT_SEED", "14")))
    ap.add_argument("--cases", type=int, default=int(os.environ.get("COMPAT_CASES", "300")))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    with open(os.path.join(HERE, "differences.json")) as f:
        diffs = {d["id"]: d["reason"] for d in json.load(f)["accepted"]}
    unknown = set(diffs) - set(STOPPING) - set(NORMALISING)
    if unknown:
        print(f"differences.json lists differences the runner does not know: {sorted(unknown)}")
        return 2
    rng = random.Random(args.seed)
    receiver = Receiver()
    passed = failed = 0
    by_accepted: Dict[str, int] = {}
    normalised: Dict[str, int] = {}
    shown = 0
    try:
        for n in range(args.cases):
            ops = gen_case(rng)
            status, detail = run_case(ops, diffs, receiver, normalised)
            if status == "failed":
                failed += 1
                if shown < 10 or args.verbose:
                    print(f"case {n} (seed {args.seed}) FAILED at {detail}\n")
                    shown += 1
            else:
                passed += 1
                if status == "accepted":
                    by_accepted[detail] = by_accepted.get(detail, 0) + 1
    finally:
        receiver.close()
    for aid, count in sorted(by_accepted.items()):
        print(f"accepted difference {aid!r}: {count} cases stopped there")
    for aid, count in sorted(normalised.items()):
        print(f"accepted difference {aid!r}: {count} results compared without it")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
