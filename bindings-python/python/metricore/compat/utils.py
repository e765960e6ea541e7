"""``prometheus_client.utils``."""

import math

from .._families import float_to_go_string as floatToGoString  # noqa: N812 (its name there)

INF = float("inf")
MINUS_INF = float("-inf")
NaN = float("NaN")
_ = math
__all__ = ("INF", "MINUS_INF", "NaN", "floatToGoString")
