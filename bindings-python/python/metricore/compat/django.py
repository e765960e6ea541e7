"""``prometheus_client.django``: a Django view serving a registry (needs Django)."""

from __future__ import annotations

from typing import Any, Optional

from django.http import HttpResponse
from django.views import View

from .. import exposition
from .._registry import REGISTRY


class PrometheusDjangoView(View):
    """Serves ``registry`` (the default registry unless set) on GET; answers OPTIONS."""

    registry: Optional[Any] = None

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        registry = REGISTRY if self.registry is None else self.registry
        status, headers, output = exposition._bake_output(
            registry,
            request.headers.get("Accept"),
            request.headers.get("Accept-Encoding"),
            request.GET,
            False,
        )
        return HttpResponse(output, status=int(status.split(" ")[0]), headers=headers)

    def options(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(status=200, headers={"Allow": "OPTIONS,GET"})


__all__ = ["PrometheusDjangoView"]
