"""``prometheus_client.asgi``."""

from ..exposition import make_asgi_app

__all__ = ("make_asgi_app",)
