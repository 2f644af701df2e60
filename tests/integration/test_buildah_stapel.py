"""BuildahStapel with the real buildah on the busybox base: a from → beforeInstall → install chain where every
stage is committed as its own image FROM the previous one, with werf's labels; failures and Ctrl-C leave no
container behind."""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shipyard.backends.base import RegistryAccess
from shipyard.backends.buildah import BuildahBackend
from shipyard.backends.buildah_stapel import (
    BuildahStapel,
    Healthcheck,
    ImageConfig,
    StageContainer,
    chown_value,
    shell_script,
)
from shipyard.backends.process import BackendError
from support import require_tools
from support.buildah_store import run_in_image

Fixture = Any  # conftest's BuildahStore / BaseImage (conftest is not importable by name)
COMMIT_ENV = {
    "WERF_COMMIT_HASH": "0123456789abcdef0123456789abcdef01234567",
    "WERF_COMMIT_TIME_HUMAN": "2026-11-22 21:00:00 +0000 UTC",
    "WERF_COMMIT_TIME_UNIX": "1795381200",
}


@dataclass(frozen=True)
class Chain:
    images: tuple[str, str, str]  # from, beforeInstall, install
    log: list[str]


def stapel_for(store: Fixture) -> BuildahStapel:
    return BuildahStapel(BuildahBackend(store.root, store.runroot, store.driver,
                                        pull_access=RegistryAccess(tls_verify=False)))


def stage_labels(name: str, digest: str, parent: str = "") -> dict[str, str]:
    labels = {"werf": "proj", "werf-version": "v2.0.0-shipyard", "werf-stage-content-digest": digest}
    if parent:
        labels["werf.io/base-image-id"] = parent
    return labels


def inspect_image(store: Fixture, image: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(store.run("inspect", "--type", "image", image).stdout)
    return result


def containers(store: Fixture) -> list[str]:
    return sorted(store.run("containers", "--quiet").stdout.split())


def git_archive(root: Path) -> Path:
    """A tree like a git archive: a regular file, an executable, a subdirectory and a relative symlink."""
    (root / "bin").mkdir(parents=True)
    (root / "app.txt").write_text("committed\n")
    (root / "bin" / "tool.sh").write_text("#!/bin/sh\necho tool\n")
    (root / "bin" / "tool.sh").chmod(0o755)
    (root / "app.txt").chmod(0o640)
    os.symlink("bin/tool.sh", root / "tool")
    return root


@pytest.fixture(scope="module")
def chain(buildah_store: Fixture, busybox_image: Fixture, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    require_tools("buildah")
    stapel = stapel_for(buildah_store)
    log: list[str] = []
    with stapel.working_container(busybox_image.local) as container:
        from_image = stapel.commit(container, stage_labels("from", "d-from"))
    with stapel.working_container(from_image) as container:
        stapel.run_shell(container, [
            "mkdir -p /var/before",
            'echo "before $WERF_COMMIT_HASH" > /var/before/marker',
            'echo "seen: hash=$WERF_COMMIT_HASH human=$WERF_COMMIT_TIME_HUMAN unix=$WERF_COMMIT_TIME_UNIX"',
        ], log.append, env=COMMIT_ENV, stage="beforeInstall")
        before_install = stapel.commit(container, stage_labels("beforeInstall", "d-before", from_image))
    with stapel.working_container(before_install) as container:
        stapel.copy_tree(container, git_archive(tmp_path_factory.mktemp("archive")), "/app", owner=1234,
                         group=4321)
        commands = ["test -f /var/before/marker", "cat /var/before/marker > /app/from-before",
                    "echo install done"]
        stapel.run_shell(container, commands, log.append, env=COMMIT_ENV, stage="install")
        stapel.config(container, ImageConfig(cmd=["/app/tool"], workdir="/app"))
        install = stapel.commit(container, stage_labels("install", "d-install", before_install))
    return Chain(images=(from_image, before_install, install), log=log)


def test_every_stage_is_its_own_docker_image_with_its_labels(chain: Chain, buildah_store: Fixture) -> None:
    digests = ("d-from", "d-before", "d-install")
    for image, digest in zip(chain.images, digests, strict=True):
        assert image.startswith("sha256:")
        inspected = inspect_image(buildah_store, image)
        labels = inspected["Docker"]["config"]["Labels"]
        assert labels["werf"] == "proj"
        assert labels["werf-stage-content-digest"] == digest
        manifest = json.loads(inspected["Manifest"])
        assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert len(set(chain.images)) == 3


def test_each_stage_is_built_from_the_previous_stage_image(
        chain: Chain, buildah_store: Fixture, busybox_image: Fixture) -> None:
    layers = [inspect_image(buildah_store, image)["Docker"]["rootfs"]["diff_ids"]
              for image in (busybox_image.local, *chain.images)]
    for parent, child in itertools.pairwise(layers):
        assert child[:len(parent)] == parent  # the parent's layers, then the stage's own
    parents = [inspect_image(buildah_store, image)["Docker"]["config"]["Labels"].get("werf.io/base-image-id")
               for image in chain.images]
    assert parents == [None, chain.images[0], chain.images[1]]


def test_commit_keeps_the_inherited_config_and_adds_the_stage_config(
        chain: Chain, buildah_store: Fixture) -> None:
    config = inspect_image(buildah_store, chain.images[2])["Docker"]["config"]
    assert any(entry.startswith("PATH=") for entry in config["Env"])  # from the busybox base
    assert not any(entry.startswith("WERF_COMMIT") for entry in config["Env"])  # run-time env only
    assert config["Cmd"] == ["/app/tool"]
    assert config["WorkingDir"] == "/app"


def test_commands_see_the_werf_commit_env_and_stream_their_output(
        chain: Chain, buildah_store: Fixture) -> None:
    assert ("seen: hash=0123456789abcdef0123456789abcdef01234567 human=2026-11-22 21:00:00 +0000 UTC "
            "unix=1795381200") in chain.log
    assert "install done" in chain.log
    out = run_in_image(buildah_store, chain.images[2], "cat /app/from-before")
    assert out == "before 0123456789abcdef0123456789abcdef01234567\n"


def test_copy_tree_sets_owner_and_group_and_keeps_modes_and_symlinks(
        chain: Chain, buildah_store: Fixture) -> None:
    out = run_in_image(buildah_store, chain.images[2],
                       "stat -c '%n %u:%g %a %F' /app/app.txt /app/bin/tool.sh /app/tool; "
                       "readlink /app/tool; /app/tool")
    assert out.splitlines() == [
        "/app/app.txt 1234:4321 640 regular file",
        "/app/bin/tool.sh 1234:4321 755 regular file",
        "/app/tool 1234:4321 777 symbolic link",
        "bin/tool.sh",
        "tool",
    ]


def test_a_failing_command_stops_the_stage_with_the_output_tail_and_leaves_no_container(
        chain: Chain, buildah_store: Fixture) -> None:
    stapel = stapel_for(buildah_store)
    before = containers(buildah_store)
    log: list[str] = []
    with pytest.raises(BackendError) as failure, stapel.working_container(chain.images[0]) as container:
        stapel.run_shell(container, ["echo first", "echo about to fail && exit 7", "echo never"], log.append,
                         stage="install")
    error = failure.value
    assert error.message == f"the install commands failed in a container from {chain.images[0]}: exit code 7"
    assert error.returncode == 7
    assert error.output_tail[-2:] == ("first", "about to fail")
    assert "never" not in log
    assert error.hint is not None and "first failing command" in error.hint
    assert containers(buildah_store) == before


def test_ctrl_c_during_the_commands_removes_the_container(chain: Chain, buildah_store: Fixture) -> None:
    stapel = stapel_for(buildah_store)
    before = containers(buildah_store)

    def interrupt(line: str) -> None:
        if line == "started":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), stapel.working_container(chain.images[0]) as container:
        stapel.run_shell(container, ["echo started", "sleep 60"], interrupt)
    assert containers(buildah_store) == before


def test_a_missing_base_image_is_a_backend_error_and_leaves_no_container(
        buildah_store: Fixture, registry: Fixture) -> None:
    stapel = stapel_for(buildah_store)
    before = containers(buildah_store)
    with pytest.raises(BackendError) as failure:
        stapel.from_image(registry.repo("base/not-there") + ":latest")
    assert "manifest unknown" in "\n".join(failure.value.output_tail)
    assert containers(buildah_store) == before


def test_scratch_and_the_whole_image_config(buildah_store: Fixture, tmp_path: Path) -> None:
    stapel = stapel_for(buildah_store)
    (tmp_path / "tree" / "etc").mkdir(parents=True)
    (tmp_path / "tree" / "etc" / "motd").write_text("hi\n")
    settings = ImageConfig(
        labels={"team": "a"}, env={"MODE": "prod"}, volumes=["/data"], expose=["8080", "53/udp"],
        cmd=["serve", "--port", "8080"], entrypoint=["/bin/app"], workdir="/srv", user="1000:1000",
        healthcheck=Healthcheck(("CMD-SHELL", "/bin/app check 'it'"), interval="5s", timeout="2s", retries=3))
    with stapel.working_container("scratch") as container:
        stapel.copy_tree(container, tmp_path / "tree", "/")
        stapel.config(container, settings)
        image = stapel.commit(container, {"werf": "proj"})
    config = inspect_image(buildah_store, image)["Docker"]["config"]
    assert config["Labels"] == {"team": "a", "werf": "proj"} | {
        key: value for key, value in config["Labels"].items() if key == "io.buildah.version"}
    assert "MODE=prod" in config["Env"]
    assert set(config["Volumes"]) == {"/data"}
    assert set(config["ExposedPorts"]) == {"8080/tcp", "53/udp"}
    assert config["Cmd"] == ["serve", "--port", "8080"]
    assert config["Entrypoint"] == ["/bin/app"]
    assert config["WorkingDir"] == "/srv"
    assert config["User"] == "1000:1000"
    assert config["Healthcheck"]["Test"] == ["CMD-SHELL", "/bin/app check 'it'"]
    assert config["Healthcheck"]["Retries"] == 3
    assert config["Healthcheck"]["Interval"] == 5_000_000_000


def test_too_long_a_script_is_refused_before_running_buildah(buildah_store: Fixture) -> None:
    stapel = stapel_for(buildah_store)
    container = StageContainer(name="never-created", base="scratch")
    with pytest.raises(BackendError, match="at most 131071 fit in one argument"):
        stapel.run_shell(container, ["echo " + "x" * 131072], lambda _: None, stage="setup")


def test_copy_tree_needs_a_directory(buildah_store: Fixture, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    container = StageContainer(name="never-created", base="scratch")
    with pytest.raises(BackendError, match="not a directory"):
        stapel_for(buildah_store).copy_tree(container, tmp_path / "file", "/")


def test_pure_helpers() -> None:
    assert shell_script(["a", "b"]) == "a\nb\n"
    assert chown_value(1, None) == "1"
    assert chown_value(None, 5) == "0:5"
    assert chown_value("app", "staff") == "app:staff"
