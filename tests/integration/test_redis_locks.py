"""RedisLocker against a real redis-server: the stored record, owner-only renew/release, Redis-side expiry,
lost leases and an unreachable server."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.errors import ShipyardError
from shipyard.locks import held
from shipyard.locks.lease import LeaseLostError, LeaseTiming
from shipyard.locks.redis import RedisLeases, RedisLocker, project_prefix
from support.lock_services import RedisServer, free_port, running_redis

TIMING = LeaseTiming(ttl=1.0, renew=0.2, poll=0.05, first_poll=0.01)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def prefix() -> str:
    return project_prefix(f"t{secrets.token_hex(4)}")


@pytest.fixture
def locker(redis_server: RedisServer, prefix: str) -> Iterator[RedisLocker]:
    made = RedisLocker(redis_server.url, prefix=prefix, timing=TIMING)
    yield made
    made.close()


def test_the_key_holds_a_lockgate_record_and_expires_with_its_lease(
        redis_server: RedisServer, locker: RedisLocker, prefix: str) -> None:
    with held(locker, "demo.d1"):
        key = prefix + "demo.d1"
        assert key.startswith("shipyard:") and ":locks:" in key
        record = locker.leases.record("demo.d1")
        assert record is not None and (record.holders, record.shared) == (1, False)
        raw = redis_server.command("GET", key).split(b"\r\n")[1]
        fields = {"uuid", "lockName", "ExpireAtTimestamp", "SharedHoldersCount", "IsShared"}
        assert set(json.loads(raw)) >= fields
        pttl = int(redis_server.command("PTTL", key).strip()[1:])
        assert 0 < pttl <= (TIMING.ttl + 1.0) * 1000
    assert locker.leases.record("demo.d1") is None


def test_only_the_owner_renews_or_releases(redis_server: RedisServer, prefix: str) -> None:
    leases = RedisLeases(redis_server.url, prefix=prefix, ttl=5)
    lease_id = leases.try_acquire("demo.owned", False)
    assert lease_id is not None
    assert leases.try_acquire("demo.owned", False) is None
    with pytest.raises(LeaseLostError, match="lock already leased"):
        leases.renew("demo.owned", "not-the-owner")
    with pytest.raises(LeaseLostError, match="lock already leased"):
        leases.release("demo.owned", "not-the-owner")
    leases.renew("demo.owned", lease_id)
    leases.release("demo.owned", lease_id)
    with pytest.raises(LeaseLostError, match="no existing lock lease found"):
        leases.release("demo.owned", lease_id)
    leases.close()


def test_an_unrenewed_lease_expires_on_the_redis_clock(redis_server: RedisServer, prefix: str) -> None:
    leases = RedisLeases(redis_server.url, prefix=prefix, ttl=0.4)
    abandoned = leases.try_acquire("demo.abandoned", False)
    assert abandoned is not None
    assert leases.try_acquire("demo.abandoned", False) is None
    time.sleep(0.5)
    taken = leases.try_acquire("demo.abandoned", False)
    assert taken is not None and taken != abandoned
    leases.close()


def test_shared_holders_share_a_lease_and_exclusive_waits_for_all(locker: RedisLocker, prefix: str) -> None:
    first, second = locker.acquire("demo.s", shared=True), locker.acquire("demo.s", shared=True)
    record = locker.leases.record("demo.s")
    assert record is not None and (record.holders, record.shared) == (2, True)
    assert locker.leases.try_acquire("demo.s", False) is None
    locker.release(first)
    assert locker.leases.try_acquire("demo.s", False) is None
    locker.release(second)
    assert locker.leases.record("demo.s") is None


def test_a_deleted_lease_is_noticed_by_renewal_and_reported_at_release(
        redis_server: RedisServer, locker: RedisLocker, prefix: str) -> None:
    handle = locker.acquire("demo.lost")
    redis_server.command("DEL", prefix + "demo.lost")
    time.sleep(TIMING.renew * 3)
    with pytest.raises(LeaseLostError, match="no existing lock lease found"):
        locker.ensure_held(handle)
    with pytest.raises(LeaseLostError, match=r"lost the lock 'demo.lost' on redis redis://127\.0\.0\.1"):
        locker.release(handle)


def test_an_unreachable_redis_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    locker = RedisLocker(url, timing=TIMING, retries=1, retry_delay=0.01, socket_timeout=1)
    started = time.monotonic()
    with pytest.raises(ShipyardError) as caught:
        locker.acquire("demo.x")
    assert time.monotonic() - started < 3
    assert "is unreachable" in caught.value.message and "127.0.0.1" in caught.value.message
    assert "hunter2" not in caught.value.render()
