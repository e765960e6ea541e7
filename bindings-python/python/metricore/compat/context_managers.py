"""``prometheus_client.context_managers``."""

from .._context import ExceptionCounter, InprogressTracker, Timer

__all__ = ("ExceptionCounter", "InprogressTracker", "Timer")
