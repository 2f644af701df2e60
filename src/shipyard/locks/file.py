"""Host-local locks on flock(2)ed files: werf's `:local` synchronization (werf-internals §5.3).

A lock named N is the file `<locks dir>/MUR(N)` (werf sets lockgate's LegacyHashFunction, so murmur3 hex),
held with flock: LOCK_SH for shared, LOCK_EX for exclusive. Each acquisition opens its own file description,
so two threads of one process exclude each other exactly like two processes do, and the kernel drops the
lock when its holder dies, however it dies. Waiting polls a non-blocking flock (lockgate polls too), which
keeps timeouts exact and a waiting thread interruptible.

The locks directory is `$SHIPYARD_HOME/service/locks` (default `~/.shipyard/service/locks`); werf's is
`$WERF_HOME/service/locks` (default `~/.werf/service/locks`). Only with `SHIPYARD_HOME=~/.werf` do shipyard
and werf on one host exclude each other. The directory must be on a local filesystem: over NFS, flock is
emulated with POSIX record locks, which do not exclude threads of one process.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from shipyard.errors import ShipyardError
from shipyard.hashsum import murmur_hash
from shipyard.locks.base import LockHandle, LockTimeoutError, WaitCallback

# Poll quickly at first (most waits are one short publication), then back off to spare the CPU.
_FIRST_POLL_SECONDS = 0.005
_MAX_POLL_SECONDS = 0.05


def default_locks_dir(environ: Mapping[str, str]) -> Path:
    """`$SHIPYARD_HOME/service/locks`, or `~/.shipyard/service/locks` when SHIPYARD_HOME is unset or empty."""
    home = environ.get("SHIPYARD_HOME")
    return (Path(home) if home else Path.home() / ".shipyard") / "service" / "locks"


class FileLocker:
    """A Locker (see locks.base) for builders on one host. Thread-safe; the constructor does no I/O."""

    def __init__(self, locks_dir: Path) -> None:
        self._locks_dir = Path(locks_dir)
        self._guard = threading.Lock()
        self._descriptors: dict[str, int] = {}  # handle id -> the fd whose flock is the lock

    def lock_file(self, name: str) -> Path:
        return self._locks_dir / murmur_hash(name)

    def acquire(
        self,
        name: str,
        *,
        shared: bool = False,
        timeout: float | None = None,
        on_wait: WaitCallback | None = None,
    ) -> LockHandle:
        started = time.monotonic()
        path = self.lock_file(name)
        try:
            fd, waited = self._lock(name, path, fcntl.LOCK_SH if shared else fcntl.LOCK_EX, timeout, on_wait)
        except OSError as err:
            raise ShipyardError(
                f"cannot lock {name!r} with file {path}: {err.strerror or err}",
                hint="check that SHIPYARD_HOME (default ~/.shipyard) is writable and on a local filesystem",
            ) from err
        handle = LockHandle(name, uuid.uuid4().hex, shared, time.monotonic() - started if waited else 0.0)
        with self._guard:
            self._descriptors[handle.id] = fd
        return handle

    def ensure_held(self, handle: LockHandle) -> None:
        """flock cannot be lost while the descriptor is open: nothing to check."""

    def release(self, handle: LockHandle) -> None:
        with self._guard:
            fd = self._descriptors.pop(handle.id, None)
        if fd is None:
            raise RuntimeError(f"lock handle {handle.id} of {handle.name!r} is not held (released twice?)")
        try:
            # Unlock explicitly: a process forked meanwhile shares this file description and would keep the
            # flock alive after our close.
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _lock(
        self, name: str, path: Path, operation: int, timeout: float | None, on_wait: WaitCallback | None
    ) -> tuple[int, bool]:
        """Return an fd holding the flock on the file currently at `path`, and whether we had to wait."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay, waited = _FIRST_POLL_SECONDS, False
        fd = self._open(path)
        try:
            while True:
                if _try_flock(fd, operation):
                    if _is_file_at(fd, path):
                        return fd, waited
                    # The file was unlinked or replaced after we opened it: its old inode excludes nobody.
                    fresh = self._open(path)
                    os.close(fd)
                    fd = fresh
                    continue
                if not waited:
                    waited = True
                    if on_wait is not None:
                        on_wait(name)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise LockTimeoutError(name, timeout or 0.0, where=f"lock file {path}")
                time.sleep(delay if remaining is None else min(delay, remaining))
                delay = min(delay * 2, _MAX_POLL_SECONDS)
        except BaseException:
            os.close(fd)
            raise

    def _open(self, path: Path) -> int:
        flags = (
            os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC
        )  # CLOEXEC: build tools we spawn must not inherit locks
        try:
            return os.open(path, flags, 0o644)
        except FileNotFoundError:
            self._locks_dir.mkdir(parents=True, exist_ok=True)
            return os.open(path, flags, 0o644)


def _try_flock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _is_file_at(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (opened.st_dev, opened.st_ino) == (on_disk.st_dev, on_disk.st_ino)
