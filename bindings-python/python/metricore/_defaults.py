"""The collectors prometheus_client registers on its default registry, with its names and
values: ``process_*`` (Linux, read from /proc), ``python_gc_*`` (CPython) and
``python_info``. metricore's own resource sampler (``REGISTRY.sampler()``) is richer and runs
only when started."""

from __future__ import annotations

import gc
import os
import platform as _platform
from typing import Any, Callable, Dict, List, Optional, Union

from ._families import CounterMetricFamily, GaugeMetricFamily, Metric
from ._registry import REGISTRY, CollectorRegistry

try:
    _PAGESIZE = os.sysconf("SC_PAGE_SIZE")
except (ValueError, AttributeError, OSError):
    _PAGESIZE = 4096


class ProcessCollector:
    """CPU time, memory, start time and file descriptors of a process, from /proc (nothing
    where /proc is missing)."""

    def __init__(
        self,
        namespace: str = "",
        pid: Callable[[], Union[int, str]] = lambda: "self",
        proc: str = "/proc",
        registry: Optional[CollectorRegistry] = REGISTRY,
    ) -> None:
        self._pid = pid
        self._proc = proc
        self._prefix = namespace + "_process_" if namespace else "process_"
        try:
            self._ticks = float(os.sysconf("SC_CLK_TCK"))
        except (ValueError, TypeError, AttributeError, OSError):
            self._ticks = 100.0
        self._pagesize = _PAGESIZE
        self._btime = 0.0
        try:
            self._btime = self._boot_time()
        except OSError:
            pass
        if registry:
            registry.register(self)

    def _boot_time(self) -> float:
        with open(os.path.join(self._proc, "stat"), "rb") as stat:
            for line in stat:
                if line.startswith(b"btime "):
                    return float(line.split()[1])
        return 0.0

    def collect(self) -> List[Metric]:
        if not self._btime:
            return []
        pid = os.path.join(self._proc, str(self._pid()).strip())
        out: List[Metric] = []
        p = self._prefix
        try:
            with open(os.path.join(pid, "stat"), "rb") as f:
                # Fields after the command name, which may itself hold spaces and parentheses.
                parts = f.read().split(b")")[-1].split()
            out.append(GaugeMetricFamily(p + "virtual_memory_bytes", "Virtual memory size in bytes.", value=float(parts[20])))
            out.append(GaugeMetricFamily(
                p + "resident_memory_bytes", "Resident memory size in bytes.", value=float(parts[21]) * self._pagesize
            ))
            out.append(GaugeMetricFamily(
                p + "start_time_seconds", "Start time of the process since unix epoch in seconds.",
                value=float(parts[19]) / self._ticks + self._btime,
            ))
            out.append(CounterMetricFamily(
                p + "cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                value=(float(parts[11]) + float(parts[12])) / self._ticks,
            ))
        except OSError:
            pass
        try:
            max_fds = None
            with open(os.path.join(pid, "limits"), "rb") as limits:
                for line in limits:
                    if line.startswith(b"Max open file"):
                        max_fds = GaugeMetricFamily(
                            p + "max_fds", "Maximum number of open file descriptors.", value=float(line.split()[3])
                        )
                        break
            open_fds = GaugeMetricFamily(
                p + "open_fds", "Number of open file descriptors.", len(os.listdir(os.path.join(pid, "fd")))
            )
            out.append(open_fds)
            if max_fds is not None:
                out.append(max_fds)
        except OSError:
            pass
        return out


class GCCollector:
    """The CPython garbage collector's counts per generation."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        if not hasattr(gc, "get_stats") or _platform.python_implementation() != "CPython":
            return
        registry.register(self)

    def collect(self) -> List[Metric]:
        collected = CounterMetricFamily(
            "python_gc_objects_collected", "Objects collected during gc", labels=["generation"]
        )
        uncollectable = CounterMetricFamily(
            "python_gc_objects_uncollectable", "Uncollectable objects found during GC", labels=["generation"]
        )
        collections = CounterMetricFamily(
            "python_gc_collections", "Number of times this generation was collected", labels=["generation"]
        )
        for gen, stat in enumerate(gc.get_stats()):
            collected.add_metric([str(gen)], value=stat["collected"])
            uncollectable.add_metric([str(gen)], value=stat["uncollectable"])
            collections.add_metric([str(gen)], value=stat["collections"])
        return [collected, uncollectable, collections]


class PlatformCollector:
    """``python_info``: the interpreter's version and implementation (and the JVM's on
    Jython)."""

    def __init__(self, registry: Optional[CollectorRegistry] = REGISTRY, platform: Optional[Any] = None) -> None:
        self._platform = _platform if platform is None else platform
        info = self._info()
        if self._platform.system() == "Java":
            info.update(self._java())
        g = GaugeMetricFamily("python_info", "Python platform information", labels=list(info))
        g.add_metric(list(info.values()), 1)
        self._metrics: List[Metric] = [g]
        if registry:
            registry.register(self)

    def collect(self) -> List[Metric]:
        return self._metrics

    def _info(self) -> Dict[str, str]:
        major, minor, patchlevel = self._platform.python_version_tuple()
        return {
            "version": self._platform.python_version(),
            "implementation": self._platform.python_implementation(),
            "major": major,
            "minor": minor,
            "patchlevel": patchlevel,
        }

    def _java(self) -> Dict[str, str]:
        java_version, _, vminfo, _ = self._platform.java_ver()
        vm_name, vm_release, vm_vendor = vminfo
        return {"jvm_version": java_version, "jvm_release": vm_release, "jvm_vendor": vm_vendor, "jvm_name": vm_name}


# Registered on the default registry in prometheus_client's order.
GC_COLLECTOR = GCCollector()
PLATFORM_COLLECTOR = PlatformCollector()
PROCESS_COLLECTOR = ProcessCollector()
