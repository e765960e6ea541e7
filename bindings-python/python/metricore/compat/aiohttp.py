"""``prometheus_client.aiohttp``: an aiohttp handler serving a registry (needs aiohttp)."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from .. import exposition
from .._registry import REGISTRY


def make_aiohttp_handler(registry: Any = REGISTRY, disable_compression: bool = False) -> Callable[[Any], Awaitable[Any]]:
    """An aiohttp handler serving ``registry``; compression is aiohttp's own."""
    from aiohttp import hdrs, web

    async def prometheus_handler(request: Any) -> Any:
        params = {key: request.query.getall(key) for key in request.query.keys()}
        accept = ",".join(request.headers.getall(hdrs.ACCEPT, []))
        status, headers, output = exposition._bake_output(registry, accept, "", params, True)
        response = web.Response(status=int(status.split(" ")[0]), headers=headers, body=output)
        if not disable_compression:
            response.enable_compression()
        return response

    return prometheus_handler


__all__ = ["make_aiohttp_handler"]
