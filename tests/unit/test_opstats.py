"""Operation timings and stage-cache counters: werf's aggregation rules and thread safety."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from shipyard.opstats import Operation, OperationStats, OperationStatsCollector, StageCacheEvent

SECOND = 1_000_000_000


class FakeClock:
    """Monotonic nanoseconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 100 * SECOND

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _observe(collector: OperationStatsCollector, clock: FakeClock, start: float, end: float) -> None:
    """An image push observed from `start` to `end` seconds (relative to the clock's origin)."""
    origin = 100 * SECOND
    clock.now = origin + int(start * SECOND)
    with collector.observe(Operation.IMAGE_PUSH):
        clock.now = origin + int(end * SECOND)


def test_overlapping_intervals_count_once_in_wall_time(clock: FakeClock) -> None:
    collector = OperationStatsCollector(clock)
    _observe(collector, clock, 0, 2)
    _observe(collector, clock, 1, 3)  # overlaps the first
    _observe(collector, clock, 3, 4)  # touches the run: merges, as in werf
    _observe(collector, clock, 10, 10.5)  # after a gap

    assert collector.operations() == {
        "image push": OperationStats(
            count=4,
            total_time_seconds=5.5,
            wall_time_seconds=4.5,
            avg_time_seconds=1.375,
            max_time_seconds=2.0,
        )
    }


def test_average_truncates_to_whole_nanoseconds_like_go_durations(clock: FakeClock) -> None:
    collector = OperationStatsCollector(clock)
    for _ in range(3):
        collector.record(Operation.GIT_FETCH, 1e-9)
    collector.record(Operation.GIT_FETCH, 0)
    assert collector.operations()["git fetch"].avg_time_seconds == 0.0  # 3ns / 4 = 0ns in Go


def test_an_operation_that_raises_is_still_timed(clock: FakeClock) -> None:
    collector = OperationStatsCollector(clock)
    with pytest.raises(RuntimeError), collector.observe(Operation.IMAGE_BUILD):
        clock.now += 2 * SECOND
        raise RuntimeError("build failed")
    assert collector.operations()["image build"].total_time_seconds == 2.0


def test_recorded_durations_end_now(clock: FakeClock) -> None:
    collector = OperationStatsCollector(clock)
    collector.record(Operation.STAGE_LOCK_WAIT_STORAGE, 1.25)
    clock.now += 10 * SECOND
    collector.record(Operation.STAGE_LOCK_WAIT_STORAGE, 0.75)
    stats = collector.operations()["stage lock wait (storage)"]
    assert (stats.count, stats.total_time_seconds, stats.wall_time_seconds) == (2, 2.0, 2.0)


def test_negative_durations_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative duration"):
        OperationStatsCollector().record(Operation.IMAGE_PULL, -0.1)


def test_events_are_counted_under_werfs_names() -> None:
    collector = OperationStatsCollector()
    collector.count_event(StageCacheEvent.BUILT)
    collector.count_event(StageCacheEvent.FOUND_IN_REPO)
    collector.count_event(StageCacheEvent.FOUND_IN_REPO)
    assert collector.stage_cache() == {"built": 1, "found in repo stages storage": 2}
    assert all(type(key) is str for key in collector.stage_cache())


def test_an_empty_collector_reports_nothing() -> None:
    collector = OperationStatsCollector()
    assert collector.operations() == {}
    assert collector.stage_cache() == {}


def _hammer(collector: OperationStatsCollector, start: threading.Barrier) -> None:
    start.wait()
    for _ in range(2000):
        collector.record(Operation.IMAGE_PUSH, 0.001)
        collector.count_event(StageCacheEvent.BUILT)


@pytest.fixture
def threads() -> Iterator[list[threading.Thread]]:
    started: list[threading.Thread] = []
    yield started
    for thread in started:
        thread.join()


def test_parallel_images_lose_no_records(threads: list[threading.Thread]) -> None:
    collector = OperationStatsCollector()
    start = threading.Barrier(8)
    for _ in range(8):
        thread = threading.Thread(target=_hammer, args=(collector, start))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    assert collector.operations()["image push"].count == 16000
    assert collector.stage_cache() == {"built": 16000}
