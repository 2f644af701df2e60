"""The locker seam: what the conveyor needs to serialise stage publication (werf-internals §5.2).

Contract every locker keeps (file, HTTP, Redis):
* `acquire` blocks until the lock is held, or raises LockTimeoutError once `timeout` seconds have passed;
  `timeout=None` waits forever. `on_wait(name)` is called once, before waiting, only when the lock is busy.
* Exclusive holders never overlap each other or shared holders; shared holders may overlap each other.
* Exclusion holds between processes and between threads of one process alike.
* Every handle is released exactly once; `held` does it in `finally`. A holder that dies loses its lock
  (kernel for file locks, lease expiry for distributed ones), so a crash never wedges other builders.

Pure: no I/O here. Concrete lockers live beside this module and are chosen only in app.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from shipyard.errors import ShipyardError

WaitCallback = Callable[[str], None]


@dataclass(frozen=True)
class LockHandle:
    """One acquisition of a lock (lockgate's LockHandle: lock name + a unique id)."""

    name: str
    id: str
    shared: bool
    waited_seconds: float  # 0.0 when the lock was free; lets the conveyor report "stage lock wait"


class LockTimeoutError(ShipyardError):
    """A lock stayed busy for longer than the caller was willing to wait."""

    def __init__(self, name: str, timeout: float, *, where: str = "") -> None:
        place = f" ({where})" if where else ""
        super().__init__(
            f"timed out after {timeout:g}s waiting for lock {name!r}{place}",
            hint="another build is publishing the same stage; retry, or allow a longer wait",
        )
        self.lock_name = name


class Locker(Protocol):
    def acquire(
        self,
        name: str,
        *,
        shared: bool = False,
        timeout: float | None = None,
        on_wait: WaitCallback | None = None,
    ) -> LockHandle:
        """Block until `name` is held (shared or exclusive); see the module contract."""
        ...

    def release(self, handle: LockHandle) -> None:
        """Give the lock back; releasing a handle twice is a bug and raises."""
        ...

    def ensure_held(self, handle: LockHandle) -> None:
        """Raise when the lock behind `handle` was lost (a lease that could not be renewed); call it right
        before publishing, so a builder that lost its lock never publishes."""
        ...


@contextmanager
def held(
    locker: Locker,
    name: str,
    *,
    shared: bool = False,
    timeout: float | None = None,
    on_wait: WaitCallback | None = None,
) -> Iterator[LockHandle]:
    """`with held(locker, name): …` holds the lock for the block and releases it however the block ends."""
    handle = locker.acquire(name, shared=shared, timeout=timeout, on_wait=on_wait)
    try:
        yield handle
    finally:
        locker.release(handle)


def stage_lock_name(project: str, digest: str) -> str:
    """Name of the lock around publishing one stage (werf's LockStage, file and HTTP lockers)."""
    return f"{project}.{digest}"
