"""``prometheus_client.exposition``: metricore's exposition module itself, so that patching
a name here (``_bake_output``, ``REGISTRY``) reaches the apps that use it."""

import sys

from .. import exposition as _exposition

sys.modules[__name__] = _exposition
