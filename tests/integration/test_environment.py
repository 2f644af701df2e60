"""The integration environment itself: registry, buildah store and base image work, and clean up."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from support import require_tools

# Fixture objects are typed loosely here: conftest is not importable as a module by name.
Registry = Any
BuildahStore = Any
BaseImage = Any


def skopeo_json(*args: str) -> Any:
    require_tools("skopeo")
    done = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def registry_pids_for(config_path: Path) -> list[int]:
    """docker-registry processes serving this exact config (never someone else's registry)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"docker-registry") and str(config_path).encode() in argv:
            pids.append(int(proc.name))
    return pids


def test_registry_answers_v2(registry: Registry) -> None:
    status, headers, body = registry.get("/v2/")
    assert status == 200
    assert headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert json.loads(body) == {}
    assert registry.url == f"http://{registry.address}"
    assert registry.address.startswith("127.0.0.1:")
    assert registry.data_dir.is_dir()


def test_registry_repo_is_unique_and_valid(registry: Registry, registry_repo: str) -> None:
    assert registry_repo.startswith(f"{registry.address}/t/test-registry-repo-is-unique-and-valid-")
    with pytest.raises(ValueError, match="invalid repository name"):
        registry.repo("Upper/Case")
    # An unused repository really is empty in the registry.
    status, _, _ = registry.get(f"/v2/{registry_repo.split('/', 1)[1]}/tags/list")
    assert status == 404


def test_base_image_is_in_the_registry(busybox_image: BaseImage, registry: Registry) -> None:
    assert busybox_image.remote == f"{registry.address}/base/busybox:latest"
    ref = f"docker://{busybox_image.remote}"
    info = skopeo_json("inspect", "--tls-verify=false", ref)
    assert (info["Os"], info["Architecture"]) == ("linux", "amd64")
    assert info["Digest"] == busybox_image.digest
    assert info["Env"] == ["PATH=/bin:/usr/bin"]
    config = skopeo_json("inspect", "--tls-verify=false", "--config", ref)
    assert config["config"]["Cmd"] == ["/bin/sh"]
    assert config["config"]["Env"] == ["PATH=/bin:/usr/bin"]
    assert len(config["rootfs"]["diff_ids"]) == 1


def test_base_image_runs_with_buildah(busybox_image: BaseImage, buildah_store: BuildahStore) -> None:
    # Pull back from the registry (not the local tag) so the round trip is part of the proof.
    ctr = buildah_store.run("from", "-q", "--pull=always", "--tls-verify=false", busybox_image.remote)
    name = ctr.stdout.strip()
    try:
        done = buildah_store.run("run", name, "--", "/bin/sh", "-c", "echo hello && ls /tmp")
        assert done.stdout == "hello\n"
        # /tmp is world-writable and sticky, like on any distribution image.
        assert buildah_store.run("run", name, "--", "stat", "-c", "%A", "/tmp").stdout == "drwxrwxrwt\n"
    finally:
        buildah_store.run("rm", name, check=False)


def test_buildah_store_run_raises_with_stderr(buildah_store: BuildahStore) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failure:
        buildah_store.run("inspect", "--type", "image", "localhost/does-not-exist:1")
    assert "does-not-exist" in str(failure.value)  # stderr is part of the message
    assert buildah_store.run("inspect", "--type", "image", "x", check=False).returncode != 0


def test_registry_teardown_leaves_no_process(
    registry_factory: Callable[[], AbstractContextManager[Registry]],
) -> None:
    with registry_factory() as reg:
        assert port_accepts(reg.port)
        assert registry_pids_for(reg.config_path) == [reg.process.pid]
    assert reg.process.returncode is not None
    assert registry_pids_for(reg.config_path) == []
    assert not port_accepts(reg.port)


def test_buildah_store_teardown_unmounts_and_removes(
    buildah_store_factory: Callable[[], AbstractContextManager[BuildahStore]],
) -> None:
    def mounts_below(path: Path) -> list[str]:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
        return [line.split()[4] for line in lines if line.split()[4].startswith(f"{path}/")]

    with buildah_store_factory() as store:
        ctr = store.run("from", "scratch").stdout.strip()
        # `buildah mount` is the case that leaks into the host namespace if nobody unmounts.
        mountpoint = store.run("mount", ctr).stdout.strip()
        assert mountpoint in mounts_below(store.path)
    assert mounts_below(store.path) == []
    assert not store.path.exists()
