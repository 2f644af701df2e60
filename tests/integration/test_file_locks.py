"""FileLocker with real processes and threads: exclusion, sharing, crashes, timeouts (werf-internals §5.3)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.errors import ShipyardError
from shipyard.hashsum import murmur_hash
from shipyard.locks import LockTimeoutError, held, stage_lock_name
from shipyard.locks.file import FileLocker, default_locks_dir

LOCK = stage_lock_name("demo-app", "6f40fd07cdb62e03d7238e1fccb3341379bcd677ff6d7575317f3783")
EXIT_TIMEOUT = 30.0

# A separate process that takes the lock, says "locked", optionally waits until `parties` holders are
# inside together, holds for `hold` seconds ("inf": until killed), then writes its interval and releases.
HOLDER = r"""
import sys, time
from pathlib import Path
from shipyard.locks.file import FileLocker

locks_dir, name, mode, hold, interval_file, rendezvous_dir, parties = sys.argv[1:8]
locker = FileLocker(Path(locks_dir))
handle = locker.acquire(name, shared=mode == "shared")
start = time.monotonic_ns()
print("locked", flush=True)
if int(parties) > 1:
    Path(rendezvous_dir, interval_file.replace("/", "_")).touch()
    deadline = time.monotonic() + 20
    while len(list(Path(rendezvous_dir).iterdir())) < int(parties):
        if time.monotonic() > deadline:
            sys.exit(3)  # the other holders never got in: the lock was not shared
        time.sleep(0.01)
while hold == "inf":
    time.sleep(3600)
time.sleep(float(hold))
end = time.monotonic_ns()
Path(interval_file).write_text(f"{start} {end}")
locker.release(handle)
"""


class Holders:
    """Lock-holding child processes; whatever a test leaves running is killed at teardown."""

    def __init__(self, root: Path) -> None:
        self.locks_dir = root / "locks"
        self._root = root
        self._rendezvous = root / "rendezvous"
        self._rendezvous.mkdir()
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, *, shared: bool = False, hold: str = "0.15", parties: int = 1) -> subprocess.Popen[str]:
        interval_file = self._root / f"interval-{len(self.processes)}"
        args = [str(self.locks_dir), LOCK, "shared" if shared else "exclusive", hold, str(interval_file)]
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, *args, str(self._rendezvous), str(parties)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.processes.append(process)
        return process

    def start_and_wait_until_locked(
        self, *, shared: bool = False, hold: str = "0.15"
    ) -> subprocess.Popen[str]:
        process = self.start(shared=shared, hold=hold)
        assert process.stdout is not None
        assert process.stdout.readline() == "locked\n", "the holder died before taking the lock"
        return process

    def wait_all(self) -> list[int]:
        return [process.wait(timeout=EXIT_TIMEOUT) for process in self.processes]

    def intervals(self) -> list[tuple[int, int]]:
        files = sorted(self._root.glob("interval-*"))
        pairs = [file.read_text().split() for file in files]
        return sorted((int(start), int(end)) for start, end in pairs)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=EXIT_TIMEOUT)
            if process.stdout is not None:
                process.stdout.close()


@pytest.fixture
def holders(tmp_path: Path) -> Iterator[Holders]:
    started = Holders(tmp_path)
    yield started
    started.stop()


def assert_never_overlap(intervals: list[tuple[int, int]]) -> None:
    for (_, previous_end), (start, _) in itertools.pairwise(intervals):
        assert start >= previous_end, f"two exclusive holders overlapped: {intervals}"


def test_exclusive_holders_in_different_processes_never_overlap(holders: Holders) -> None:
    for _ in range(4):
        holders.start()
    assert holders.wait_all() == [0, 0, 0, 0]
    intervals = holders.intervals()
    assert len(intervals) == 4
    assert_never_overlap(intervals)


def test_shared_holders_in_different_processes_are_inside_together(holders: Holders) -> None:
    for _ in range(3):
        holders.start(shared=True, hold="0", parties=3)
    # A holder exits 3 when the others could not join it within 20 s, i.e. when the lock was not shared.
    assert holders.wait_all() == [0, 0, 0]
    intervals = holders.intervals()
    assert max(start for start, _ in intervals) < min(end for _, end in intervals)


def test_a_shared_holder_keeps_exclusive_acquirers_out_but_lets_shared_ones_in(holders: Holders) -> None:
    holders.start_and_wait_until_locked(shared=True, hold="inf")
    locker = FileLocker(holders.locks_dir)
    with pytest.raises(LockTimeoutError):
        locker.acquire(LOCK, timeout=0.3)
    with held(locker, LOCK, shared=True, timeout=5) as handle:
        assert handle.shared


def test_a_sigkilled_holder_releases_the_lock(holders: Holders) -> None:
    holder = holders.start_and_wait_until_locked(hold="inf")
    locker = FileLocker(holders.locks_dir)
    with pytest.raises(LockTimeoutError):
        locker.acquire(LOCK, timeout=0.2)

    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=EXIT_TIMEOUT)

    with held(locker, LOCK, timeout=5):
        pass


def test_a_timeout_raises_a_clear_error_naming_the_lock(holders: Holders) -> None:
    holders.start_and_wait_until_locked(hold="inf")
    locker = FileLocker(holders.locks_dir)
    started = time.monotonic()
    with pytest.raises(LockTimeoutError) as caught:
        locker.acquire(LOCK, timeout=0.3)
    assert time.monotonic() - started >= 0.3
    error = caught.value
    assert error.lock_name == LOCK
    assert f"timed out after 0.3s waiting for lock {LOCK!r}" in str(error)
    assert str(holders.locks_dir / murmur_hash(LOCK)) in str(error)
    assert error.hint


def test_the_wait_callback_runs_once_only_when_the_lock_is_busy(holders: Holders) -> None:
    locker = FileLocker(holders.locks_dir)
    waits: list[str] = []
    with held(locker, LOCK, on_wait=waits.append) as free:
        pass
    assert (waits, free.waited_seconds) == ([], 0.0)

    holders.start_and_wait_until_locked(hold="0.3")
    with held(locker, LOCK, timeout=EXIT_TIMEOUT, on_wait=waits.append) as busy:
        pass
    assert holders.wait_all() == [0]
    assert waits == [LOCK]
    assert busy.waited_seconds > 0


def _take_turns(
    lockers: list[FileLocker], intervals: list[tuple[int, int]], start: threading.Barrier
) -> None:
    start.wait()
    for turn in range(5):
        with held(lockers[turn % len(lockers)], LOCK, timeout=EXIT_TIMEOUT):
            entered = time.monotonic_ns()
            time.sleep(0.01)
            intervals.append((entered, time.monotonic_ns()))


def test_threads_of_one_process_exclude_each_other(tmp_path: Path) -> None:
    # Shared and separate FileLocker instances alike: every acquisition has its own open file description.
    shared_instance = FileLocker(tmp_path)
    lockers = [shared_instance, FileLocker(tmp_path)]
    intervals: list[tuple[int, int]] = []
    start = threading.Barrier(4)
    threads = [threading.Thread(target=_take_turns, args=(lockers, intervals, start)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=EXIT_TIMEOUT)
    assert len(intervals) == 20
    assert_never_overlap(sorted(intervals))


def test_a_thread_holding_the_lock_times_out_another_thread(tmp_path: Path) -> None:
    locker = FileLocker(tmp_path)
    outcome: list[BaseException] = []

    def try_to_take() -> None:
        try:
            locker.acquire(LOCK, timeout=0.2)
        except LockTimeoutError as err:
            outcome.append(err)

    with held(locker, LOCK):
        contender = threading.Thread(target=try_to_take)
        contender.start()
        contender.join(timeout=EXIT_TIMEOUT)
    assert len(outcome) == 1


def test_the_lock_file_is_murmur_of_the_name_created_on_first_use(tmp_path: Path) -> None:
    locks_dir = tmp_path / "service" / "locks"
    locker = FileLocker(locks_dir)
    assert not locks_dir.exists()  # the constructor does no I/O
    with held(locker, LOCK):
        assert [path.name for path in locks_dir.iterdir()] == [murmur_hash(LOCK)]
    assert locker.lock_file(LOCK) == locks_dir / murmur_hash(LOCK)


def test_a_lock_is_released_when_the_block_raises(tmp_path: Path) -> None:
    locker = FileLocker(tmp_path)
    with pytest.raises(RuntimeError, match="boom"), held(locker, LOCK):
        raise RuntimeError("boom")
    with held(locker, LOCK, timeout=0):
        pass


def test_releasing_twice_is_a_bug(tmp_path: Path) -> None:
    locker = FileLocker(tmp_path)
    handle = locker.acquire(LOCK)
    locker.release(handle)
    with pytest.raises(RuntimeError, match="not held"):
        locker.release(handle)


def test_an_unwritable_locks_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ShipyardError, match="cannot lock") as caught:
        FileLocker(blocker / "locks").acquire(LOCK)
    assert "SHIPYARD_HOME" in str(caught.value)


def test_default_locks_dir_follows_shipyard_home() -> None:
    assert default_locks_dir({"SHIPYARD_HOME": "/srv/shipyard"}) == Path("/srv/shipyard/service/locks")
    assert default_locks_dir({}) == Path.home() / ".shipyard" / "service" / "locks"


def test_stage_lock_name_is_project_dot_digest() -> None:
    assert stage_lock_name("demo", "abc") == "demo.abc"
