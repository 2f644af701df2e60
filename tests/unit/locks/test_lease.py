"""Lease rules (lockgate v0.1.1, werf-internals §5.2) and LeasedLocker over an in-memory backend."""

from __future__ import annotations

import json
import threading
import time

import pytest

from shipyard.errors import ShipyardError
from shipyard.locks import LockTimeoutError, held, lease
from shipyard.locks.lease import (
    ALREADY_LEASED,
    NO_LEASE,
    SHOULD_WAIT,
    Lease,
    LeasedLocker,
    LeaseLostError,
    LeaseRefusedError,
    LeaseTiming,
)

TTL = 10.0


def refused(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(LeaseRefusedError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value.reason


# --- the rules -----------------------------------------------------------------------------------------


def test_acquire_without_a_record_creates_a_lease_for_one_holder() -> None:
    granted = lease.acquire(None, "app.d1", shared=False, now=100.0, ttl=TTL, new_id="u1")
    assert granted == Lease("app.d1", "u1", expire_at=110.0, holders=1, shared=False)


def test_a_live_exclusive_lease_makes_everyone_wait() -> None:
    held_lease = Lease("app.d1", "u1", expire_at=110.0)
    for shared in (False, True):
        assert refused(lease.acquire, held_lease, "app.d1", shared=shared, now=105.0, ttl=TTL,
                       new_id="u2") == SHOULD_WAIT


def test_a_shared_lease_admits_shared_holders_under_the_same_id_and_refreshes_expiry() -> None:
    first = lease.acquire(None, "n", shared=True, now=100.0, ttl=TTL, new_id="u1")
    second = lease.acquire(first, "n", shared=True, now=104.0, ttl=TTL, new_id="u2")
    assert (second.id, second.holders, second.expire_at, second.shared) == ("u1", 2, 114.0, True)
    assert refused(lease.acquire, second, "n", shared=False, now=105.0, ttl=TTL, new_id="u3") == SHOULD_WAIT


def test_an_expired_lease_is_replaced_whatever_it_was() -> None:
    old = Lease("n", "u1", expire_at=110.0, holders=3, shared=True)
    assert not old.expired(110.0)  # lockgate: expired only strictly after the expiry instant
    taken = lease.acquire(old, "n", shared=False, now=110.5, ttl=TTL, new_id="u2")
    assert taken == Lease("n", "u2", expire_at=120.5, holders=1, shared=False)


def test_renew_needs_the_owners_id() -> None:
    current = Lease("n", "u1", expire_at=110.0)
    assert lease.renew(current, "u1", now=108.0, ttl=TTL).expire_at == 118.0
    assert refused(lease.renew, current, "u2", now=108.0, ttl=TTL) == ALREADY_LEASED
    assert refused(lease.renew, None, "u1", now=108.0, ttl=TTL) == NO_LEASE


def test_an_expired_lease_nobody_replaced_can_still_be_renewed() -> None:
    current = Lease("n", "u1", expire_at=110.0)
    assert lease.renew(current, "u1", now=130.0, ttl=TTL).expire_at == 140.0


def test_release_counts_holders_down_and_deletes_at_zero() -> None:
    two = Lease("n", "u1", expire_at=110.0, holders=2, shared=True)
    one = lease.release(two, "u1")
    assert one is not None and one.holders == 1
    assert lease.release(one, "u1") is None
    assert refused(lease.release, two, "other") == ALREADY_LEASED
    assert refused(lease.release, None, "u1") == NO_LEASE


def test_the_record_is_lockgates_json_with_an_exact_expiry_beside_it() -> None:
    record = Lease("app.d1", "u1", expire_at=1700000000.25, holders=2, shared=True)
    document = json.loads(record.to_json())
    assert document == {"uuid": "u1", "lockName": "app.d1", "ExpireAtTimestamp": 1700000001,
                        "ExpireAtMillis": 1700000000250, "SharedHoldersCount": 2, "IsShared": True}
    assert Lease.from_json(record.to_json()) == record


def test_a_lockgate_record_without_millis_reads_whole_seconds() -> None:
    raw = '{"uuid":"u","lockName":"n","ExpireAtTimestamp":1700000000,"SharedHoldersCount":1,"IsShared":false}'
    assert Lease.from_json(raw) == Lease("n", "u", 1700000000.0, 1, False)
    with pytest.raises(ValueError, match="not a lease record"):
        Lease.from_json('{"uuid": "u"}')


def test_timing_rejects_a_renew_period_that_cannot_keep_the_lease() -> None:
    with pytest.raises(ValueError):
        LeaseTiming(ttl=3.0, renew=3.0)
    with pytest.raises(ValueError):
        LeaseTiming(poll=1.0, first_poll=2.0)
    assert (LeaseTiming().ttl, LeaseTiming().renew, LeaseTiming().poll) == (10.0, 3.0, 2.0)


def test_retry_pauses_are_jittered_and_capped() -> None:
    pauses = [lease.retry_pause(attempt, 0.5) for attempt in range(1, 10) for _ in range(20)]
    assert all(0 <= pause <= 4.0 for pause in pauses)
    assert max(lease.retry_pause(1, 0.5) for _ in range(50)) <= 0.5


# --- LeasedLocker over an in-memory backend ---------------------------------------------------------------


class MemoryLeases:
    """A LeaseBackend applying the rules to a dict, with knobs to make renewals fail."""

    where = "memory"

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.records: dict[str, Lease] = {}
        self.renewals = 0
        self.renew_error: ShipyardError | None = None
        self._guard = threading.Lock()
        self._ids = iter(range(1_000_000))

    def try_acquire(self, name: str, shared: bool) -> str | None:
        with self._guard:
            try:
                granted = lease.acquire(self.records.get(name), name, shared=shared, now=time.monotonic(),
                                        ttl=self.ttl, new_id=f"id{next(self._ids)}")
            except LeaseRefusedError:
                return None
            self.records[name] = granted
            return granted.id

    def renew(self, name: str, lease_id: str) -> None:
        with self._guard:
            self.renewals += 1
            if self.renew_error is not None:
                raise self.renew_error
            try:
                self.records[name] = lease.renew(self.records.get(name), lease_id, now=time.monotonic(),
                                                 ttl=self.ttl)
            except LeaseRefusedError as err:
                raise LeaseLostError(name, self.where, err.reason) from None

    def release(self, name: str, lease_id: str) -> None:
        with self._guard:
            try:
                remaining = lease.release(self.records.get(name), lease_id)
            except LeaseRefusedError as err:
                raise LeaseLostError(name, self.where, err.reason) from None
            if remaining is None:
                del self.records[name]
            else:
                self.records[name] = remaining


FAST = LeaseTiming(ttl=0.6, renew=0.05, poll=0.02, first_poll=0.01)


def test_waiting_calls_on_wait_once_and_times_out_with_the_backend_named() -> None:
    backend = MemoryLeases(FAST.ttl)
    first, second = LeasedLocker(backend, FAST), LeasedLocker(backend, FAST)
    waits: list[str] = []
    with held(first, "n"):
        started = time.monotonic()
        with pytest.raises(LockTimeoutError, match="memory"):
            second.acquire("n", timeout=0.15, on_wait=waits.append)
        assert 0.15 <= time.monotonic() - started < 0.5
    assert waits == ["n"]
    handle = second.acquire("n", timeout=0, on_wait=waits.append)
    assert handle.waited_seconds == 0.0 and waits == ["n"]
    second.release(handle)


def test_a_held_lease_is_renewed_past_its_ttl_and_renewal_stops_at_release() -> None:
    backend = MemoryLeases(FAST.ttl)
    locker = LeasedLocker(backend, FAST)
    with held(locker, "n") as handle:
        time.sleep(FAST.ttl * 2)
        assert backend.try_acquire("n", False) is None
        locker.ensure_held(handle)
    assert "n" not in backend.records
    renewals = backend.renewals
    time.sleep(FAST.renew * 3)
    assert backend.renewals == renewals


def test_shared_holders_in_one_locker_share_one_renewal_and_each_release_counts() -> None:
    backend = MemoryLeases(FAST.ttl)
    locker = LeasedLocker(backend, FAST)
    one, two = locker.acquire("n", shared=True), locker.acquire("n", shared=True)
    assert backend.records["n"].holders == 2
    locker.release(one)
    time.sleep(FAST.ttl * 1.5)  # the remaining holder's renewal must still run
    assert backend.records["n"].holders == 1
    locker.release(two)
    assert "n" not in backend.records


def test_releasing_twice_or_a_foreign_handle_is_a_bug() -> None:
    backend = MemoryLeases(FAST.ttl)
    owner, other = LeasedLocker(backend, FAST), LeasedLocker(backend, FAST)
    handle = owner.acquire("n")
    with pytest.raises(RuntimeError, match="not held"):
        other.release(handle)
    assert backend.try_acquire("n", False) is None  # still held by its owner
    owner.release(handle)
    with pytest.raises(RuntimeError, match="released twice"):
        owner.release(handle)


def test_a_lease_taken_over_is_reported_by_ensure_held_and_release() -> None:
    backend = MemoryLeases(FAST.ttl)
    locker = LeasedLocker(backend, FAST)
    handle = locker.acquire("n")
    backend.records["n"] = Lease("n", "intruder", expire_at=time.monotonic() + 60)
    time.sleep(FAST.renew * 4)
    with pytest.raises(LeaseLostError, match="lock already leased"):
        locker.ensure_held(handle)
    with pytest.raises(LeaseLostError, match="lost the lock 'n' on memory"):
        locker.release(handle)


def test_renewal_failing_for_a_whole_ttl_gives_the_lease_up() -> None:
    backend = MemoryLeases(FAST.ttl)
    locker = LeasedLocker(backend, FAST)
    handle = locker.acquire("n")
    backend.renew_error = ShipyardError("server unreachable")
    time.sleep(FAST.renew * 2)
    locker.ensure_held(handle)  # transient trouble: not lost yet
    time.sleep(FAST.ttl + FAST.renew * 2)
    with pytest.raises(LeaseLostError, match=r"not renewed for 0\.6s"):
        locker.ensure_held(handle)
    # Nobody took the lock meanwhile, so the release succeeds: exclusion was never broken.
    backend.renew_error = None
    locker.release(handle)


# --- the lock server's in-memory store ---------------------------------------------------------------


def test_the_server_store_applies_the_rules_and_sweeps_expired_leases_and_idle_clients() -> None:
    from shipyard.locks.server import LockService, LockStore

    now = [100.0]
    store = LockStore(ttl=TTL, clock=lambda: now[0])
    granted = store.acquire("a", shared=False)
    store.acquire("b", shared=False)
    assert refused(store.acquire, "a", False) == SHOULD_WAIT
    now[0] = 108.0
    store.renew("a", granted.id)
    now[0] = 112.0
    store.sweep()
    assert len(store) == 1  # "b" expired, "a" was renewed
    store.release("a", granted.id)
    assert len(store) == 0

    service = LockService(ttl=TTL, clock=lambda: now[0])
    service.store("c1").acquire("a", shared=False)
    service.store("c2")
    service.sweep()
    assert service.client_ids == ["c1"]
    now[0] = 200.0
    service.sweep()
    assert service.client_ids == []
