"""Leases: lockgate's distributed-lock rules (werf-internals §5.2) and the client side of leased lockers.

The rules (pure functions of a record, a clock reading and a fresh id; the lock server's in-memory store and
the Redis locker both apply them atomically):
* acquire: no record, or an expired one → a new lease (new id, one holder, expires now+TTL); a shared request
  on a live shared lease → one more holder, expiry pushed to now+TTL, the SAME id; otherwise "should wait".
* renew: only with the record's id ("lock already leased" for another id, "no existing lock lease found"
  without a record); pushes expiry to now+TTL. An expired record nobody replaced can still be renewed.
* release: same id check; one holder less, the record is deleted when none is left.
* A record is expired when now > its expiry.

`LeasedLocker` is the client: it asks a `LeaseBackend` (HTTP server, Redis) for a lease, polls while the lock
is busy, keeps one renew thread per held lease and releases. Successful release proves exclusivity held the
whole time: any acquisition by someone else after an expiry replaces the id, and then release is refused.
This module does no I/O of its own; the backends do.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from shipyard.errors import ShipyardError
from shipyard.locks.base import LockHandle, LockTimeoutError, WaitCallback

TTL_SECONDS = 10.0  # lockgate's DistributedLockLeaseTTLSeconds
RENEW_SECONDS = 3.0  # DistributedLockLeaseRenewPeriodSeconds
POLL_SECONDS = 2.0  # DistributedLockPollRetryPeriodSeconds

SHOULD_WAIT = "should wait"
ALREADY_LEASED = "lock already leased"
NO_LEASE = "no existing lock lease found"

_RETRY_CAP_SECONDS = 4.0

_log = logging.getLogger("shipyard.locks")


def retry_pause(attempt: int, base: float) -> float:
    """Seconds to wait before retry `attempt` (1, 2, …) of a failed request: full jitter, doubling, capped."""
    return random.uniform(0, min(_RETRY_CAP_SECONDS, base * 2 ** (attempt - 1)))


class LeaseRefusedError(Exception):
    """A rule said no; `reason` is lockgate's error string (SHOULD_WAIT, ALREADY_LEASED, NO_LEASE)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LeaseLostError(ShipyardError):
    """A held lock's lease expired or was taken over: another builder may have held the lock meanwhile."""

    def __init__(self, name: str, where: str, reason: str) -> None:
        super().__init__(
            f"lost the lock {name!r} on {where}: {reason}",
            hint="the lease was not renewed in time (lock service down, network trouble or a stalled "
                 "process); the registry stays consistent (the oldest stage wins), rerun the build",
        )
        self.lock_name = name
        self.reason = reason


@dataclass(frozen=True)
class Lease:
    """One lease record; `expire_at` is in seconds on the store's clock."""

    lock_name: str
    id: str
    expire_at: float
    holders: int = 1
    shared: bool = False

    def expired(self, now: float) -> bool:
        return now > self.expire_at

    def to_json(self) -> str:
        """lockgate v0.1.1's record (whole-second expiry, rounded up so it never shortens the lease), plus
        `ExpireAtMillis` for readers that want the exact expiry (Go's decoder ignores unknown fields)."""
        return json.dumps({
            "uuid": self.id,
            "lockName": self.lock_name,
            "ExpireAtTimestamp": math.ceil(self.expire_at),
            "ExpireAtMillis": math.ceil(self.expire_at * 1000),
            "SharedHoldersCount": self.holders,
            "IsShared": self.shared,
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Lease:
        try:
            record: Any = json.loads(raw)
            millis = record.get("ExpireAtMillis")
            expire_at = millis / 1000 if millis is not None else float(record["ExpireAtTimestamp"])
            return cls(lock_name=str(record["lockName"]), id=str(record["uuid"]), expire_at=float(expire_at),
                       holders=int(record["SharedHoldersCount"]), shared=bool(record["IsShared"]))
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            raise ValueError(f"not a lease record: {raw!r:.200}") from err


def acquire(current: Lease | None, name: str, *, shared: bool, now: float, ttl: float, new_id: str) -> Lease:
    """The record after granting `name`; raises LeaseRefusedError(SHOULD_WAIT) while it is busy."""
    if current is None or current.expired(now):
        return Lease(name, new_id, now + ttl, 1, shared)
    if shared and current.shared:
        return replace(current, holders=current.holders + 1, expire_at=now + ttl)
    raise LeaseRefusedError(SHOULD_WAIT)


def renew(current: Lease | None, lease_id: str, *, now: float, ttl: float) -> Lease:
    return replace(_owned(current, lease_id), expire_at=now + ttl)


def release(current: Lease | None, lease_id: str) -> Lease | None:
    """The record after one holder leaves; None means delete it."""
    lease = _owned(current, lease_id)
    return replace(lease, holders=lease.holders - 1) if lease.holders > 1 else None


def _owned(current: Lease | None, lease_id: str) -> Lease:
    if current is None:
        raise LeaseRefusedError(NO_LEASE)
    if current.id != lease_id:
        raise LeaseRefusedError(ALREADY_LEASED)
    return current


# --- the client side ---------------------------------------------------------------------------------


class LeaseBackend(Protocol):
    """Where leases live. Transient trouble is retried inside; what is left is raised as ShipyardError."""

    @property
    def where(self) -> str:
        """For messages: "lock server http://…", "redis 127.0.0.1:6379/0"."""
        ...

    def try_acquire(self, name: str, shared: bool) -> str | None:
        """The lease id, or None when the lock is busy ("should wait")."""
        ...

    def renew(self, name: str, lease_id: str) -> None:
        """Push the expiry; LeaseLostError when the lease is gone or someone else's."""
        ...

    def release(self, name: str, lease_id: str) -> None:
        """Leave the lease; LeaseLostError when it is gone or someone else's."""
        ...


@dataclass(frozen=True)
class LeaseTiming:
    """`ttl` is how long the service keeps an unrenewed lease (the client gives up on a lease it could not
    renew for that long). Polling starts at `first_poll` and doubles up to `poll` (equal: a fixed period)."""

    ttl: float = TTL_SECONDS
    renew: float = RENEW_SECONDS
    poll: float = POLL_SECONDS
    first_poll: float = POLL_SECONDS

    def __post_init__(self) -> None:
        if not 0 < self.renew < self.ttl:
            raise ValueError(f"renew period {self.renew}s must be positive and below the TTL {self.ttl}s")
        if not 0 < self.first_poll <= self.poll:
            raise ValueError(f"poll periods must satisfy 0 < {self.first_poll} <= {self.poll}")


class _Renewal:
    """The background renewal of one lease, shared by this locker's holders of that lease (shared locks)."""

    def __init__(self, backend: LeaseBackend, name: str, lease_id: str, timing: LeaseTiming) -> None:
        self.holders = 1
        self.lost: str | None = None
        self._backend, self._name, self._lease_id, self._timing = backend, name, lease_id, timing
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"renew {name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        # Not joined: a renewal still in flight can only be refused after the release, never revive a lease.
        self._stopped.set()

    def _run(self) -> None:
        renewed_at = time.monotonic()
        while not self._stopped.wait(self._timing.renew):
            try:
                self._backend.renew(self._name, self._lease_id)
                renewed_at = time.monotonic()
            except LeaseLostError as err:
                self._give_up(err.reason)
                return
            except ShipyardError as err:
                if time.monotonic() - renewed_at >= self._timing.ttl:
                    self._give_up(f"not renewed for {self._timing.ttl:g}s ({err.message})")
                    return
                _log.warning("renewing the lease of lock %r failed, will retry: %s", self._name, err.message)

    def _give_up(self, reason: str) -> None:
        if not self._stopped.is_set():
            self.lost = reason
            _log.error("lost the lease of lock %r on %s: %s", self._name, self._backend.where, reason)


class LeasedLocker:
    """A Locker (see locks.base) over a LeaseBackend. Thread-safe; the constructor does no I/O."""

    def __init__(self, backend: LeaseBackend, timing: LeaseTiming,
                 *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._backend = backend
        self._timing = timing
        self._sleep = sleep
        self._guard = threading.Lock()
        self._handles: dict[str, tuple[str, str]] = {}  # handle id -> (lock name, lease id)
        self._renewals: dict[tuple[str, str], _Renewal] = {}

    @property
    def where(self) -> str:
        return self._backend.where

    def acquire(
        self,
        name: str,
        *,
        shared: bool = False,
        timeout: float | None = None,
        on_wait: WaitCallback | None = None,
    ) -> LockHandle:
        started = time.monotonic()
        lease_id, waited = self._wait_for_lease(name, shared, timeout, on_wait)
        key = (name, lease_id)
        with self._guard:
            renewal = self._renewals.get(key)
            if renewal is None:
                self._renewals[key] = _Renewal(self._backend, name, lease_id, self._timing)
            else:
                renewal.holders += 1
            handle = LockHandle(name, uuid.uuid4().hex, shared, time.monotonic() - started if waited else 0.0)
            self._handles[handle.id] = key
        return handle

    def release(self, handle: LockHandle) -> None:
        with self._guard:
            key = self._handles.pop(handle.id, None)
            if key is None:
                raise RuntimeError(f"lock {handle.name!r} handle {handle.id} is not held (released twice?)")
            renewal = self._renewals[key]
            renewal.holders -= 1
            if renewal.holders == 0:
                del self._renewals[key]
                renewal.stop()
        try:
            self._backend.release(*key)
        except LeaseLostError as err:
            raise LeaseLostError(handle.name, self._backend.where, renewal.lost or err.reason) from None

    def ensure_held(self, handle: LockHandle) -> None:
        """Raise LeaseLostError when renewing `handle`'s lease has failed (check before publishing)."""
        with self._guard:
            key = self._handles.get(handle.id)
            renewal = self._renewals.get(key) if key else None
        if renewal is None:
            raise RuntimeError(f"lock handle {handle.id} of {handle.name!r} is not held")
        if renewal.lost is not None:
            raise LeaseLostError(handle.name, self._backend.where, renewal.lost)

    def _wait_for_lease(self, name: str, shared: bool, timeout: float | None,
                        on_wait: WaitCallback | None) -> tuple[str, bool]:
        deadline = None if timeout is None else time.monotonic() + timeout
        delay, waited = self._timing.first_poll, False
        while True:
            lease_id = self._backend.try_acquire(name, shared)
            if lease_id is not None:
                return lease_id, waited
            if not waited:
                waited = True
                if on_wait is not None:
                    on_wait(name)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise LockTimeoutError(name, timeout or 0.0, where=self._backend.where)
            self._sleep(delay if remaining is None else min(delay, remaining))
            delay = min(delay * 2, self._timing.poll)


# How a stored lease changes: (current record or None, now) → new record or None (deleted).
Rule = Callable[[Lease | None, float], Lease | None]


class RuleLeases(ABC):
    """LeaseBackends that apply a rule to one stored record atomically (Redis transactions, Kubernetes
    optimistic updates): acquire, renew and release are the same steps over their own `_change`."""

    _ttl: float

    @property
    @abstractmethod
    def where(self) -> str: ...

    @abstractmethod
    def _change(self, name: str, rule: Rule, doing: str, *, released: bool = False) -> Lease | None:
        """Apply `rule` to the record of `name` atomically; LeaseRefusedError passes through."""

    def _stored_name(self, name: str) -> str:
        """The lock name written into the record (werf's spelling may differ per protocol)."""
        return name

    def try_acquire(self, name: str, shared: bool) -> str | None:
        new_id, stored_name = str(uuid.uuid4()), self._stored_name(name)

        def rule(current: Lease | None, now: float) -> Lease | None:
            if current is not None and current.id == new_id:
                return current  # our own earlier write landed although its reply was lost
            return acquire(current, stored_name, shared=shared, now=now, ttl=self._ttl, new_id=new_id)

        try:
            granted = self._change(name, rule, f"locking {name!r}")
        except LeaseRefusedError:
            return None
        assert granted is not None
        return granted.id

    def renew(self, name: str, lease_id: str) -> None:
        try:
            self._change(name, lambda current, now: renew(current, lease_id, now=now, ttl=self._ttl),
                         f"renewing the lease of {name!r}")
        except LeaseRefusedError as refused:
            raise LeaseLostError(name, self.where, refused.reason) from None

    def release(self, name: str, lease_id: str) -> None:
        try:
            self._change(name, lambda current, _now: release(current, lease_id), f"unlocking {name!r}",
                         released=True)
        except LeaseRefusedError as refused:
            raise LeaseLostError(name, self.where, refused.reason) from None
