"""`--synchronization` → locker (werf-internals §5.1) and werf's client-id records (§3.1, §3.2, §5.4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shipyard.errors import ShipyardError
from shipyard.locks.file import FileLocker
from shipyard.locks.http import (
    HttpLocker,
    client_id_tag,
    oldest_client_id,
    parse_client_id_tag,
    werf_timestamp,
)
from shipyard.locks.kubernetes import KubernetesLocker
from shipyard.locks.redis import RedisLocker, describe_url
from shipyard.locks.select import NO_LOCK_SERVICE_WARNING, make_locker

REPO = "127.0.0.1:5000/app"


def no_client() -> Any:
    raise AssertionError("make_locker must not create a registry client")


def select(synchronization: str, repo: str = REPO, warnings: list[str] | None = None) -> object:
    return make_locker(synchronization, repo=repo, project="app", registry_client_factory=no_client,
                       locks_dir=Path("/nonexistent/locks"),
                       warn=(warnings if warnings is not None else []).append)


def test_local_and_empty_give_file_locks_and_a_remote_repo_is_warned_once() -> None:
    warnings: list[str] = []
    assert isinstance(select(":local", warnings=warnings), FileLocker)
    assert isinstance(select("", repo="", warnings=warnings), FileLocker)
    assert warnings == []
    assert isinstance(select("", warnings=warnings), FileLocker)
    assert warnings == [NO_LOCK_SERVICE_WARNING]


def test_http_and_redis_addresses_give_their_lockers_without_io() -> None:
    assert isinstance(select("http://127.0.0.1:55581"), HttpLocker)
    assert isinstance(select("https://locks.example.org/"), HttpLocker)
    assert isinstance(select("redis://:secret@127.0.0.1:6379/2"), RedisLocker)


def test_kubernetes_addresses_give_the_configmap_locker_without_reading_the_kubeconfig() -> None:
    locker = select("kubernetes://locks:prod@/nonexistent/kubeconfig")
    assert isinstance(locker, KubernetesLocker)
    assert locker.where == "kubernetes namespace locks (context prod), ConfigMap werf-app"
    assert isinstance(select("kubernetes://"), KubernetesLocker)


def test_kubeconfig_data_in_the_address_is_never_shown() -> None:
    with pytest.raises(ShipyardError, match="needs a --repo") as caught:
        select("kubernetes://ns@base64:c2VjcmV0LWRhdGE=", repo="")
    assert "c2VjcmV0" not in caught.value.render()


@pytest.mark.parametrize("address", ["kube://werf-synchronization", "ftp://x", "localhost:55581"])
def test_other_addresses_are_refused_with_the_supported_forms(address: str) -> None:
    with pytest.raises(ShipyardError) as caught:
        select(address)
    assert "unsupported --synchronization" in caught.value.message
    hint = caught.value.hint or ""
    assert "redis://" in hint and "kubernetes://" in hint


@pytest.mark.parametrize("repo", ["", ":local"])
def test_a_lock_service_with_local_storage_is_an_error_that_hides_the_password(repo: str) -> None:
    with pytest.raises(ShipyardError, match="needs a --repo") as caught:
        select("redis://:secret@127.0.0.1:6379", repo=repo)
    assert "secret" not in caught.value.render()


def test_redis_addresses_are_shown_without_credentials() -> None:
    assert describe_url("redis://:secret@10.0.0.1:6380/3") == "redis://10.0.0.1:6380/3"
    assert describe_url("rediss://user:pw@host") == "rediss://host:6379/0"


def test_werf_client_id_timestamp_is_about_twice_epoch_milliseconds() -> None:
    now_ns = 1_700_000_000_123_456_789
    assert werf_timestamp(now_ns) == 1_700_000_000_000 + 1_700_000_000_123
    assert werf_timestamp(now_ns) > 2 * 1_700_000_000_000 - 1


def test_client_id_tags_round_trip_and_the_smallest_timestamp_wins() -> None:
    client_id = "0b8e4e9a-3c1f-4d2b-9a7e-5f6a7b8c9d0e"
    tag = client_id_tag(client_id, 3400000000246)
    assert tag == f"client-id-{client_id}-3400000000246"
    assert parse_client_id_tag(tag) == (client_id, 3400000000246)
    for other in ("client-id-", "client-id-abc", "client-id-abc-12x", "managed-image-x", "abc-123"):
        assert parse_client_id_tag(other) is None
    tags = ["latest", client_id_tag("newer", 3400000000999), client_id_tag("oldest", 3400000000001),
            client_id_tag("tie", 3400000000001)]
    assert oldest_client_id(tags) == "oldest"
    assert oldest_client_id(["latest"]) is None
