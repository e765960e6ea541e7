"""Name escaping schemes of the Prometheus exposition formats (the ``escaping=`` of an
``Accept`` header): how a name outside the legacy character set is written for a scraper
that only reads legacy names. metricore's own names are always legacy names, which every
scheme but ``dots`` leaves as they are."""

from __future__ import annotations

ALLOWUTF8 = "allow-utf-8"
UNDERSCORES = "underscores"
DOTS = "dots"
VALUES = "values"


def _legacy_char(c: str, i: int, colons: bool) -> bool:
    return (
        ("a" <= c <= "z") or ("A" <= c <= "Z") or c == "_" or (colons and c == ":")
        or (i > 0 and "0" <= c <= "9")
    )


def _is_legacy(s: str, colons: bool) -> bool:
    return bool(s) and all(_legacy_char(c, i, colons) for i, c in enumerate(s))


def _escape(s: str, escaping: str, colons: bool) -> str:
    if s == "" or escaping == ALLOWUTF8:
        return s
    if escaping == UNDERSCORES:
        if _is_legacy(s, colons):
            return s
        return "".join(c if _legacy_char(c, i, colons) else "_" for i, c in enumerate(s))
    if escaping == DOTS:
        out = []
        for i, c in enumerate(s):
            if c == "_":
                out.append("__")
            elif c == ".":
                out.append("_dot_")
            elif _legacy_char(c, i, colons):
                out.append(c)
            else:
                out.append("__")
        return "".join(out)
    if escaping == VALUES:
        if _is_legacy(s, colons):
            return s
        out = ["U__"]
        for i, c in enumerate(s):
            if c == "_":
                out.append("__")
            elif _legacy_char(c, i, colons):
                out.append(c)
            else:
                out.append(f"_{ord(c):x}_")
        return "".join(out)
    raise ValueError(f"unknown escaping scheme {escaping!r} (schemes: {ALLOWUTF8}, {UNDERSCORES}, {DOTS}, {VALUES})")


def escape_metric_name(s: str, escaping: str = UNDERSCORES) -> str:
    """A metric name as ``escaping`` writes it."""
    return _escape(s, escaping, colons=True)


def escape_label_name(s: str, escaping: str = UNDERSCORES) -> str:
    """A label name as ``escaping`` writes it."""
    return _escape(s, escaping, colons=False)
