"""`shipyard synchronization` as a real server process, driven through werf's HTTP API (werf-internals
§5.4) with httpx, then through HttpLocker: client-id discovery in a real registry, lost leases, unreachable
server; `--token` (bearer authentication) and `--redis` (replicas sharing leases in one redis-server)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shipyard.errors import ShipyardError
from shipyard.locks import LockTimeoutError, held
from shipyard.locks.http import HttpLocker, client_id_tag, parse_client_id_tag, werf_timestamp
from shipyard.locks.lease import LeaseLostError, LeaseTiming
from shipyard.locks.select import RegistryClientIdRecords
from shipyard.registry.client import RegistryClient
from shipyard.registry.meta_image import push_meta_image
from support.lock_services import (
    LockServer,
    RedisServer,
    free_port,
    launch_lock_server,
    running_lock_server,
    running_redis,
    stop,
)

LEASE_TTL = 1.5
TIMING = LeaseTiming(ttl=LEASE_TTL, renew=0.25, poll=0.05, first_poll=0.05)


@pytest.fixture(scope="module")
def server() -> Iterator[LockServer]:
    with running_lock_server(lease_ttl=LEASE_TTL) as running:
        yield running


@pytest.fixture
def api(server: LockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, trust_env=False, timeout=5) as client:
        yield client


def post(api: httpx.Client, path: str, body: Any) -> dict[str, Any]:
    response = api.post(path, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def acquire(api: httpx.Client, client: str, name: str, shared: bool = False) -> dict[str, Any]:
    return post(api, f"/{client}/locker/acquire", {"lockName": name, "opts": {"shared": shared}})


def handle_call(api: httpx.Client, client: str, operation: str, name: str, lease_id: str) -> str:
    answer = post(api, f"/{client}/locker/{operation}", {"lockHandle": {"uuid": lease_id, "lockName": name}})
    assert set(answer) == {"err"}
    return str(answer["err"])


def new_client(api: httpx.Client) -> str:
    return str(post(api, "/new-client-id", {})["clientID"])


# --- the API ---------------------------------------------------------------------------------------


def test_health_echoes_and_the_landing_page_is_html(api: httpx.Client) -> None:
    assert post(api, "/health", {"echo": "ping-42"}) == {"err": "", "echo": "ping-42", "status": "OK"}
    assert api.get("/health").json() == {"err": "", "echo": "", "status": "OK"}
    landing = api.get("/")
    assert landing.status_code == 200 and landing.headers["content-type"].startswith("text/html")
    assert "synchronization" in landing.text


def test_new_client_ids_are_fresh_uuid4s(api: httpx.Client) -> None:
    answers = [post(api, "/new-client-id", {}) for _ in range(3)]
    assert all(set(answer) == {"err", "clientID"} and answer["err"] == "" for answer in answers)
    ids = [uuid.UUID(answer["clientID"]) for answer in answers]
    assert len(set(ids)) == 3 and all(parsed.version == 4 for parsed in ids)


def test_exclusive_lock_cycle_with_werfs_error_strings(api: httpx.Client) -> None:
    client, name = new_client(api), "demo.0123abcd"
    granted = acquire(api, client, name)
    assert granted["err"] == "" and granted["lockHandle"]["lockName"] == name
    lease_id = granted["lockHandle"]["uuid"]
    assert acquire(api, client, name) == {"lockHandle": {"uuid": "", "lockName": ""}, "err": "should wait"}
    assert acquire(api, client, name, shared=True)["err"] == "should wait"
    assert handle_call(api, client, "renew-lease", name, lease_id) == ""
    assert handle_call(api, client, "release", name, "someone-else") == "lock already leased"
    assert handle_call(api, client, "renew-lease", name, "someone-else") == "lock already leased"
    assert handle_call(api, client, "release", name, lease_id) == ""
    assert handle_call(api, client, "release", name, lease_id) == "no existing lock lease found"
    assert handle_call(api, client, "renew-lease", name, lease_id) == "no existing lock lease found"
    assert acquire(api, client, name)["err"] == ""


def test_shared_holders_share_one_lease_until_the_last_release(api: httpx.Client) -> None:
    client, name = new_client(api), "demo.shared"
    first, second = acquire(api, client, name, shared=True), acquire(api, client, name, shared=True)
    assert first["err"] == second["err"] == ""
    lease_id = first["lockHandle"]["uuid"]
    assert second["lockHandle"]["uuid"] == lease_id
    assert acquire(api, client, name)["err"] == "should wait"
    assert handle_call(api, client, "release", name, lease_id) == ""
    assert acquire(api, client, name)["err"] == "should wait"
    assert handle_call(api, client, "release", name, lease_id) == ""
    assert acquire(api, client, name)["err"] == ""


def test_each_client_id_has_its_own_locks(api: httpx.Client) -> None:
    name = "demo.same-name"
    assert acquire(api, new_client(api), name)["err"] == ""
    assert acquire(api, new_client(api), name)["err"] == ""


def test_a_lease_nobody_renews_expires_and_a_renewed_one_does_not(api: httpx.Client) -> None:
    client = new_client(api)
    abandoned = acquire(api, client, "demo.abandoned")["lockHandle"]["uuid"]
    kept = acquire(api, client, "demo.kept")["lockHandle"]["uuid"]
    deadline = time.monotonic() + LEASE_TTL + 0.5
    while time.monotonic() < deadline:
        assert handle_call(api, client, "renew-lease", "demo.kept", kept) == ""
        time.sleep(0.2)
    assert acquire(api, client, "demo.kept")["err"] == "should wait"
    taken = acquire(api, client, "demo.abandoned")
    assert taken["err"] == "" and taken["lockHandle"]["uuid"] != abandoned
    assert handle_call(api, client, "release", "demo.abandoned", abandoned) == "lock already leased"


@pytest.mark.parametrize(("method", "path", "body", "status", "fragment"), [
    ("POST", "/c/locker/acquire", b"{not json", 400, "unable to unmarshal request json"),
    ("POST", "/c/locker/acquire", b"[]", 400, "JSON object"),
    ("POST", "/c/locker/acquire", b'{"lockName": ""}', 400, "lockName"),
    ("POST", "/c/locker/acquire", b'{"lockName": "a\\u0000b"}', 400, "lockName"),
    ("POST", "/c/locker/acquire", b'{"lockName": "n", "opts": {"shared": "yes"}}', 400, "shared"),
    ("POST", "/c/locker/release", b'{"lockHandle": "x"}', 400, "lockHandle"),
    ("POST", "/c/locker/release", b'{"lockHandle": {"lockName": "n"}}', 400, "uuid"),
    ("POST", "/bad%20id/locker/acquire", b'{"lockName": "n"}', 400, "clientID"),
    ("GET", "/c/locker/acquire", b"", 405, "405"),
    ("POST", "/c/locker/steal", b"{}", 404, "404"),
    ("POST", "/c/locker/acquire", b'{"lockName": "' + b"n" * 70_000 + b'"}', 413, "413"),
])
def test_malformed_requests_get_a_4xx_with_a_json_err(api: httpx.Client, method: str, path: str, body: bytes,
                                                     status: int, fragment: str) -> None:
    response = api.request(method, path, content=body)
    assert response.status_code == status
    assert fragment in response.json()["err"]


# --- the process -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_server_shuts_down_gracefully_on_a_signal(sig: int) -> None:
    server = launch_lock_server(lease_ttl=LEASE_TTL)
    with httpx.Client(base_url=server.url, trust_env=False) as api:
        assert post(api, "/health", {})["status"] == "OK"
    started = time.monotonic()
    assert stop(server.process, sig) == 0
    assert time.monotonic() - started < 5
    time.sleep(0.1)  # let the drain thread read the last line
    assert any("stopping" in line for line in server.output)


def test_a_taken_port_is_a_clear_error(server: LockServer) -> None:
    done = subprocess.run([sys.executable, "-m", "shipyard", "synchronization", "--host", "127.0.0.1",
                           "--port", str(server.port)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{server.port}" in done.stderr and "hint:" in done.stderr


# --- HttpLocker against it -------------------------------------------------------------------------------


def test_an_unreachable_server_is_named_in_the_error_after_bounded_retries() -> None:
    with running_lock_server(lease_ttl=LEASE_TTL) as gone:
        url = gone.url
    locker = HttpLocker(url, "c1", timing=TIMING, retries=2, retry_delay=0.05)
    started = time.monotonic()
    with pytest.raises(ShipyardError) as caught:
        locker.acquire("demo.x")
    assert time.monotonic() - started < 2
    assert f"lock server {url} is unreachable" in caught.value.message
    assert "failed 3 times" in caught.value.message
    assert caught.value.hint is not None and "shipyard synchronization" in caught.value.hint


def test_a_restarted_server_forgets_leases_and_the_holder_learns_it_lost_its_lock() -> None:
    first = launch_lock_server(lease_ttl=LEASE_TTL)
    try:
        locker = HttpLocker(first.url, "c1", timing=TIMING, retries=8, retry_delay=0.05)
        handle = locker.acquire("demo.lost")
        stop(first.process)
        second = launch_lock_server(lease_ttl=LEASE_TTL, port=first.port)
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    locker.ensure_held(handle)
                except LeaseLostError as lost:
                    assert "no existing lock lease found" in lost.message
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the lost lease was never noticed")
            with pytest.raises(LeaseLostError, match=r"lost the lock 'demo\.lost'"):
                locker.release(handle)
        finally:
            stop(second.process)
    finally:
        stop(first.process)
        locker.close()


def test_client_id_discovery_creates_one_record_with_werfs_timestamp_and_reuses_the_oldest(
        server: LockServer, registry_repo: str) -> None:
    host, _, path = registry_repo.partition("/")
    with RegistryClient(host, insecure=True) as registry:
        records = RegistryClientIdRecords(lambda: registry, registry_repo, "demo")
        before_ns = time.time_ns()
        first = HttpLocker(server.url, records=records, timing=TIMING, settle_seconds=0.1)
        client_id = first.client_id
        assert uuid.UUID(client_id).version == 4
        tags = [tag for tag in registry.list_tags(path) if tag.startswith("client-id-")]
        assert len(tags) == 1
        parsed = parse_client_id_tag(tags[0])
        assert parsed is not None and parsed[0] == client_id
        # werf's quirk: seconds*1000 + epoch milliseconds, about twice epoch-ms
        assert werf_timestamp(before_ns) <= parsed[1] <= werf_timestamp(time.time_ns())
        assert parsed[1] > 1.99 * (before_ns // 1_000_000)
        manifest = registry.get_manifest(path, tags[0])
        config = registry.get_blob(path, manifest.document["config"]["digest"])
        assert b'"werf":"demo"' in config

        # A second builder adopts the record instead of making its own; an older record (werf's) wins.
        assert HttpLocker(server.url, records=records, timing=TIMING).client_id == client_id
        push_meta_image(registry, path, client_id_tag("werf-made-it", parsed[1] - 1), {"werf": "demo"})
        assert HttpLocker(server.url, records=records, timing=TIMING).client_id == "werf-made-it"
        handle = first.acquire("demo.stage")  # the discovered id works against the server
        first.release(handle)
        first.close()


# --- --token: a bearer token on every endpoint but the landing page and /health ----------------------------

TOKEN = "t0ken-Zq9-secret"


@pytest.fixture(scope="module")
def guarded() -> Iterator[LockServer]:
    with running_lock_server(lease_ttl=LEASE_TTL, env={"SHIPYARD_SYNCHRONIZATION_TOKEN": TOKEN}) as running:
        yield running


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer", TOKEN])
def test_a_missing_or_wrong_token_gets_a_json_401_everywhere_but_the_public_pages(
        guarded: LockServer, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with httpx.Client(base_url=guarded.url, trust_env=False, timeout=5, headers=headers) as api:
        assert api.get("/").status_code == 200
        assert api.get("/health").json()["status"] == "OK"
        assert api.post("/health", json={"echo": "x"}).json()["echo"] == "x"
        for path, body in (("/new-client-id", {}), ("/c1/locker/acquire", {"lockName": "n"}),
                           ("/c1/locker/release", {"lockHandle": {"uuid": "u", "lockName": "n"}}),
                           ("/c1/locker/steal", {})):
            refused = api.post(path, json=body)
            assert refused.status_code == 401, path
            assert "bearer token" in refused.json()["err"] and TOKEN not in refused.text
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_with_the_token_the_api_and_the_locker_work_and_the_token_is_never_shown(
        guarded: LockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with httpx.Client(base_url=guarded.url, trust_env=False, timeout=5,
                      headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        assert post(api, "/new-client-id", {})["err"] == ""
    address = guarded.url.replace("http://", f"http://:{TOKEN}@")
    from_url = HttpLocker(address, "c1", timing=TIMING, retries=1, retry_delay=0.01)
    with held(from_url, "demo.token") as handle:
        from_url.ensure_held(handle)
        assert from_url.server.url == guarded.url and TOKEN not in from_url.where
    monkeypatch.setenv("SHIPYARD_SYNCHRONIZATION_TOKEN", TOKEN)
    from_env = HttpLocker(guarded.url, "c1", timing=TIMING)
    from_env.release(from_env.acquire("demo.token", timeout=0))
    for locker in (from_url, from_env):
        locker.close()
    assert TOKEN not in guarded.announcement and "bearer token required" in guarded.announcement
    assert not any(TOKEN in line for line in guarded.output)


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_a_locker_without_the_right_token_fails_at_once_with_a_hint(
        guarded: LockServer, monkeypatch: pytest.MonkeyPatch, token: str | None) -> None:
    monkeypatch.delenv("SHIPYARD_SYNCHRONIZATION_TOKEN", raising=False)
    locker = HttpLocker(guarded.url, "c1", token=token, timing=TIMING, retries=3, retry_delay=0.5)
    started = time.monotonic()
    with pytest.raises(ShipyardError, match="HTTP 401") as caught:
        locker.acquire("demo.x")
    assert time.monotonic() - started < 1  # a 401 is not retried
    assert caught.value.hint is not None and "http://:TOKEN@" in caught.value.hint
    assert "not-the-token" not in caught.value.render()
    locker.close()


# --- --redis: replicas sharing leases ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def replicas(redis_server: RedisServer) -> Iterator[list[LockServer]]:
    with running_lock_server(lease_ttl=LEASE_TTL, extra=("--redis", redis_server.url)) as first, \
            running_lock_server(lease_ttl=LEASE_TTL, env={"SHIPYARD_SYNCHRONIZATION_REDIS": redis_server.url},
                                ) as second:
        yield [first, second]


def test_two_servers_on_one_redis_exclude_each_others_clients(
        replicas: list[LockServer], redis_server: RedisServer) -> None:
    assert all("leases in redis redis://127.0.0.1" in server.announcement for server in replicas)
    client = str(uuid.uuid4())
    one, two = (HttpLocker(server.url, client, timing=TIMING) for server in replicas)
    handle = one.acquire("demo.shared-by-replicas")
    with pytest.raises(LockTimeoutError):
        two.acquire("demo.shared-by-replicas", timeout=0.2)
    keys = redis_server.command("KEYS", f"shipyard:synchronization:{client}:*").decode()
    assert f"shipyard:synchronization:{client}:demo.shared-by-replicas" in keys
    other_client = HttpLocker(replicas[1].url, str(uuid.uuid4()), timing=TIMING)
    other_client.release(other_client.acquire("demo.shared-by-replicas", timeout=0))  # its own locks
    one.release(handle)
    two.release(two.acquire("demo.shared-by-replicas", timeout=0))
    for locker in (one, two, other_client):
        locker.close()


def test_contenders_spread_over_both_replicas_never_overlap(replicas: list[LockServer]) -> None:
    client, name = str(uuid.uuid4()), "demo.contended"
    lockers = [HttpLocker(replicas[index % 2].url, client, timing=TIMING) for index in range(10)]
    start, guard = threading.Barrier(len(lockers)), threading.Lock()
    state = {"inside": 0, "most": 0, "counter": 0}
    errors: list[BaseException] = []

    def contend(locker: HttpLocker) -> None:
        try:
            start.wait(timeout=10)
            with held(locker, name, timeout=30):
                with guard:
                    state["inside"] += 1
                    state["most"] = max(state["most"], state["inside"])
                value = state["counter"]
                time.sleep(0.005)
                state["counter"] = value + 1
                with guard:
                    state["inside"] -= 1
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=contend, args=(locker,)) for locker in lockers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and state == {"inside": 0, "most": 1, "counter": 10}


def test_a_lease_outlives_the_replica_that_granted_it_until_its_ttl(redis_server: RedisServer) -> None:
    first = launch_lock_server(lease_ttl=LEASE_TTL, extra=("--redis", redis_server.url))
    try:
        with running_lock_server(lease_ttl=LEASE_TTL, extra=("--redis", redis_server.url)) as second:
            client = str(uuid.uuid4())
            holder = HttpLocker(first.url, client, timing=TIMING, retries=0)
            waiter = HttpLocker(second.url, client, timing=TIMING)
            holder.acquire("demo.orphaned")
            stop(first.process, signal.SIGKILL)  # its holder can no longer renew
            killed = time.monotonic()
            with pytest.raises(LockTimeoutError):
                waiter.acquire("demo.orphaned", timeout=0)
            waiter.acquire("demo.orphaned", timeout=LEASE_TTL + 3)
            assert LEASE_TTL - 0.5 < time.monotonic() - killed < LEASE_TTL + 1.5
    finally:
        stop(first.process, signal.SIGKILL)


def test_redis_trouble_is_a_503_and_an_unreachable_redis_stops_the_start(tmp_path: Path) -> None:
    with running_redis(tmp_path / "redis") as redis:
        server = launch_lock_server(lease_ttl=LEASE_TTL, extra=("--redis", redis.url))
    try:  # redis is gone now
        with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as api:
            health = api.get("/health")
            assert health.status_code == 503 and health.json()["status"] == "ERROR"
            refused = api.post("/c1/locker/acquire", json={"lockName": "n"})
            assert refused.status_code == 503 and "lock store unavailable" in refused.json()["err"]
    finally:
        stop(server.process)
    done = subprocess.run([sys.executable, "-m", "shipyard", "synchronization", "--port", "0",
                           "--redis", f"redis://:hunter2@127.0.0.1:{free_port()}/0"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "does not answer" in done.stderr and "hunter2" not in done.stderr
