"""``prometheus_client.exposition``."""

from ..exposition import *  # noqa: F403 (the module's whole public surface)
from ..exposition import (  # noqa: F401 (private names libraries reach for)
    REGISTRY,
    ThreadingWSGIServer,
    _bake_output,
    _SilentHandler,
    choose_encoder,
    gzip_accepted,
)
