"""``profile_operation``: the core's measurement plus the Python garbage collector's."""

from __future__ import annotations

import gc
from typing import Any, Callable, Dict, Tuple, TypeVar

from . import _native

R = TypeVar("R")


def profile_operation(func: Callable[..., R], *args: Any, **kwargs: Any) -> Tuple[R, Dict[str, Any]]:
    """Calls ``func(*args, **kwargs)`` and returns ``(result, profile)``.

    ``profile`` holds the core's figures, ``duration_ms``, ``cpu_user_ms`` and
    ``cpu_system_ms`` (the whole process), ``rss_delta_bytes`` (``None`` where the platform
    cannot tell), and the Python GC's: ``gc_collections`` (collections per generation during
    the call), ``gc_collected`` and ``gc_uncollectable`` (objects). Exceptions propagate.
    """
    before = gc.get_stats()
    result, profile = _native.profile_operation(lambda: func(*args, **kwargs))
    after = gc.get_stats()
    profile["gc_collections"] = [a["collections"] - b["collections"] for a, b in zip(after, before)]
    profile["gc_collected"] = sum(a["collected"] - b["collected"] for a, b in zip(after, before))
    profile["gc_uncollectable"] = sum(
        a["uncollectable"] - b["uncollectable"] for a, b in zip(after, before)
    )
    return result, profile
