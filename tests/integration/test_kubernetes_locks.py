"""KubernetesLocker (ConfigMap annotations, werf-internals §5.5) against the fake API server of
tests/support/fake_kubernetes.py: no real cluster can run here, so this proves the protocol as the Kubernetes
API documents it, not compatibility with a real API server."""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shipyard.errors import ShipyardError
from shipyard.locks import held
from shipyard.locks.kubeconfig import parse_address
from shipyard.locks.kubernetes import ConfigMapLeases, KubernetesApi, KubernetesLocker
from shipyard.locks.lease import Lease, LeaseTiming
from support import require_tools
from support.fake_kubernetes import FakeKubernetes, kubeconfig_yaml, running_fake_kubernetes
from support.lock_services import free_port

TOKEN = "s3cr3t-token"
TIMING = LeaseTiming(ttl=1.5, renew=0.25, poll=0.05, first_poll=0.02)
DIGEST = "6f40fd07cdb62e03d7238e1fccb3341379bcd677ff6d7575317f3783"
NAME = f"demo.{DIGEST}"
KEY = "lockgate.io/" + hashlib.sha3_224(f"demo/stage/{DIGEST}".encode()).hexdigest()


@pytest.fixture(scope="module")
def kube() -> Iterator[FakeKubernetes]:
    with running_fake_kubernetes(token=TOKEN) as server:
        yield server


@pytest.fixture
def namespace() -> str:
    return f"t{secrets.token_hex(4)}"


@pytest.fixture
def address(kube: FakeKubernetes, namespace: str, tmp_path: Path) -> str:
    config = tmp_path / "kubeconfig"
    config.write_text(kubeconfig_yaml(kube.url, token=TOKEN))
    return f"kubernetes://{namespace}@{config}"


def make(address: str, **options: object) -> KubernetesLocker:
    settings: dict[str, object] = {"timing": TIMING, "conflict_retry": 0.02, "retries": 2,
                                   "retry_delay": 0.02}
    return KubernetesLocker(address, "demo", **(settings | options))  # type: ignore[arg-type]


def test_the_first_lock_creates_the_namespace_and_configmap_and_keeps_werfs_record(
        kube: FakeKubernetes, address: str, namespace: str) -> None:
    assert namespace not in kube.namespaces
    locker = make(address)
    with held(locker, NAME) as handle:
        assert namespace in kube.namespaces and (namespace, "werf-demo") in kube.configmaps
        annotations = kube.annotations(namespace, "werf-demo")
        assert list(annotations) == [KEY]
        record = json.loads(annotations[KEY])
        assert record["lockName"] == f"demo/stage/{DIGEST}" and record["SharedHoldersCount"] == 1
        assert record["IsShared"] is False and isinstance(record["ExpireAtTimestamp"], int)
        assert record["ExpireAtTimestamp"] >= record["ExpireAtMillis"] / 1000 > time.time()
        locker.ensure_held(handle)
    assert kube.annotations(namespace, "werf-demo") == {}
    locker.close()


def write_annotation(kube: FakeKubernetes, namespace: str, key: str, value: str) -> None:
    """What another program (werf) does: read the ConfigMap, add an annotation, PUT it back."""
    with httpx.Client(base_url=kube.url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        path = f"/api/v1/namespaces/{namespace}/configmaps/werf-demo"
        document = api.get(path).json()
        document["metadata"].setdefault("annotations", {})[key] = value
        assert api.put(path, json=document).status_code == 200


def test_a_lease_written_by_werf_holds_until_its_whole_second_expiry(
        kube: FakeKubernetes, address: str, namespace: str) -> None:
    locker = make(address)
    locker.release(locker.acquire("demo.warm-up"))  # creates the ConfigMap
    expiry = int(time.time()) + 2
    werf_record = {"uuid": "werf-lease", "lockName": f"demo/stage/{DIGEST}", "ExpireAtTimestamp": expiry,
                   "SharedHoldersCount": 1, "IsShared": False}
    write_annotation(kube, namespace, KEY, json.dumps(werf_record))
    handle = locker.acquire(NAME, timeout=5)
    assert time.time() > expiry  # lockgate: expired only strictly after ExpireAtTimestamp
    assert json.loads(kube.annotations(namespace, "werf-demo")[KEY])["uuid"] != "werf-lease"
    locker.release(handle)
    locker.close()


def test_writers_of_different_locks_in_one_configmap_conflict_retry_and_lose_nothing(
        kube: FakeKubernetes, address: str, namespace: str) -> None:
    lockers = [make(address) for _ in range(10)]
    lockers[0].release(lockers[0].acquire("demo.warm-up"))
    conflicts_before = kube.conflicts
    start = threading.Barrier(len(lockers))
    handles: dict[str, object] = {}

    def take(index: int) -> None:
        start.wait(timeout=10)
        handles[f"demo.d{index}"] = lockers[index].acquire(f"demo.d{index}", timeout=20)

    threads = [threading.Thread(target=take, args=(index,)) for index in range(len(lockers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(handles) == 10 and kube.conflicts > conflicts_before  # whole-object PUTs did collide
    stored = kube.annotations(namespace, "werf-demo")
    assert len(stored) == 10  # and every retry re-read the others' annotations instead of overwriting them
    for index, locker in enumerate(lockers):
        record = locker.leases.record(f"demo.d{index}")
        assert record is not None and record.lock_name == f"demo/stage/d{index}"
        locker.release(handles[f"demo.d{index}"])  # type: ignore[arg-type]
        locker.close()
    assert kube.annotations(namespace, "werf-demo") == {}


def test_a_conflict_waits_the_conflict_period_then_rereads(kube: FakeKubernetes, address: str) -> None:
    api = KubernetesApi(make(address).api._load_access)
    other = make(address)
    other.release(other.acquire("demo.warm-up"))
    sleeps: list[float] = []
    interfered: list[bool] = []

    def clock() -> float:  # called between the read and the write: another builder writes right then
        if not interfered:
            interfered.append(True)
            other.release(other.acquire("demo.someone-else"))
        return time.time()

    leases = ConfigMapLeases(api, parse_address(address), "demo", ttl=10, clock=clock, sleep=sleeps.append)
    lease_id = leases.try_acquire(NAME, False)
    assert lease_id is not None and leases.conflicts == 1
    assert sleeps == [1.0]  # werf's DistributedOptimisticLockingRetryPeriodSeconds
    leases.release(NAME, lease_id)
    api.close()
    other.close()


def test_a_write_whose_reply_was_lost_is_recognised_as_ours(
        kube: FakeKubernetes, address: str, namespace: str) -> None:
    locker = make(address)
    locker.release(locker.acquire("demo.warm-up"))
    kube.lose_next_replies(1)  # the PUT is applied, its answer is a 503: retried, then 409, then re-read
    lease_id = locker.leases.try_acquire(NAME, False)
    record = locker.leases.record(NAME)
    assert lease_id is not None and record is not None and record.id == lease_id
    kube.lose_next_replies(1)
    locker.leases.release(NAME, lease_id)  # applied, then "no existing lease" on the retry: released
    assert kube.annotations(namespace, "werf-demo") == {}
    locker.close()


def test_records_expired_for_over_an_hour_are_pruned_and_recent_ones_kept(
        kube: FakeKubernetes, address: str, namespace: str) -> None:
    locker = make(address)
    locker.release(locker.acquire("demo.warm-up"))
    now = time.time()
    stale = Lease("demo.crashed-long-ago", "x", expire_at=now - 7200).to_json()
    recent = Lease("demo.crashed-just-now", "y", expire_at=now - 60).to_json()
    write_annotation(kube, namespace, "lockgate.io/stale", stale)
    write_annotation(kube, namespace, "lockgate.io/recent", recent)
    write_annotation(kube, namespace, "example.com/unrelated", "kept")
    locker.release(locker.acquire(NAME))
    assert set(kube.annotations(namespace, "werf-demo")) == {"lockgate.io/recent", "example.com/unrelated"}
    locker.close()


def test_a_deleted_configmap_is_made_again(kube: FakeKubernetes, address: str, namespace: str) -> None:
    locker = make(address)
    locker.release(locker.acquire("demo.warm-up"))
    with kube._guard:
        del kube.configmaps[(namespace, "werf-demo")]
    with held(locker, NAME):
        assert KEY in kube.annotations(namespace, "werf-demo")
    locker.close()


def test_a_wrong_token_is_refused_with_a_hint_and_without_the_token(kube: FakeKubernetes,
                                                                    tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(kubeconfig_yaml(kube.url, token="wrong-token-value"))
    locker = make(f"kubernetes://ns@{config}")
    with pytest.raises(ShipyardError, match="refused the credentials") as caught:
        locker.acquire(NAME, timeout=0)
    assert caught.value.hint and "wrong-token-value" not in caught.value.render()
    locker.close()


def test_an_unreachable_api_is_named_after_bounded_retries(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    server = f"http://127.0.0.1:{free_port()}"
    config.write_text(kubeconfig_yaml(server))
    locker = make(f"kubernetes://ns@{config}")
    started = time.monotonic()
    with pytest.raises(ShipyardError, match=f"the Kubernetes API {server} is unreachable.*failed 3 times"):
        locker.acquire(NAME)
    assert time.monotonic() - started < 2
    locker.close()


def test_transient_server_errors_are_retried(kube: FakeKubernetes, address: str) -> None:
    locker = make(address)
    kube.fail_next(2, 503)
    locker.release(locker.acquire(NAME, timeout=5))
    locker.close()


# --- TLS: certificate authority data and a client certificate ---------------------------------------------


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_certificates(directory: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA."""
    key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *key, "-days", "1", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=fake-ca",
            cwd=directory)
    (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, subject in (("server", "/CN=127.0.0.1"), ("client", "/CN=shipyard/O=builders")):
        openssl("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=directory)
        extra = ("-extfile", "server.ext") if name == "server" else ()
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "1", "-out", f"{name}.crt", *extra, cwd=directory)


def test_tls_with_ca_data_and_a_client_certificate(tmp_path: Path) -> None:
    import base64
    import ssl

    require_tools("openssl")
    make_certificates(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(tmp_path / "ca.crt"))
    server_tls.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    server_tls.verify_mode = ssl.CERT_REQUIRED

    def data(name: str) -> str:
        return base64.b64encode((tmp_path / name).read_bytes()).decode()

    with running_fake_kubernetes(ssl_context=server_tls) as kube:
        config = tmp_path / "kubeconfig"
        config.write_text(kubeconfig_yaml(
            kube.url, extra_cluster={"certificate-authority-data": data("ca.crt")},
            extra_user={"client-certificate-data": data("client.crt"), "client-key": "client.key"}))
        locker = make(f"kubernetes://ns@{config}")
        locker.release(locker.acquire(NAME, timeout=5))
        locker.close()
        assert ("ns", "werf-demo") in kube.configmaps

        config.write_text(kubeconfig_yaml(kube.url, extra_user={"client-certificate-data": data("client.crt"),
                                                                "client-key": "client.key"}))
        untrusting = make(f"kubernetes://ns@{config}")
        with pytest.raises(ShipyardError, match=r"unreachable.*CERTIFICATE_VERIFY_FAILED"):
            untrusting.acquire(NAME, timeout=0)
        untrusting.close()
