"""The Locker contract (locks/base.py) kept by every locker: file (flock), HTTP (a real `shipyard
synchronization` process), Redis (a real redis-server) and Kubernetes (ConfigMap annotations on the fake API
server of tests/support/fake_kubernetes.py: no real cluster runs here). Leased lockers run with a short TTL
(1-1.5 s) so that expiry is observable within the test budget; the rules are the same as with werf's 10 s."""

from __future__ import annotations

import dataclasses
import itertools
import secrets
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shipyard.locks import Locker, LockTimeoutError, held
from shipyard.locks.lease import LeaseTiming
from support.fake_kubernetes import FakeKubernetes, kubeconfig_yaml, running_fake_kubernetes
from support.lock_services import (
    LockServer,
    RedisServer,
    locker_from_spec,
    running_lock_server,
    running_redis,
    start_holder,
    stop,
)

NAME = "demo-app.6f40fd07cdb62e03d7238e1fccb3341379bcd677ff6d7575317f3783"
HTTP_TIMING = LeaseTiming(ttl=1.5, renew=0.25, poll=0.05, first_poll=0.05)
REDIS_TIMING = LeaseTiming(ttl=1.0, renew=0.2, poll=0.05, first_poll=0.01)
KUBE_TIMING = LeaseTiming(ttl=1.5, renew=0.25, poll=0.05, first_poll=0.02)
KUBE_TOKEN = "contract-token"
SLACK = 0.75  # scheduling noise on a busy 2-core CI machine


@dataclasses.dataclass
class Kind:
    name: str
    spec: dict[str, Any]
    dead_holder_blocks: float  # the longest a SIGKILLed holder may keep the lock: TTL + one poll
    poll: float
    made: list[Any] = dataclasses.field(default_factory=list)

    def make(self) -> Locker:
        locker: Locker = locker_from_spec(self.spec)
        self.made.append(locker)
        return locker

    def close(self) -> None:
        for locker in self.made:
            if hasattr(locker, "close"):
                locker.close()


@pytest.fixture(scope="module")
def lock_server() -> Iterator[LockServer]:
    with running_lock_server(lease_ttl=HTTP_TIMING.ttl) as server:
        yield server


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def fake_kubernetes() -> Iterator[FakeKubernetes]:
    with running_fake_kubernetes(token=KUBE_TOKEN) as server:
        yield server


@pytest.fixture(params=["file", "http", "redis", "kubernetes"])
def kind(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Kind]:
    spec: dict[str, Any] = {"kind": request.param, "name": NAME}
    if request.param == "file":
        spec["locks_dir"] = str(tmp_path / "locks")
        made = Kind("file", spec, dead_holder_blocks=0.0, poll=0.05)
    elif request.param == "http":
        server: LockServer = request.getfixturevalue("lock_server")
        spec |= {"url": server.url, "client_id": str(uuid.uuid4()), "timing": dataclasses.asdict(HTTP_TIMING)}
        made = Kind("http", spec, HTTP_TIMING.ttl + HTTP_TIMING.poll, HTTP_TIMING.poll)
    elif request.param == "kubernetes":
        kube: FakeKubernetes = request.getfixturevalue("fake_kubernetes")
        config = tmp_path / "kubeconfig"
        config.write_text(kubeconfig_yaml(kube.url, token=KUBE_TOKEN))
        namespace = f"t{secrets.token_hex(4)}"  # a fresh namespace: the locker creates it and the ConfigMap
        spec |= {"address": f"kubernetes://{namespace}@{config}", "project": NAME.split(".")[0],
                 "timing": dataclasses.asdict(KUBE_TIMING), "conflict_retry": 0.02}
        made = Kind("kubernetes", spec, KUBE_TIMING.ttl + KUBE_TIMING.poll, KUBE_TIMING.poll)
    else:
        redis: RedisServer = request.getfixturevalue("redis_server")
        spec |= {"url": redis.url, "prefix": f"shipyard:t{secrets.token_hex(4)}:locks:",
                 "timing": dataclasses.asdict(REDIS_TIMING)}
        made = Kind("redis", spec, REDIS_TIMING.ttl + REDIS_TIMING.poll, REDIS_TIMING.poll)
    yield made
    made.close()


def test_twenty_concurrent_acquirers_never_overlap(kind: Kind) -> None:
    lockers = [kind.make() for _ in range(20)]
    start = threading.Barrier(len(lockers))
    guard = threading.Lock()
    state = {"inside": 0, "most_inside": 0, "counter": 0}
    intervals: list[tuple[float, float]] = []
    errors: list[BaseException] = []

    def contend(locker: Locker) -> None:
        try:
            start.wait(timeout=10)
            with held(locker, NAME, timeout=30):
                entered = time.monotonic()
                with guard:
                    state["inside"] += 1
                    state["most_inside"] = max(state["most_inside"], state["inside"])
                value = state["counter"]  # a read-modify-write that only exclusion keeps correct
                time.sleep(0.005)
                state["counter"] = value + 1
                with guard:
                    state["inside"] -= 1
                intervals.append((entered, time.monotonic()))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=contend, args=(locker,)) for locker in lockers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert state["counter"] == 20 and state["most_inside"] == 1
    ordered = sorted(intervals)
    assert all(left[1] <= right[0] for left, right in itertools.pairwise(ordered))


def test_shared_holders_overlap_and_an_exclusive_one_waits_for_all_of_them(kind: Kind) -> None:
    first, second, writer = kind.make(), kind.make(), kind.make()
    reader_one = first.acquire(NAME, shared=True, timeout=0)
    reader_two = second.acquire(NAME, shared=True, timeout=0)  # no waiting: readers share
    waits: list[str] = []
    acquired = threading.Event()

    def write() -> None:
        with held(writer, NAME, timeout=10, on_wait=waits.append):
            acquired.set()

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.3)
    assert not acquired.is_set() and waits == [NAME]
    first.release(reader_one)
    time.sleep(0.2)
    assert not acquired.is_set()
    second.release(reader_two)
    assert acquired.wait(timeout=kind.poll + SLACK)
    thread.join(timeout=10)
    assert waits == [NAME]


def test_a_busy_lock_times_out_after_the_given_wait(kind: Kind) -> None:
    owner, other = kind.make(), kind.make()
    waits: list[str] = []
    with held(owner, NAME):
        started = time.monotonic()
        with pytest.raises(LockTimeoutError) as caught:
            other.acquire(NAME, timeout=0.3, on_wait=waits.append)
        elapsed = time.monotonic() - started
        assert 0.3 <= elapsed < 0.3 + kind.poll + SLACK
        assert caught.value.lock_name == NAME and waits == [NAME]
        with pytest.raises(LockTimeoutError):
            other.acquire(NAME, timeout=0)
    handle = other.acquire(NAME, timeout=0)
    assert handle.waited_seconds == 0.0
    other.release(handle)


def test_only_the_owner_releases_and_only_once(kind: Kind) -> None:
    owner, other = kind.make(), kind.make()
    handle = owner.acquire(NAME)
    with pytest.raises(RuntimeError):
        other.release(handle)
    with pytest.raises(LockTimeoutError):
        other.acquire(NAME, timeout=0)  # the refused release left the lock held
    owner.release(handle)
    with pytest.raises(RuntimeError):
        owner.release(handle)


def test_a_lease_is_kept_past_its_ttl_while_the_holder_lives(kind: Kind) -> None:
    owner, other = kind.make(), kind.make()
    hold = max(kind.dead_holder_blocks * 1.6, 0.2)
    with held(owner, NAME):
        time.sleep(hold)
        with pytest.raises(LockTimeoutError):
            other.acquire(NAME, timeout=0)
    other.release(other.acquire(NAME, timeout=0))


def test_a_holder_killed_with_sigkill_frees_the_lock_within_its_lease(kind: Kind) -> None:
    process = start_holder(kind.spec)
    try:
        waiter = kind.make()
        with pytest.raises(LockTimeoutError):
            waiter.acquire(NAME, timeout=0)
        killed = time.monotonic()
        stop(process, signal.SIGKILL)
        handle = waiter.acquire(NAME, timeout=kind.dead_holder_blocks + 10)
        freed_after = time.monotonic() - killed
        waiter.release(handle)
        assert freed_after <= kind.dead_holder_blocks + SLACK
    finally:
        stop(process, signal.SIGKILL)
