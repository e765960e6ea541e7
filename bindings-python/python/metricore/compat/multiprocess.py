"""``prometheus_client.multiprocess``: importable, so that libraries which support
multiprocess mode load; the mode itself needs a shared-memory engine metricore does not have
yet, and using it raises."""

from __future__ import annotations

from typing import Any, Optional

_WHY = (
    "prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR) is not available in "
    "metricore yet; serve each process's own registry instead"
)


class MultiProcessCollector:
    """Raises: the mode is not available (see the module docs)."""

    def __init__(self, registry: Any, path: Optional[str] = None) -> None:
        raise NotImplementedError(_WHY)


def mark_process_dead(pid: int, path: Optional[str] = None) -> None:
    """Raises: the mode is not available (see the module docs)."""
    raise NotImplementedError(_WHY)


__all__ = ["MultiProcessCollector", "mark_process_dead"]
