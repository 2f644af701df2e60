"""Operation timings and stage-cache counters of one build (werf's pkg/opstats), for the build report.

Pure bookkeeping: no I/O. The conveyor runs images in parallel threads, so the collector is thread-safe.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class OperationStats:
    """Aggregated timings of one operation kind: a value of the report's Operations, fields in werf's order.

    Total time sums every interval; wall time counts overlapping intervals once.
    """

    count: int
    total_time_seconds: float
    wall_time_seconds: float
    avg_time_seconds: float
    max_time_seconds: float


class Operation(StrEnum):
    """werf's operation names (pkg/opstats): the keys of the report's Operations."""

    IMAGE_PULL = "image pull"
    IMAGE_PUSH = "image push"
    IMAGE_BUILD = "image build"
    LOCAL_IMAGE_INSPECT = "local image inspect"
    IMAGE_SAVE_LOAD = "image save/load"
    IMPORT_CHECKSUM = "import checksum"
    STAPEL_CONTAINER_PREPARE = "stapel container prepare"
    STAPEL_CONTAINER_LOCK_WAIT = "stapel container lock wait"
    GIT_CLONE = "git clone"
    GIT_FETCH = "git fetch"
    GIT_LS_REMOTE = "git ls-remote"
    GIT_PATCH = "git patch"
    GIT_ARCHIVE = "git archive"
    GIT_CHECKSUM = "git checksum"
    DOCKER_DAEMON_API = "docker daemon API"
    STAGE_LOCK_WAIT_STORAGE = "stage lock wait (storage)"
    STAGE_LOCK_WAIT_PARALLEL = "stage lock wait (parallel tasks)"
    CONTEXT_ADD_FILES = "context add files"


class StageCacheEvent(StrEnum):
    """werf's stage cache events: the keys of the report's StageCache."""

    FOUND_LOCALLY = "found in local stages storage"
    FOUND_IN_REPO = "found in repo stages storage"
    COPIED_FROM_SECONDARY = "copied from secondary storage"
    BUILT = "built"


_NANOS_PER_SECOND = 1_000_000_000


class OperationStatsCollector:
    """Thread-safe tally of timed operations and stage-cache events for one build (werf's opstats.Collector).

    Every interval is kept, so WallTimeSeconds is the exact union of overlapping intervals (as werf computes
    it), not an approximation. Durations are integer nanoseconds, converted like Go's Duration.Seconds().
    """

    def __init__(self, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self._clock = clock
        self._guard = threading.Lock()
        self._intervals: dict[str, list[tuple[int, int]]] = {}
        self._events: dict[str, int] = {}

    @contextlib.contextmanager
    def observe(self, operation: str) -> Iterator[None]:
        """Time the block as one `operation`, whether it succeeds or raises (as werf's deferred Observe)."""
        start = self._clock()
        try:
            yield
        finally:
            self._add(operation, start, self._clock())

    def record(self, operation: str, seconds: float) -> None:
        """An `operation` measured elsewhere that took `seconds` and has just ended."""
        if seconds < 0:
            raise ValueError(f"negative duration {seconds} for {operation!r}")
        end = self._clock()
        self._add(operation, end - round(seconds * _NANOS_PER_SECOND), end)

    def count_event(self, event: str) -> None:
        """One more stage-cache `event` (werf's CountEvent)."""
        with self._guard:
            self._events[str(event)] = self._events.get(str(event), 0) + 1

    def operations(self) -> dict[str, OperationStats]:
        with self._guard:
            snapshot = {operation: list(intervals) for operation, intervals in self._intervals.items()}
        return {operation: _summarize(intervals) for operation, intervals in snapshot.items()}

    def stage_cache(self) -> dict[str, int]:
        with self._guard:
            return dict(self._events)

    def _add(self, operation: str, start: int, end: int) -> None:
        with self._guard:
            self._intervals.setdefault(str(operation), []).append((start, end))


def _summarize(intervals: list[tuple[int, int]]) -> OperationStats:
    durations = [end - start for start, end in intervals]
    total = sum(durations)
    return OperationStats(
        count=len(durations),
        total_time_seconds=_go_seconds(total),
        wall_time_seconds=_go_seconds(_union_nanos(intervals)),
        avg_time_seconds=_go_seconds(total // len(durations)),
        max_time_seconds=_go_seconds(max(durations)),
    )


def _union_nanos(intervals: list[tuple[int, int]]) -> int:
    ordered = sorted(intervals)
    total = 0
    run_start, run_end = ordered[0]
    for start, end in ordered[1:]:
        if start > run_end:  # a gap closes the current run (touching intervals merge, as in werf)
            total += run_end - run_start
            run_start, run_end = start, end
        else:
            run_end = max(run_end, end)
    return total + run_end - run_start


def _go_seconds(nanos: int) -> float:
    # Go's Duration.Seconds(): whole seconds plus the remainder, so large values keep their nanoseconds.
    seconds, remainder = divmod(nanos, _NANOS_PER_SECOND)
    return float(seconds) + remainder / 1e9
