"""RegistryClient against the in-memory fake: API calls, bearer/basic auth, retries, errors, counters."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_registry import HOST, FakeRegistry, digest_of, distribution_error

from shipyard.registry.auth import Credentials, login
from shipyard.registry.client import DOCKER_MANIFEST, OCI_INDEX, RegistryClient
from shipyard.registry.reference import InvalidReferenceError, RegistryError

ALICE = Credentials("alice", "secret")
MakeClient = Callable[..., RegistryClient]


@pytest.fixture
def fake() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(fake: FakeRegistry, sleeps: list[float]) -> Iterator[MakeClient]:
    clients: list[RegistryClient] = []

    def make(host: str = HOST, **options: Any) -> RegistryClient:
        options.setdefault("credentials", Credentials())
        client = RegistryClient(host, transport=fake.transport(), sleep=sleeps.append, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> RegistryClient:
    return make_client()


def push_image(client: RegistryClient, repository: str, tag: str, layer: bytes = b"layer") -> str:
    config = json.dumps({"rootfs": {"diff_ids": []}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": "c", "size": len(config), "digest": client.upload_blob(repository, config)},
        "layers": [{"mediaType": "l", "size": len(layer), "digest": client.upload_blob(repository, layer)}],
    }).encode()
    return client.put_manifest(repository, tag, manifest, DOCKER_MANIFEST)


# --- the API ---------------------------------------------------------------------------------------------

def test_blob_upload_exists_and_download_counts_bytes(client: RegistryClient, fake: FakeRegistry) -> None:
    digest = client.upload_blob("app", b"hello")
    assert digest == digest_of(b"hello") and fake.blobs["app"][digest] == b"hello"
    assert client.blob_exists("app", digest) and not client.blob_exists("other", digest)
    assert client.get_blob("app", digest) == b"hello"
    assert client.stats.blob_bytes_downloaded == 5 and client.stats.blob_bytes_uploaded == 5
    uploads = len(fake.seen("PUT", "/blobs/uploads/"))
    client.upload_blob("app", b"hello")
    assert len(fake.seen("PUT", "/blobs/uploads/")) == uploads  # already there: HEAD only


def test_upload_keeps_the_session_query_from_location(client: RegistryClient, fake: FakeRegistry) -> None:
    client.upload_blob("app", b"data")
    put = fake.seen("PUT", "/blobs/uploads/")[0]
    assert put.url.params["_state"] == "abc" and put.url.params["digest"] == digest_of(b"data")


def test_manifests_put_head_get_delete(client: RegistryClient, fake: FakeRegistry) -> None:
    digest = push_image(client, "app", "v1")
    info = client.head_manifest("app", "v1")
    assert info is not None and (info.digest, info.media_type) == (digest, DOCKER_MANIFEST)
    manifest = client.get_manifest("app", digest)
    assert manifest.digest == digest and manifest.document["schemaVersion"] == 2
    assert fake.seen("GET", "/manifests/")[0].headers["accept"].count("application/vnd") == 4
    assert client.head_manifest("app", "missing") is None
    client.delete_manifest("app", digest)
    assert client.head_manifest("app", "v1") is None
    client.delete_manifest("app", digest)  # already gone: fine


def test_get_manifest_by_digest_detects_corruption(client: RegistryClient, fake: FakeRegistry) -> None:
    digest = push_image(client, "app", "v1")
    fake.manifests["app"][digest] = (b'{"tampered": true}', DOCKER_MANIFEST)
    with pytest.raises(RegistryError, match="the content has digest"):
        client.get_manifest("app", digest)


def test_list_tags_of_a_new_repository_is_empty(client: RegistryClient) -> None:
    assert client.list_tags("never/pushed") == []


def test_list_tags_follows_link_pages(make_client: MakeClient, fake: FakeRegistry) -> None:
    fake.page_size = 2
    client = make_client()
    for tag in ("a", "b", "c", "d", "e"):
        push_image(client, "app", tag)
    assert sorted(client.list_tags("app")) == ["a", "b", "c", "d", "e"]
    assert len(fake.seen("GET", "/tags/list")) == 3


def test_mount_and_copy_image_never_download_blobs(client: RegistryClient, fake: FakeRegistry) -> None:
    digest = push_image(client, "src", "v1")
    assert client.copy_image("src", "v1", "dst", "copied") == digest
    assert fake.tags["dst"]["copied"] == digest and fake.blobs["dst"] == fake.blobs["src"]
    assert client.stats.blob_bytes_downloaded == 0


def test_copy_within_a_repository_is_a_retag(client: RegistryClient, fake: FakeRegistry) -> None:
    push_image(client, "app", "v1")
    before = len(fake.requests)
    client.copy_image("app", "v1", "app", "custom")
    assert [r.method for r in fake.requests[before:]] == ["GET", "PUT"]


def test_copy_image_copies_an_index_recursively(client: RegistryClient, fake: FakeRegistry) -> None:
    children = [push_image(client, "src", f"p{i}", layer=f"layer{i}".encode()) for i in range(2)]
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": DOCKER_MANIFEST, "digest": d, "size": 1} for d in children]}).encode()
    index_digest = client.put_manifest("src", "multi", index, OCI_INDEX)
    assert client.copy_image("src", "multi", "dst", "multi") == index_digest
    assert set(fake.manifests["dst"]) == {index_digest, *children}
    assert client.stats.blob_bytes_downloaded == 0


def test_mount_of_a_missing_blob_falls_back_and_cancels_the_session(client: RegistryClient,
                                                                     fake: FakeRegistry) -> None:
    assert client.mount_blob("dst", digest_of(b"nowhere"), "src") is False
    assert fake.uploads == {}  # the session the registry opened instead was cancelled
    assert len(fake.seen("DELETE", "/blobs/uploads/")) == 1


def test_invalid_names_fail_before_any_request(client: RegistryClient, fake: FakeRegistry) -> None:
    with pytest.raises(InvalidReferenceError, match="invalid repository name 'Bad'"):
        client.list_tags("Bad")
    with pytest.raises(InvalidReferenceError, match="invalid tag"):
        client.head_manifest("app", "-x")
    with pytest.raises(InvalidReferenceError, match="invalid digest"):
        client.delete_manifest("app", "v1")
    assert fake.requests == []


# --- authorisation ---------------------------------------------------------------------------------------

def test_bearer_flow_fetches_one_token_per_scope_and_reuses_it(make_client: MakeClient,
                                                               fake: FakeRegistry) -> None:
    fake.auth = "bearer"
    client = make_client(credentials=ALICE)
    client.list_tags("app")
    client.list_tags("app")
    token_requests = [r for r in fake.requests if r.url.host == "auth.test"]
    assert len(token_requests) == 1
    assert token_requests[0].url.params.get_list("scope") == ["repository:app:pull"]
    assert token_requests[0].headers["authorization"].startswith("Basic ")
    client.list_tags("other")  # a new scope: the known realm is asked up front, without a 401 first
    assert [r.url.host for r in fake.requests[-2:]] == ["auth.test", HOST]


def test_bearer_token_refused_later_is_renewed(make_client: MakeClient, fake: FakeRegistry) -> None:
    fake.auth = "bearer"
    client = make_client(credentials=ALICE)
    client.list_tags("app")
    fake.valid_tokens.clear()  # the registry forgets (restarts, expires early)
    assert client.list_tags("app") == []
    assert len([r for r in fake.requests if r.url.host == "auth.test"]) == 2


def test_mount_asks_for_push_and_source_pull_scopes(make_client: MakeClient, fake: FakeRegistry) -> None:
    fake.auth = "bearer"
    client = make_client(credentials=ALICE)
    digest = push_image(client, "src", "v1")
    client.copy_image("src", "v1", "dst", "v1")
    scopes = [r.url.params.get_list("scope") for r in fake.requests if r.url.host == "auth.test"]
    assert ["repository:dst:pull,push", "repository:src:pull"] in scopes
    assert fake.tags["dst"]["v1"] == digest


def test_identity_token_uses_the_oauth_refresh_grant(make_client: MakeClient, fake: FakeRegistry) -> None:
    fake.auth = "bearer"
    make_client(credentials=Credentials("bob", "", "refresh-me")).list_tags("app")
    assert [r.method for r in fake.requests if r.url.host == "auth.test"] == ["POST"]


def test_wrong_credentials_at_the_token_service_say_unauthorized(make_client: MakeClient,
                                                                 fake: FakeRegistry) -> None:
    fake.auth = "bearer"
    with pytest.raises(RegistryError) as caught:
        make_client(credentials=Credentials("alice", "wrong")).list_tags("app")
    error = caught.value
    assert error.status_code == 401
    assert f"registry {HOST}: listing tags of repository app: unauthorized" in error.message
    assert error.hint is not None and f"shipyard cr login {HOST}" in error.hint


def test_basic_auth_after_a_challenge(make_client: MakeClient, fake: FakeRegistry) -> None:
    fake.auth = "basic"
    client = make_client(credentials=ALICE)
    client.list_tags("app")
    client.list_tags("app")
    assert [r.headers.get("authorization") is not None for r in fake.requests] == [False, True, True]


def test_basic_auth_without_or_with_wrong_credentials(make_client: MakeClient, fake: FakeRegistry) -> None:
    fake.auth = "basic"
    with pytest.raises(RegistryError, match="unauthorized"):
        make_client().list_tags("app")
    assert len(fake.requests) == 1  # anonymous: nothing to retry with
    with pytest.raises(RegistryError, match="unauthorized") as caught:
        make_client(credentials=Credentials("alice", "wrong")).list_tags("app")
    assert caught.value.error_codes == ("UNAUTHORIZED",)


def test_credentials_come_from_the_auth_file_when_needed(fake: FakeRegistry, tmp_path: Path) -> None:
    fake.auth = "basic"
    auth_file = login(HOST, "alice", "secret", tmp_path / "auth.json")
    client = RegistryClient(HOST, transport=fake.transport(), auth_file=auth_file)
    assert client.list_tags("app") == []
    client.close()


# --- retries and transport errors ------------------------------------------------------------------------

def test_5xx_and_429_are_retried_honouring_retry_after(client: RegistryClient, fake: FakeRegistry,
                                                       sleeps: list[float]) -> None:
    fake.script = [httpx.Response(503), httpx.Response(429, headers={"Retry-After": "3"})]
    assert client.list_tags("app") == []
    assert len(sleeps) == 2 and 0.1 <= sleeps[0] <= 0.2 and sleeps[1] == 3.0
    assert client.stats.retries == 2 and client.stats.requests["GET"] == 3


def test_connection_errors_are_retried_with_growing_backoff(make_client: MakeClient, fake: FakeRegistry,
                                                            sleeps: list[float]) -> None:
    fake.script = [httpx.ConnectError("Connection refused")] * 5
    client = make_client(retries=4)
    with pytest.raises(RegistryError) as caught:
        client.list_tags("app")
    ceilings = [0.2, 0.4, 0.8, 1.6]  # doubling, with jitter in the upper half of each step
    assert len(sleeps) == 4 and all(c / 2 <= s <= c for s, c in zip(sleeps, ceilings, strict=True))
    assert caught.value.message == f"registry {HOST}: listing tags of repository app: Connection refused"
    assert caught.value.hint is not None and "is the registry running" in caught.value.hint


def test_persistent_5xx_reports_the_operation(make_client: MakeClient, fake: FakeRegistry) -> None:
    fake.script = [distribution_error(500, "UNKNOWN", "storage failure")] * 3
    with pytest.raises(RegistryError) as caught:
        make_client(retries=2).get_blob("app", digest_of(b"x"))
    assert "reading blob app@sha256:" in caught.value.message
    assert caught.value.message.endswith("registry server error: UNKNOWN: storage failure")


def test_405_on_delete_explains_the_registry_setting(client: RegistryClient, fake: FakeRegistry) -> None:
    fake.script = [distribution_error(405, "UNSUPPORTED", "The operation is unsupported.")]
    with pytest.raises(RegistryError) as caught:
        client.delete_manifest("app", digest_of(b"x"))
    assert caught.value.hint is not None and "storage.delete.enabled" in caught.value.hint


def tls_failure(verify: bool) -> httpx.ConnectError:
    cause: ssl.SSLError = (ssl.SSLCertVerificationError(1, "certificate verify failed") if verify
                           else ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"))
    error = httpx.ConnectError(str(cause))
    error.__cause__ = cause
    return error


def test_loopback_falls_back_to_http_when_the_server_speaks_no_tls(make_client: MakeClient,
                                                                   fake: FakeRegistry) -> None:
    fake.script = [tls_failure(verify=False)]
    client = make_client("127.0.0.1:5000")
    client.list_tags("app")
    client.list_tags("app")
    assert [str(r.url.scheme) for r in fake.requests] == ["https", "http", "http"]


def test_the_downgrade_also_applies_to_the_authorised_resend(make_client: MakeClient,
                                                              fake: FakeRegistry) -> None:
    fake.auth = "basic"
    fake.script = [tls_failure(verify=False)]
    make_client("127.0.0.1:5000", credentials=ALICE).list_tags("app")
    sent = [(str(r.url.scheme), "authorization" in r.headers) for r in fake.requests]
    assert sent == [("https", False), ("http", False), ("http", True)]


def test_no_downgrade_for_remote_hosts_or_bad_certificates(make_client: MakeClient,
                                                            fake: FakeRegistry) -> None:
    fake.script = [tls_failure(verify=False)]
    with pytest.raises(RegistryError, match="TLS handshake failed") as caught:
        make_client().list_tags("app")
    assert caught.value.hint is not None and "--insecure-registry" in caught.value.hint
    fake.script = [tls_failure(verify=True)]
    with pytest.raises(RegistryError, match="certificate verification failed"):
        make_client("127.0.0.1:5000").list_tags("app")


def test_explicit_insecure_uses_plain_http(make_client: MakeClient, fake: FakeRegistry) -> None:
    make_client("registry.lan:5000", insecure=True).list_tags("app")
    assert fake.requests[0].url.scheme == "http"


def test_an_unreadable_ca_file_is_a_registry_error(make_client: MakeClient, tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.crt"
    not_pem.write_text("not a certificate")
    for ca_file in (tmp_path / "missing.crt", not_pem):
        with pytest.raises(RegistryError, match="cannot load the CA certificate"):
            make_client(ca_file=str(ca_file)).list_tags("app")


def test_the_constructor_does_no_io(fake: FakeRegistry, tmp_path: Path) -> None:
    client = RegistryClient(HOST, transport=fake.transport(), ca_file=str(tmp_path / "missing.crt"),
                            auth_file=tmp_path / "missing.json")
    client.close()
    assert fake.requests == []


def test_an_invalid_host_is_refused_by_the_constructor() -> None:
    with pytest.raises(InvalidReferenceError, match="invalid registry host 'a b'"):
        RegistryClient("a b")


def test_redirect_loops_become_registry_errors(client: RegistryClient, fake: FakeRegistry) -> None:
    loop = httpx.Response(307, headers={"Location": "/v2/app/blobs/" + digest_of(b"x")})
    fake.script = [loop] * 30
    with pytest.raises(RegistryError, match="reading blob app@sha256:"):
        client.get_blob("app", digest_of(b"x"))
