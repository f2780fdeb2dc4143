"""Percentiles, memory and CPU readings, the machine's description."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import math
import os
import platform
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(seconds: Iterable[float]) -> dict[str, Any]:
    """count, p50, p95, p99 and max, in milliseconds."""
    ordered = sorted(seconds)
    out: dict[str, Any] = {"count": len(ordered)}
    for name, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        out[name + "_ms"] = round(1000 * percentile(ordered, q), 1) if ordered else None
    out["max_ms"] = round(1000 * ordered[-1], 1) if ordered else None
    return out


def tree(pid: int) -> list[int]:
    """`pid` and every process below it (uvicorn's workers under their supervisor)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
                todo.extend(int(child) for child in children)
    return found


def _rss_one(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


def rss_mib(pid: int) -> float:
    """Resident memory of the server: the process and its workers, summed."""
    values = [v for v in map(_rss_one, tree(pid)) if not math.isnan(v)]
    return round(sum(values), 1) if values else math.nan


def _cpu_one(pid: int) -> float:
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return math.nan


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its workers have used (all their threads)."""
    values = [v for v in map(_cpu_one, tree(pid)) if not math.isnan(v)]
    return sum(values) if values else math.nan


STORES = ("postgres", "redis-server")


def stores_cpu_seconds() -> float:
    """CPU time used by PostgreSQL's and Redis's processes (the shared stores)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdecimal():
            continue
        with contextlib.suppress(OSError):
            name = Path(f"/proc/{entry}/comm").read_text().strip()
            if name in STORES or name.startswith("postgres"):
                value = _cpu_one(int(entry))
                if not math.isnan(value):
                    total += value
    return total


class CpuMeter:
    """Share of one core a process used between start() and read()."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._wall = time.perf_counter()
        self._cpu = cpu_seconds(pid)

    def read(self) -> float:
        wall = time.perf_counter() - self._wall
        return round(100 * (cpu_seconds(self.pid) - self._cpu) / wall, 1) if wall > 0 else 0.0


def busy_seconds() -> float:
    """CPU time the whole machine spent busy (all cores, all processes)."""
    with contextlib.suppress(OSError, ValueError):
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    return math.nan


class Cpu:
    """CPU used between creation and read(), in % of one core: the server, this client,
    and every other process on the machine (a test suite running beside the benchmark)."""

    def __init__(self, server_pid: int) -> None:
        self.server = CpuMeter(server_pid)
        self.client = CpuMeter(os.getpid())
        self._wall = time.perf_counter()
        self._busy = busy_seconds()
        self._stores = stores_cpu_seconds()

    def read(self) -> dict[str, float]:
        server, client = self.server.read(), self.client.read()
        wall = time.perf_counter() - self._wall
        machine = 100 * (busy_seconds() - self._busy) / wall if wall > 0 else 0.0
        stores = 100 * (stores_cpu_seconds() - self._stores) / wall if wall > 0 else 0.0
        return {"server": server, "client": client, "stores": round(stores, 1),
                "others": round(max(machine - server - client - stores, 0.0), 1)}


class RssSampler:
    """Samples a process's resident memory every `interval` seconds; keeps the maximum."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> RssSampler:
        self.peak = rss_mib(self.pid)
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while True:
            value = rss_mib(self.pid)
            if not math.isnan(value):
                self.peak = max(self.peak, value)
            await asyncio.sleep(self.interval)

    async def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        value = rss_mib(self.pid)
        if not math.isnan(value):
            self.peak = max(self.peak, value)
        return self.peak


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpus_allowed": sorted(os.sched_getaffinity(0)),
        "cpu_model": model,
        "memory_mib": mem_kib // 1024,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def pin(pid: int, cpus: set[int]) -> bool:
    """Pin every thread of `pid` (threads created later inherit it); True if it worked."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        for tid in tids:
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(tid, cpus)
        return os.sched_getaffinity(pid) == cpus
    except OSError:
        return False


def loaded_modules(pid: int, names: Iterable[str]) -> dict[str, bool]:
    """Whether each native module (by name in its .so path) is mapped into the server:
    `pid`, or the workers it supervises (any of them; helper processes load neither)."""
    found = dict.fromkeys(names, False)
    for process in tree(pid):
        try:
            maps = Path(f"/proc/{process}/maps").read_text()
        except OSError:
            continue
        for name in found:
            found[name] = found[name] or f"/{name}/" in maps
    return found
