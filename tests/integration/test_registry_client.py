"""RegistryClient against the real distribution registry (Debian docker-registry 2.8): the session registry
(plain HTTP on loopback) and, for TLS + htpasswd, a registry this module starts itself."""

from __future__ import annotations

import json
import secrets
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from shipyard.registry.auth import Credentials, login
from shipyard.registry.client import DOCKER_MANIFEST, OCI_INDEX, RegistryClient, sha256_digest
from shipyard.registry.meta_image import push_meta_image
from shipyard.registry.reference import RegistryError, parse_repository
from support import require_tools

Registry = Any  # the conftest fixture object (conftest is not importable by name)
Connect = Callable[..., RegistryClient]
USER, PASSWORD = "builder", "s3cret-pass"


def repository_path(reference: str) -> str:
    return parse_repository(reference).path


@pytest.fixture
def client(registry: Registry) -> Iterator[RegistryClient]:
    # insecure=None on purpose: a loopback registry without TLS must be found over plain HTTP.
    with RegistryClient(registry.address, credentials=Credentials()) as registry_client:
        yield registry_client


def push_small_image(client: RegistryClient, repository: str, tag: str, layer: bytes) -> str:
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [sha256_digest(layer)]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                   "digest": client.upload_blob(repository, config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "size": len(layer),
                    "digest": client.upload_blob(repository, layer)}],
    }).encode()
    return client.put_manifest(repository, tag, manifest, DOCKER_MANIFEST)


def skopeo_inspect(*args: str) -> Any:
    require_tools("skopeo")
    command = ["skopeo", "inspect", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- plain HTTP registry -----------------------------------------------------------------------------

def test_push_list_head_get(client: RegistryClient, registry_repo: str) -> None:
    repository = repository_path(registry_repo)
    assert client.list_tags(repository) == []  # a repository nobody pushed to yet
    layer = secrets.token_bytes(2048)
    digest = push_small_image(client, repository, "v1", layer)
    client.put_manifest(repository, "v2", client.get_manifest(repository, "v1").raw, DOCKER_MANIFEST)
    assert sorted(client.list_tags(repository)) == ["v1", "v2"]
    info = client.head_manifest(repository, "v1")
    assert info is not None and (info.digest, info.media_type) == (digest, DOCKER_MANIFEST)
    manifest = client.get_manifest(repository, digest)
    assert manifest.digest == digest and manifest.document["layers"][0]["digest"] == sha256_digest(layer)
    assert client.head_manifest(repository, "missing") is None
    assert client.get_blob(repository, sha256_digest(layer)) == layer
    assert client.stats.blob_bytes_downloaded == len(layer)


def test_copy_to_another_repository_moves_no_blob_bytes(client: RegistryClient, registry_repo: str) -> None:
    source, target = repository_path(registry_repo), repository_path(registry_repo) + "-copy"
    digest = push_small_image(client, source, "v1", secrets.token_bytes(4096))
    uploaded = client.stats.blob_bytes_uploaded
    assert client.copy_image(source, "v1", target, "copied") == digest
    assert client.list_tags(target) == ["copied"]
    assert client.stats.blob_bytes_downloaded == 0 and client.stats.blob_bytes_uploaded == uploaded
    for blob in client.get_manifest(target, "copied").blob_digests():
        assert client.blob_exists(target, blob)


def test_copy_of_an_index_copies_every_platform(client: RegistryClient, registry_repo: str) -> None:
    source, target = repository_path(registry_repo), repository_path(registry_repo) + "-copy"
    entries: list[dict[str, Any]] = []
    for arch in ("amd64", "arm64"):
        child = push_small_image(client, source, arch, secrets.token_bytes(512))
        entries.append({"mediaType": DOCKER_MANIFEST, "digest": child,
                        "size": len(client.get_manifest(source, child).raw),
                        "platform": {"os": "linux", "architecture": arch}})
    children = [entry["digest"] for entry in entries]
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    index_digest = client.put_manifest(source, "multi", index, OCI_INDEX)
    assert client.copy_image(source, "multi", target, "multi") == index_digest
    assert client.get_manifest(target, "multi").child_digests() == children
    assert client.stats.blob_bytes_downloaded == 0


def test_delete_by_digest_removes_the_tags(client: RegistryClient, registry_repo: str) -> None:
    repository = repository_path(registry_repo)
    digest = push_small_image(client, repository, "doomed", secrets.token_bytes(64))
    client.delete_manifest(repository, digest)
    assert client.head_manifest(repository, "doomed") is None
    assert client.list_tags(repository) == []


def test_meta_image_is_readable_by_skopeo(client: RegistryClient, registry_repo: str) -> None:
    labels = {"werf": "demo-project", "werf.io/stage-id": "a" * 56 + "-1700000000000"}
    digest = push_meta_image(client, repository_path(registry_repo), "managed-image-app", labels)
    inspected = skopeo_inspect("--tls-verify=false", f"docker://{registry_repo}:managed-image-app")
    assert inspected["Labels"] == labels and inspected["Digest"] == digest
    assert len(inspected["Layers"]) == 1


def test_invalid_repository_name_is_refused_before_the_registry(client: RegistryClient) -> None:
    with pytest.raises(RegistryError, match="invalid repository name 'Has/Upper'"):
        client.list_tags("Has/Upper")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_connection_refused_is_a_registry_error() -> None:
    address = f"127.0.0.1:{free_port()}"
    unreachable = RegistryClient(address, retries=1, credentials=Credentials())
    with closing(unreachable), pytest.raises(RegistryError) as caught:
        unreachable.list_tags("app")
    error = caught.value
    assert str(error).startswith(f"registry {address}: listing tags of repository app: connection refused")
    assert error.hint is not None and "is the registry running" in error.hint
    assert error.__cause__ is None and error.__suppress_context__  # no httpx traceback behind it
    assert unreachable.stats.retries == 1


# --- TLS + htpasswd registry -------------------------------------------------------------------------

@dataclass(frozen=True)
class SecureRegistry:
    address: str
    ca_file: str


def _write_tls_files(workdir: Path) -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(workdir / "domain.key"), "-out", str(workdir / "domain.crt"),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    htpasswd = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True,
                              timeout=60)
    (workdir / "htpasswd").write_bytes(htpasswd.stdout)


def _write_config(workdir: Path, address: str) -> Path:
    config = {
        "version": "0.1",
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(workdir / "data")}},
        "http": {"addr": address, "secret": secrets.token_hex(16),
                 "tls": {"certificate": str(workdir / "domain.crt"), "key": str(workdir / "domain.key")}},
        "auth": {"htpasswd": {"realm": "shipyard-test", "path": str(workdir / "htpasswd")}},
    }
    path = workdir / "config.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def _answers(address: str, ca_file: str) -> bool:
    try:
        verify = ssl.create_default_context(cafile=ca_file)
        return httpx.get(f"https://{address}/v2/", verify=verify, timeout=1.0).status_code == 401
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def secure_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureRegistry]:
    require_tools("docker-registry", "openssl", "htpasswd")
    workdir = tmp_path_factory.mktemp("secure-registry")
    _write_tls_files(workdir)
    address = f"127.0.0.1:{free_port()}"
    log = (workdir / "registry.log").open("wb")
    process = subprocess.Popen(["docker-registry", "serve", str(_write_config(workdir, address))],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not _answers(address, str(workdir / "domain.crt")):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"TLS registry did not start: {(workdir / 'registry.log').read_text()}")
            time.sleep(0.05)
        yield SecureRegistry(address, str(workdir / "domain.crt"))
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def connect(secure_registry: SecureRegistry) -> Iterator[Callable[..., RegistryClient]]:
    """Clients of the TLS registry, closed after the test; the CA file is passed unless `ca_file=None`."""
    clients: list[RegistryClient] = []

    def open_client(**options: Any) -> RegistryClient:
        options.setdefault("ca_file", secure_registry.ca_file)
        clients.append(RegistryClient(secure_registry.address, **options))
        return clients[-1]

    yield open_client
    for opened in clients:
        opened.close()


def test_tls_and_basic_auth_with_the_ca_file(connect: Connect) -> None:
    secure = connect(credentials=Credentials(USER, PASSWORD))
    secure.ping()
    digest = push_small_image(secure, "secure/app", "v1", secrets.token_bytes(256))
    assert secure.list_tags("secure/app") == ["v1"]
    assert secure.copy_image("secure/app", "v1", "secure/copy", "v1") == digest
    assert secure.stats.blob_bytes_downloaded == 0


def test_credentials_from_the_auth_file(connect: Connect, secure_registry: SecureRegistry,
                                        tmp_path: Path) -> None:
    secure = connect(auth_file=login(secure_registry.address, USER, PASSWORD, tmp_path / "auth.json"))
    assert push_meta_image(secure, "secure/meta", "managed-image-x", {"werf": "p"}).startswith("sha256:")


@pytest.mark.parametrize("credentials", [Credentials(), Credentials(USER, "wrong")], ids=["none", "wrong"])
def test_missing_or_wrong_credentials_say_unauthorized(connect: Connect, secure_registry: SecureRegistry,
                                                       credentials: Credentials) -> None:
    with pytest.raises(RegistryError) as caught:
        connect(credentials=credentials).list_tags("secure/app")
    error = caught.value
    assert error.message == (f"registry {secure_registry.address}: listing tags of repository secure/app: "
                             "unauthorized: UNAUTHORIZED: authentication required")
    assert error.hint is not None and f"shipyard cr login {secure_registry.address}" in error.hint


def test_without_the_ca_the_certificate_is_refused(connect: Connect) -> None:
    with pytest.raises(RegistryError) as caught:
        connect(ca_file=None, credentials=Credentials(USER, PASSWORD)).list_tags("secure/app")
    assert "TLS certificate verification failed" in caught.value.message
    assert caught.value.hint is not None and "CA certificate" in caught.value.hint


def test_skip_tls_verify_and_plain_http_against_tls(connect: Connect) -> None:
    connect(ca_file=None, skip_tls_verify=True, credentials=Credentials(USER, PASSWORD)).ping()
    with pytest.raises(RegistryError, match="the registry speaks HTTPS") as caught:
        connect(insecure=True, credentials=Credentials()).ping()
    assert caught.value.hint == "drop --insecure-registry"
