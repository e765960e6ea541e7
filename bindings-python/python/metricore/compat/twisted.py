"""``prometheus_client.twisted``: a Twisted resource serving a registry (needs Twisted)."""

from __future__ import annotations

from typing import Any

from .. import exposition
from .._registry import REGISTRY


def MetricsResource(registry: Any = REGISTRY) -> Any:  # noqa: N802 (prometheus_client's name)
    """A ``twisted.web`` resource serving ``registry`` from the reactor's thread pool."""
    from twisted.internet import reactor
    from twisted.web.wsgi import WSGIResource

    return WSGIResource(reactor, reactor.getThreadPool(), exposition.make_wsgi_app(registry))


__all__ = ["MetricsResource"]
