"""Context managers and decorators behind ``count_exceptions()``, ``track_inprogress()`` and
``time()``. The native methods return these objects; none of this is on the hot path."""

from __future__ import annotations

import functools
import inspect
import time
from types import TracebackType
from typing import Any, Callable, Optional, Type, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _Decorator:
    """A context manager that also decorates functions (a fresh copy per call, so one
    decorated function may run in many threads at once)."""

    def _copy(self) -> "_Decorator":
        raise NotImplementedError

    def __enter__(self) -> Any:
        raise NotImplementedError

    def __exit__(
        self,
        typ: Optional[Type[BaseException]],
        value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        raise NotImplementedError

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self._copy():
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._copy():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class ExceptionCounter(_Decorator):
    """Counts exceptions of ``exception`` (default ``Exception``) raised in the block; they
    still propagate."""

    def __init__(self, counter: Any, exception: Any = None) -> None:
        self._counter = counter
        self._exception = Exception if exception is None else exception

    def _copy(self) -> "ExceptionCounter":
        return ExceptionCounter(self._counter, self._exception)

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        typ: Optional[Type[BaseException]],
        value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if value is not None and isinstance(value, self._exception):
            self._counter.inc()


class InprogressTracker(_Decorator):
    """Adds one to a gauge on entry and subtracts one on exit."""

    def __init__(self, gauge: Any) -> None:
        self._gauge = gauge

    def _copy(self) -> "InprogressTracker":
        return InprogressTracker(self._gauge)

    def __enter__(self) -> None:
        self._gauge.inc()

    def __exit__(
        self,
        typ: Optional[Type[BaseException]],
        value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self._gauge.dec()


class Timer(_Decorator):
    """Measures the block with ``time.perf_counter()`` and passes the seconds to the metric's
    ``observe`` (histograms) or ``set`` (gauges)."""

    def __init__(self, metric: Any, method: str) -> None:
        self._metric = metric
        self._method = method
        self._start = 0.0
        #: The last block's duration in seconds (``None`` until one ends).
        self.duration: Optional[float] = None

    def _copy(self) -> "Timer":
        return Timer(self._metric, self._method)

    def __enter__(self) -> "Timer":
        self._start = time.perf_counter()
        return self

    def __exit__(
        self,
        typ: Optional[Type[BaseException]],
        value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.duration = max(time.perf_counter() - self._start, 0.0)
        getattr(self._metric, self._method)(self.duration)

    def labels(self, *args: Any, **kwargs: Any) -> None:
        """Chooses the labelled child to record on, inside the block."""
        self._metric = self._metric.labels(*args, **kwargs)
