"""`docker:` and imageSpec as `buildah config` flags (werf docker_instructions.go, image_spec.go)."""

from __future__ import annotations

from typing import Any

import pytest

from shipyard.backends.stapel_config import (
    Healthcheck,
    ImageConfig,
    ImageConfigChanges,
    command_form,
    config_arguments,
    docker_image_config,
    image_spec_changes,
    parse_healthcheck,
)
from shipyard.config.model import DockerInstructions, FrozenMap, ImageSpec
from shipyard.config.model import Healthcheck as SpecHealthcheck

CURRENT: dict[str, Any] = {
    "Labels": {"werf": "p", "werf-stage-content-digest": "d", "werf.io/parent-stage-id": "s",
               "werf-project-repo-commit": "c", "werf-version": "v", "org.opencontainers.a": "1", "x": "2"},
    "Env": ["PATH=/bin", "WERF_COMMIT_HASH=h", "WERF_COMMIT_TIME_UNIX=1", "DEBUG=1", "DEBUG_X=2",
            "HOME=/root", "SSH_AUTH_SOCK=/.werf/tmp/ssh-auth-sock"],
    "Volumes": {"/data": {}, "/logs": {}},
    "ExposedPorts": {"80/tcp": {}},
    "Cmd": ["/bin/sh"],
}


def test_command_strings_are_exec_form_when_json_arrays_else_shell_form() -> None:
    assert command_form("") is None
    assert command_form('["/bin/app", "run"]') == ["/bin/app", "run"]
    assert command_form("/bin/app run") == ["/bin/sh", "-c", "/bin/app run"]
    assert command_form("[ -f x ] && run") == ["/bin/sh", "-c", "[ -f x ] && run"]
    with pytest.raises(ValueError, match="JSON array"):
        command_form("[not json]")


def test_healthcheck_strings_parse_like_the_dockerfile_instruction() -> None:
    assert parse_healthcheck("NONE") == Healthcheck(test=("NONE",))
    flags = "--interval=5s --timeout=2s --start-period=1m --retries=4"
    assert parse_healthcheck(f'{flags} CMD ["curl", "-f", "x"]') == Healthcheck(
        test=("CMD", "curl", "-f", "x"), interval="5s", timeout="2s", start_period="1m", retries=4)
    assert parse_healthcheck("CMD curl -f http://x/ || exit 1") == Healthcheck(
        test=("CMD-SHELL", "curl -f http://x/ || exit 1"))
    for bad in ("--bogus=1 CMD x", "--interval 5s CMD x", "RUN x", "CMD", "NONE x"):
        with pytest.raises(ValueError):
            parse_healthcheck(bad)


def test_docker_directives_become_an_image_config() -> None:
    docker = DockerInstructions(volume=("/v",), expose=("80",), env=FrozenMap({"A": "1"}),
                                label=FrozenMap({"l": "v"}), cmd="run", entrypoint='["/e"]', workdir="/w",
                                user="u", healthcheck="CMD true", exact_values=True)
    assert docker_image_config(docker) == ImageConfig(
        labels={"l": "v"}, env={"A": "1"}, volumes=("/v",), expose=("80",), cmd=["/bin/sh", "-c", "run"],
        entrypoint=["/e"], workdir="/w", user="u", healthcheck=Healthcheck(test=("CMD-SHELL", "true")))
    assert docker_image_config(DockerInstructions()) == ImageConfig()


def test_env_values_are_protected_from_buildahs_own_expansion() -> None:
    assert config_arguments(ImageConfig(env={"P": "$PATH:${X}$"})) == ["--env", "P=$$PATH:$${X}$$"]


def test_image_spec_removes_by_name_and_regex_but_never_essential_labels() -> None:
    spec = ImageSpec(remove_labels=("/werf.*/", "/org\\.opencontainers\\..*/", "x"),
                     labels=FrozenMap({"%image%.name": "%project%/% image %"}))
    changes = image_spec_changes(spec, CURRENT, project="proj", image_name="api",
                                 service_labels={"werf-version": "v2", "werf-stage-content-digest": "d2",
                                                 "werf-new": "n"})
    assert changes.remove_labels == ("org.opencontainers.a", "werf-new", "werf-version", "x")
    assert changes.set.labels == {"werf-stage-content-digest": "d2", "api.name": "proj/api"}


def test_image_spec_env_removes_werf_commit_and_expands_new_values() -> None:
    spec = ImageSpec(remove_env=("/DEBUG.*/",), env=FrozenMap({"PATH": "$PATH:/app", "Q": "'$HOME'"}))
    changes = image_spec_changes(spec, CURRENT, project="p", image_name="i")
    assert changes.remove_env == ("DEBUG", "DEBUG_X", "SSH_AUTH_SOCK", "WERF_COMMIT_HASH",
                                  "WERF_COMMIT_TIME_UNIX")
    assert changes.set.env == {"PATH": "/bin:/app", "Q": "$HOME"}


def test_image_spec_regex_is_anchored_like_go() -> None:
    spec = ImageSpec(remove_env=("/DEBUG/",), remove_labels=("/^x|werf-version/",))
    changes = image_spec_changes(spec, CURRENT, project="p", image_name="i")
    assert "DEBUG_X" not in changes.remove_env and "DEBUG" in changes.remove_env
    assert changes.remove_labels == ("werf-version", "x")


def test_image_spec_volumes_ports_and_clears() -> None:
    spec = ImageSpec(remove_volumes=("/logs",), volumes=("/cache",), expose=("8080",), clear_cmd=True,
                     clear_user=True, clear_working_dir=True, clear_entrypoint=True, user="app",
                     author="me", stop_signal="SIGINT", clear_history=True)
    changes = image_spec_changes(spec, CURRENT, project="p", image_name="i")
    assert (changes.remove_volumes, changes.set.volumes) == (("/logs",), ("/cache",))
    assert (changes.remove_ports, changes.set.expose) == (("80/tcp",), ("8080",))
    arguments = changes.arguments()
    for flags in (["--volume", "/logs-"], ["--port", "80/tcp-"], ["--cmd", ""], ["--entrypoint", ""],
                  ["--workingdir", ""], ["--author", "me"], ["--stop-signal", "SIGINT"], ["--port", "8080"],
                  ["--user", "app"], ["--env", "WERF_COMMIT_HASH-"]):
        assert _contains(arguments, flags), flags
    assert not _contains(arguments, ["--user", ""])  # a user to set wins over clearUser
    assert changes.clear_history


def test_entrypoint_without_cmd_clears_cmd_and_healthcheck_seconds() -> None:
    spec = ImageSpec(entrypoint=("/e",), healthcheck=SpecHealthcheck(test=("CMD", "true"), interval=30))
    changes = image_spec_changes(spec, CURRENT, project="p", image_name="i")
    assert changes.clear_cmd and changes.set.entrypoint == ("/e",)
    assert changes.set.healthcheck == Healthcheck(test=("CMD", "true"), interval="30s")
    assert ImageConfigChanges().arguments() == []


def _contains(arguments: list[str], flags: list[str]) -> bool:
    return any(arguments[index:index + len(flags)] == flags for index in range(len(arguments)))
