#!/usr/bin/env python3
"""Validate an OpenMetrics text exposition with prometheus_client's strict parser.

Usage: check_openmetrics.py FILE      (FILE may be "-" for standard input)

Exits 0 and prints a one-line summary when FILE parses and ends with "# EOF\\n";
exits 1 with the parser's message otherwise (2 for usage errors, via argparse).
"""

from __future__ import annotations

import argparse
import sys

EOF_MARKER = "# EOF\n"


def check(text: str) -> tuple[int, int, int]:
    """Parse ``text``; return (families, samples, exemplars). Raise ValueError on bad input."""
    # Imported here so that a missing package gives a clear message from main().
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    if not text.endswith(EOF_MARKER):
        raise ValueError('exposition does not end with "# EOF\\n"')

    families = samples = exemplars = 0
    # The parser is a generator: errors surface only as it is consumed, so walk it fully.
    for family in text_string_to_metric_families(text):
        families += 1
        for sample in family.samples:
            samples += 1
            if sample.exemplar is not None:
                exemplars += 1
    return families, samples, exemplars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check that FILE is valid OpenMetrics text (parsed by prometheus_client)."
    )
    parser.add_argument("file", metavar="FILE", help='exposition file, or "-" for stdin')
    args = parser.parse_args(argv)

    try:
        if args.file == "-":
            text = sys.stdin.read()
        else:
            with open(args.file, encoding="utf-8", newline="") as fh:
                text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"openmetrics: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1

    try:
        families, samples, exemplars = check(text)
    except ImportError as exc:
        print(f"openmetrics: prometheus_client is not installed: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the parser raises ValueError, but also others on odd input
        print(f"openmetrics: INVALID {args.file}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1

    seen = f"yes ({exemplars})" if exemplars else "no"
    print(
        f"openmetrics: OK {args.file}: {families} families, {samples} samples, "
        f"exemplars seen: {seen}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
