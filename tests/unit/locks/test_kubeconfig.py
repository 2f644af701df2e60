"""`kubernetes://` addresses (werf's ParseKubernetesParams), kubeconfig resolution, and werf's lock and key
names for the ConfigMap locker (werf-internals §5.5)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from shipyard.errors import ShipyardError
from shipyard.locks.kubeconfig import KubernetesAddress, load_access, parse_address
from shipyard.locks.kubernetes import annotation_key, configmap_name, werf_lock_name

DIGEST = "6f40fd07cdb62e03d7238e1fccb3341379bcd677ff6d7575317f3783"


@pytest.mark.parametrize(("address", "expected"), [
    ("kubernetes://", KubernetesAddress("werf-synchronization")),
    ("kubernetes://locks", KubernetesAddress("locks")),
    ("kubernetes://locks:prod", KubernetesAddress("locks", "prod")),
    ("kubernetes://locks:prod@/etc/kube.yaml",
     KubernetesAddress("locks", "prod", config_path="/etc/kube.yaml")),
    ("kubernetes://locks@~/k:onfig", KubernetesAddress("locks", config_path="~/k:onfig")),
    ("kubernetes://:ctx@base64:YWJj", KubernetesAddress("werf-synchronization", "ctx", config_base64="YWJj")),
    ("kubernetes://a:b:c", KubernetesAddress("a", "b:c")),  # split at the first ':' only, as werf
])
def test_addresses_split_as_werf_splits_them(address: str, expected: KubernetesAddress) -> None:
    assert parse_address(address) == expected


@pytest.mark.parametrize("address", ["kubernetes://Locks", "kubernetes://-x", "kubernetes://a_b", "http://x"])
def test_bad_namespaces_and_other_schemes_are_refused(address: str) -> None:
    with pytest.raises(ShipyardError):
        parse_address(address)


def test_stage_locks_get_werfs_kubernetes_name_and_annotation_key() -> None:
    assert werf_lock_name("demo", f"demo.{DIGEST}") == f"demo/stage/{DIGEST}"
    assert werf_lock_name("demo", "other.lock") == "other.lock"
    key = annotation_key(f"demo/stage/{DIGEST}")
    assert key == "lockgate.io/" + hashlib.sha3_224(f"demo/stage/{DIGEST}".encode()).hexdigest()
    assert len(key.split("/")[1]) == 56  # within Kubernetes' 63-character limit of an annotation name
    assert configmap_name("demo") == "werf-demo"


def kubeconfig(context: str, server: str, user: dict[str, object], *, current: str | None = None,
               cluster: dict[str, object] | None = None) -> str:
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": current if current is not None else context,
        "clusters": [{"name": f"{context}-c", "cluster": {"server": server} | (cluster or {})}],
        "users": [{"name": f"{context}-u", "user": user}],
        "contexts": [{"name": context, "context": {"cluster": f"{context}-c", "user": f"{context}-u"}}],
    })


def test_a_given_file_with_its_current_context_token_and_relative_ca(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(b"CA-PEM")
    (tmp_path / "token").write_text("from-file\n")
    path = tmp_path / "config"
    path.write_text(kubeconfig("dev", "https://10.0.0.1:6443/", {"tokenFile": "token"},
                               cluster={"certificate-authority": "ca.pem"}))
    access = load_access(parse_address(f"kubernetes://ns@{path}"), environ={})
    assert (access.context, access.server, access.token, access.ca_pem) == (
        "dev", "https://10.0.0.1:6443", "from-file", b"CA-PEM")


def test_base64_data_and_an_explicit_context(tmp_path: Path) -> None:
    user: dict[str, object] = {"client-certificate-data": base64.b64encode(b"C").decode(),
                               "client-key-data": base64.b64encode(b"K").decode()}
    text = kubeconfig("dev", "https://a:1", user, current="none")
    data = base64.b64encode(text.encode()).decode()
    access = load_access(parse_address(f"kubernetes://ns:dev@base64:{data}"), environ={})
    assert (access.server, access.client_cert_pem, access.client_key_pem, access.token) == (
        "https://a:1", b"C", b"K", None)


def test_kubeconfig_env_lists_merge_with_the_first_file_winning(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.write_text(kubeconfig("shared", "https://first:1", {"token": "t1"}, current=""))
    second.write_text(kubeconfig("shared", "https://second:1", {"token": "t2"}, current="shared"))
    env = {"KUBECONFIG": f"{first}:{tmp_path / 'missing'}:{second}"}
    access = load_access(parse_address("kubernetes://ns"), environ=env)
    assert (access.context, access.server, access.token) == ("shared", "https://first:1", "t1")


def test_home_kube_config_is_the_fallback(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text(kubeconfig("home", "http://127.0.0.1:1", {}))
    access = load_access(parse_address("kubernetes://ns"), environ={"HOME": str(tmp_path)})
    assert (access.context, access.token, access.basic_auth) == ("home", None, None)
    with pytest.raises(ShipyardError, match="does not exist"):
        load_access(parse_address("kubernetes://ns"), environ={"HOME": str(tmp_path / "nobody")})


@pytest.mark.parametrize(("user", "context", "fragment"), [
    ({"exec": {"command": "aws"}}, "", "uses 'exec'"),
    ({"auth-provider": {"name": "gcp"}}, "", "uses 'auth-provider'"),
    ({"client-certificate-data": "QQ=="}, "", "needs its key"),
    ({"token": "t"}, "prod", "has no context 'prod'"),
])
def test_what_cannot_be_used_is_refused_by_name(tmp_path: Path, user: dict[str, object], context: str,
                                                fragment: str) -> None:
    path = tmp_path / "config"
    path.write_text(kubeconfig("dev", "https://a:1", user))
    with pytest.raises(ShipyardError, match=fragment) as caught:
        load_access(parse_address(f"kubernetes://ns{':' + context if context else ''}@{path}"), environ={})
    assert caught.value.hint


def test_bad_base64_and_bad_yaml_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ShipyardError, match="not base64"):
        load_access(parse_address("kubernetes://ns@base64:%%%"), environ={})
    path = tmp_path / "config"
    path.write_text("clusters: [\n")
    with pytest.raises(ShipyardError, match="not valid YAML"):
        load_access(parse_address(f"kubernetes://ns@{path}"), environ={})
