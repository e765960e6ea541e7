"""``prometheus_client.decorator``: what its decorators preserve of a function's signature."""

import inspect
from typing import Any, Callable, NamedTuple, Optional, Tuple


class ArgSpec(NamedTuple):
    args: list
    varargs: Optional[str]
    varkw: Optional[str]
    defaults: Optional[Tuple[Any, ...]]


def getargspec(f: Callable[..., Any]) -> ArgSpec:
    """The positional parameters, ``*args`` and ``**kwargs`` names and defaults of ``f`` (a
    decorated function reports the function it wraps)."""
    args, defaults = [], []
    varargs = varkw = None
    for p in inspect.signature(f).parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(p.name)
            if p.default is not p.empty:
                defaults.append(p.default)
        elif p.kind == p.VAR_POSITIONAL:
            varargs = p.name
        elif p.kind == p.VAR_KEYWORD:
            varkw = p.name
    return ArgSpec(args, varargs, varkw, tuple(defaults) or None)


__all__ = ("ArgSpec", "getargspec")
