"""BuildahStapel beyond shell commands, against the real buildah on the busybox base: removing paths through
the mounted root filesystem, bind mounts while commands run (werf `mount:`), the `docker:` directives and
the imageSpec changes, each checked by inspecting a committed image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shipyard.backends.base import RegistryAccess
from shipyard.backends.buildah import BuildahBackend
from shipyard.backends.buildah_stapel import BuildahStapel
from shipyard.backends.process import BackendError
from shipyard.backends.stapel_config import docker_image_config, image_spec_changes
from shipyard.config.model import DockerInstructions, FrozenMap, Healthcheck, ImageSpec, Mount
from shipyard.stages.stapel_mounts import mount_labels, mount_sources
from support import require_tools
from support.buildah_store import run_in_image

Fixture = Any  # conftest's BuildahStore / BaseImage


def stapel_for(store: Fixture) -> BuildahStapel:
    require_tools("buildah")
    return BuildahStapel(BuildahBackend(store.root, store.runroot, store.driver,
                                        pull_access=RegistryAccess(tls_verify=False)))


def docker_config(store: Fixture, image: str) -> dict[str, Any]:
    inspected = json.loads(store.run("inspect", "--type", "image", image).stdout)
    config: dict[str, Any] = inspected["Docker"]["config"]
    return config


def test_delete_paths_never_leaves_the_rootfs_and_prunes_emptied_directories(
        buildah_store: Fixture, busybox_image: Fixture, tmp_path: Path) -> None:
    stapel = stapel_for(buildah_store)
    host = tmp_path / "host"
    host.mkdir()
    (host / "victim").write_text("host file\n")
    with stapel.working_container(busybox_image.local) as container:
        stapel.run_shell(container, [
            "mkdir -p /app/a/b/c /app/a/keep /app/tree/sub",
            "echo x > /app/a/b/c/file; echo k > /app/a/keep/k; echo t > /app/tree/sub/t",
            f"ln -s {host} /app/hostdir", f"ln -s {host}/victim /app/hostfile",
        ], lambda _: None)
        stapel.delete_paths(container, "/app", ["a/b/c/file", "hostdir", "hostfile", "hostdir/victim",
                                                "tree", "missing/nothing"])
        image = stapel.commit(container, {})
    assert (host / "victim").read_text() == "host file\n"
    out = run_in_image(buildah_store, image, "cd /app && find . | sort")
    assert out.split() == [".", "./a", "./a/keep", "./a/keep/k"]


def test_clear_directories_keeps_the_directory(buildah_store: Fixture, busybox_image: Fixture) -> None:
    stapel = stapel_for(buildah_store)
    with stapel.working_container(busybox_image.local) as container:
        stapel.run_shell(container, ["mkdir -p /cache/d", "touch /cache/f /cache/d/g"], lambda _: None)
        stapel.clear_directories(container, ["/cache", "/not-there"])
        image = stapel.commit(container, {})
    assert run_in_image(buildah_store, image, "ls -A /cache; test -d /cache && echo dir") == "dir\n"


def test_mounted_directories_keep_what_the_commands_write_out_of_the_image(
        buildah_store: Fixture, busybox_image: Fixture, tmp_path: Path) -> None:
    stapel = stapel_for(buildah_store)
    mounts = (Mount(to="/var/cache/build", type="build_dir"), Mount(to="/scratch", type="tmp_dir"),
              Mount(to="/opt/shared", type="custom_dir", from_path=str(tmp_path / "custom")))
    sources = mount_sources(mounts, project="proj", home=tmp_path / "werf-home", project_dir=tmp_path,
                            tmp_root=tmp_path / "tmp")
    with stapel.working_container(busybox_image.local) as container:
        stapel.config(container, docker_image_config(DockerInstructions(user="1000", workdir="/nowhere")))
        log: list[str] = []
        stapel.run_shell(container, [
            "id -u; pwd",
            "echo kept > /var/cache/build/artifact", "echo tmp > /scratch/t", "echo c > /opt/shared/c",
        ], log.append, mounts=sources)
        image = stapel.commit(container, mount_labels(mounts))
    assert log == ["0", "/"]  # root in /, like werf, whatever USER and WORKDIR say
    build_dir = dict((target, host) for host, target in sources)["/var/cache/build"]
    assert build_dir.parent == tmp_path / "werf-home" / "shared_context" / "mounts" / "projects" / "proj"
    assert (build_dir / "artifact").read_text() == "kept\n"
    assert (tmp_path / "custom" / "c").read_text() == "c\n"
    out = run_in_image(buildah_store, image, "ls -A /var/cache/build /scratch /opt/shared")
    assert out.split() == ["/opt/shared:", "/scratch:", "/var/cache/build:"]  # empty mount points only
    labels = docker_config(buildah_store, image)["Labels"]
    assert labels["werf-mount-type-build-dir"] == "/var/cache/build"
    assert labels["werf-mount-type-tmp-dir"] == "/scratch"
    custom_label = "werf-mount-type-custom-dir-" + str(tmp_path / "custom").replace("/", "--")
    assert labels[custom_label] == "/opt/shared"


def test_docker_directives_shell_and_exec_forms_and_healthcheck(
        buildah_store: Fixture, busybox_image: Fixture) -> None:
    stapel = stapel_for(buildah_store)
    docker = DockerInstructions(
        volume=("/data",), expose=("8080", "53/udp"), env=FrozenMap({"MODE": "prod", "RAW": "$HOME/x"}),
        label=FrozenMap({"team": "a"}), cmd="serve --port 8080", entrypoint='["/bin/tini", "--"]',
        workdir="/srv", user="1000:1000",
        healthcheck='--interval=5s --retries=3 CMD wget -q -O- http://localhost/ || exit 1')
    with stapel.working_container(busybox_image.local) as container:
        stapel.config(container, docker_image_config(docker))
        image = stapel.commit(container, {})
    config = docker_config(buildah_store, image)
    assert config["Cmd"] == ["/bin/sh", "-c", "serve --port 8080"]
    assert config["Entrypoint"] == ["/bin/tini", "--"]
    assert config["Healthcheck"]["Test"] == ["CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"]
    assert config["Healthcheck"]["Interval"] == 5_000_000_000
    assert config["Healthcheck"]["Retries"] == 3
    assert {"MODE=prod", "RAW=$HOME/x"} <= set(config["Env"])
    assert set(config["ExposedPorts"]) == {"8080/tcp", "53/udp"}
    assert (config["WorkingDir"], config["User"], config["Labels"]["team"]) == ("/srv", "1000:1000", "a")


@pytest.fixture()
def previous_stage(buildah_store: Fixture, busybox_image: Fixture) -> str:
    stapel = stapel_for(buildah_store)
    with stapel.working_container(busybox_image.local) as container:
        stapel.config(container, docker_image_config(DockerInstructions(
            volume=("/data", "/logs"), expose=("8080",), cmd='["/bin/app"]', user="app", workdir="/srv",
            env=FrozenMap({"WERF_COMMIT_HASH": "abc", "DEBUG_A": "1", "DEBUG_B": "2", "KEEP": "k"}),
            label=FrozenMap({"org.opencontainers.image.title": "t", "org.opencontainers.x": "y",
                             "maintainer": "m"}))))
        return stapel.commit(container, {"werf": "proj", "werf-stage-content-digest": "d1",
                                         "werf-version": "v2", "werf-project-repo-commit": "c0"})


def test_image_spec_changes_applied_and_verified_by_inspect(
        buildah_store: Fixture, previous_stage: str) -> None:
    stapel = stapel_for(buildah_store)
    spec = ImageSpec(
        author="Team <t@example.com>", clear_history=True, clear_cmd=True, clear_user=True,
        remove_labels=("/org\\.opencontainers\\..*/", "/werf.*/", "maintainer"), remove_env=("/DEBUG_.*/",),
        remove_volumes=("/logs",), volumes=("/cache",), expose=("9090",), stop_signal="SIGINT",
        labels=FrozenMap({"app.%image%/name": "%project%-%image%"}), env=FrozenMap({"PATH2": "$KEEP:/x"}),
        healthcheck=Healthcheck(test=("CMD", "/bin/true"), interval=7, retries=2))
    service = {"werf": "proj", "werf-stage-content-digest": "d2", "werf-version": "v2", "werf-extra": "e"}
    with stapel.working_container(previous_stage) as container:
        changes = stapel.apply_image_spec(container, spec, project="proj", image_name="api",
                                          service_labels=service)
        commit_labels = {key: value for key, value in service.items() if key not in changes.remove_labels}
        image = stapel.commit(container, commit_labels, omit_history=changes.clear_history)
    config = docker_config(buildah_store, image)
    labels = {key: value for key, value in config["Labels"].items() if key != "io.buildah.version"}
    assert labels == {"werf": "proj", "werf-stage-content-digest": "d2", "werf-project-repo-commit": "c0",
                      "app.api/name": "proj-api"}
    assert sorted(config["Env"]) == ["KEEP=k", "PATH2=k:/x", "PATH=/bin:/usr/bin"]
    assert set(config["Volumes"]) == {"/data", "/cache"}
    assert set(config["ExposedPorts"]) == {"9090"}
    assert not config["Cmd"] and not config["User"]
    assert config["WorkingDir"] == "/srv"
    assert config["StopSignal"] == "SIGINT"
    assert config["Healthcheck"]["Test"] == ["CMD", "/bin/true"]
    assert config["Healthcheck"]["Interval"] == 7_000_000_000
    inspected = json.loads(buildah_store.run("inspect", "--type", "image", image).stdout)
    assert inspected["Docker"]["author"] == "Team <t@example.com>"
    assert not inspected["Docker"].get("history")


def test_image_spec_entrypoint_without_cmd_clears_the_inherited_cmd(
        buildah_store: Fixture, previous_stage: str) -> None:
    stapel = stapel_for(buildah_store)
    spec = ImageSpec(entrypoint=("/bin/entry",), working_dir="/w")
    changes = image_spec_changes(spec, stapel.inspect_config(previous_stage), project="p", image_name="i")
    with stapel.working_container(previous_stage) as container:
        stapel.apply_config_changes(container, changes)
        image = stapel.commit(container, {})
    config = docker_config(buildah_store, image)
    assert (config["Entrypoint"], config["WorkingDir"]) == (["/bin/entry"], "/w")
    assert not config["Cmd"]  # werf writes [], buildah null or [], both mean "no CMD"
    assert "WERF_COMMIT_HASH=abc" not in config["Env"] and "DEBUG_A=1" in config["Env"]
    assert config["User"] == "app"


def test_commands_run_with_bash_when_the_image_has_one_and_stop_at_the_first_failure(
        buildah_store: Fixture, busybox_image: Fixture) -> None:
    stapel = stapel_for(buildah_store)
    with stapel.working_container(busybox_image.local) as container:
        log: list[str] = []
        stapel.run_shell(container, ['echo "bash=${VIA_BASH:-no}"'], log.append)
        stapel.run_shell(container, [  # a stand-in bash that marks the environment
            "printf '#!/bin/sh\\nVIA_BASH=yes exec /bin/sh \"$@\"\\n' > /bin/bash", "chmod +x /bin/bash",
        ], log.append)
        stapel.run_shell(container, ['echo "bash=${VIA_BASH:-no}"'], log.append)
        with pytest.raises(BackendError, match="exit code 1"):
            stapel.run_shell(container, ["echo first", "false", "echo never"], log.append)
    assert log == ["bash=no", "bash=yes", "first"]
