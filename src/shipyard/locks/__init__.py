"""Locks that serialise stage publication (werf-internals §5): the Protocol in `base`, lockers beside it."""

from shipyard.locks.base import Locker, LockHandle, LockTimeoutError, held, stage_lock_name

__all__ = ["LockHandle", "LockTimeoutError", "Locker", "held", "stage_lock_name"]
