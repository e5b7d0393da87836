"""Timing for ``compare.py``: wall and client CPU per repetition, and the statistics over them.

CPU is ``getrusage`` user+sys of this process (or of waited-for children, for the Go CLI), so the
daemon's own CPU is never counted: on a daemon-bound workload the wall times of all clients are
close, and the client's CPU is where they differ.
"""

from __future__ import annotations

import gc
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def measure_once(fn: Callable[[], object], children: bool = False) -> Sample:
    """Time one call.  The collector runs before, never during, so clients that allocate more
    are not charged a random share of someone else's garbage."""
    gc.collect()
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    cpu0, wall0 = _cpu(who), time.perf_counter()
    fn()
    wall1, cpu1 = time.perf_counter(), _cpu(who)
    return Sample(wall1 - wall0, cpu1 - cpu0)


@dataclass
class Series:
    """All repetitions of one client on one case; ``units`` is bytes or operations per call."""

    samples: list[Sample] = field(default_factory=list)
    units: float = 1.0

    def _walls(self) -> list[float]:
        return [s.wall for s in self.samples]

    def _cpus(self) -> list[float]:
        return [s.cpu for s in self.samples]

    @property
    def wall_min(self) -> float:
        return min(self._walls())

    @property
    def wall_median(self) -> float:
        return statistics.median(self._walls())

    @property
    def cpu_min(self) -> float:
        return min(self._cpus())

    @property
    def cpu_median(self) -> float:
        return statistics.median(self._cpus())


@dataclass
class Case:
    """One line of a workload table: the same work through every client."""

    workload: str
    name: str
    unit: str  # "MB" (throughput) or "op" (rate / latency)
    series: dict[str, Series] = field(default_factory=dict)
    note: str = ""

    def add(self, client: str, sample: Sample, units: float) -> None:
        entry = self.series.setdefault(client, Series(units=units))
        entry.samples.append(sample)

    def speed(self, client: str, over: str) -> float | None:
        """How many times faster ``client`` is than ``over`` (min wall times; >1 is faster)."""
        a, b = self.series.get(client), self.series.get(over)
        if not a or not b or not a.samples or not b.samples:
            return None
        return b.wall_min / a.wall_min

    def cpu_ratio(self, client: str, over: str) -> float | None:
        """``client``'s CPU as a multiple of ``over``'s (median CPU; <1 is cheaper)."""
        a, b = self.series.get(client), self.series.get(over)
        if not a or not b or not a.samples or not b.samples or b.cpu_median <= 0:
            return None
        return a.cpu_median / b.cpu_median

    def per_unit(self, client: str) -> str:
        """Throughput (MB/s) or time per operation (µs), from the min wall time."""
        s = self.series[client]
        if self.unit == "MB":
            return f"{s.units / 2**20 / s.wall_min:,.1f} MB/s"
        return f"{s.wall_min / s.units * 1e6:,.0f} µs/op"


def run_interleaved(
    case: Case,
    clients: dict[str, Callable[[], object]],
    reps: int,
    units: float,
    children: frozenset[str] = frozenset(),
    before: Callable[[str], Callable[[], object]] | None = None,
) -> Case:
    """Repeat every client ``reps`` times, round-robin, so noise from the shared machine hits
    them all alike.  ``before(client)`` (untimed) may prepare a fresh callable per repetition
    (e.g. a container to attach to)."""
    for _ in range(reps):
        for client, fn in clients.items():
            call = before(client) if before else fn
            case.add(client, measure_once(call, client in children), units)
            print(f"  {case.workload} {case.name:<28} {client:<12} "
                  f"{case.series[client].samples[-1].wall:8.3f} s", flush=True)
    return case
