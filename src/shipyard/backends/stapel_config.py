"""Stapel image config as `buildah config` flags (pure): werf's `docker:` directives and `imageSpec`.

`docker:` (werf `pkg/build/stage/docker_instructions.go`, buildah path): CMD/ENTRYPOINT strings go through
`CmdOrEntrypointStringToSlice` — text that starts with `[` and ends with `]` is a JSON array (exec form), any
other text becomes `["/bin/sh", "-c", text]`; HEALTHCHECK is parsed like the Dockerfile instruction
(`newHealthConfigFromString`); `exactValues` only enters the stage digest (`"exact-values:::"`): on the
buildah backend it changes nothing in the image, so it is ignored here.

`imageSpec` (werf `pkg/build/stage/image_spec.go`, `PrepareImage`/`updateConfigFile`): see
`image_spec_changes`. buildah 1.28 removes with a trailing `-` (`--label K-`, `--env K-`, `--volume P-`,
`--port P-`) and clears with an empty value (`--cmd ''`, `--entrypoint ''`, `--user ''`, `--workingdir ''`);
every one of these was checked by inspecting committed images.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shipyard.config.model import DockerInstructions, ImageSpec
from shipyard.stages.shellword import process_word

# essential werf labels: never removed by imageSpec (image_spec.go modifyLabels)
ESSENTIAL_LABELS = frozenset({"werf", "werf-stage-content-digest", "werf.io/parent-stage-id",
                              "werf-project-repo-commit"})
# image_spec.go modifyEnv: "a temporary solution to remove werf commit envs that persist after build"
COMMIT_ENV = ("WERF_COMMIT_HASH", "WERF_COMMIT_TIME_HUMAN", "WERF_COMMIT_TIME_UNIX")
# ... and SSH_AUTH_SOCK when it is werf's in-container agent socket (SSHContainerAuthSockPath)
SSH_AUTH_SOCK = ("SSH_AUTH_SOCK", "/.werf/tmp/ssh-auth-sock")
_LABEL_TEMPLATE = re.compile(r"%\s*(image|project)\s*%")
_HEALTHCHECK_FLAGS = {"interval", "timeout", "start-period", "start-interval", "retries"}


@dataclass(frozen=True)
class Healthcheck:
    """A Docker HEALTHCHECK as Docker stores it: `test` is ("NONE",), ("CMD", arg, …) or
    ("CMD-SHELL", command); durations like "30s" ("" = buildah's default)."""

    test: Sequence[str]
    interval: str = ""
    timeout: str = ""
    start_period: str = ""
    retries: int | None = None


@dataclass(frozen=True)
class ImageConfig:
    """The config a stage (werf's `docker:` directives) sets; None / empty leaves the inherited value."""

    labels: Mapping[str, str] | None = None
    env: Mapping[str, str] | None = None
    volumes: Sequence[str] = ()
    expose: Sequence[str] = ()  # "8080", "53/udp"
    cmd: Sequence[str] | None = None  # exec form
    entrypoint: Sequence[str] | None = None  # exec form
    workdir: str | None = None
    user: str | None = None
    healthcheck: Healthcheck | None = None


@dataclass(frozen=True)
class ImageConfigChanges:
    """What the imageSpec stage changes in the previous stage's config; `arguments()` for `buildah config`.

    `set` holds the values to write (ports raw, as werf stores them); the `remove_*` sets name what goes;
    `clear_*` empties a field (a value in `set` wins, as in werf); `clear_history` is a commit option
    (`buildah commit --omit-history`).
    """

    set: ImageConfig = field(default_factory=ImageConfig)
    remove_labels: tuple[str, ...] = ()
    remove_env: tuple[str, ...] = ()
    remove_volumes: tuple[str, ...] = ()
    remove_ports: tuple[str, ...] = ()
    clear_cmd: bool = False
    clear_entrypoint: bool = False
    clear_user: bool = False
    clear_working_dir: bool = False
    author: str = ""
    stop_signal: str = ""
    clear_history: bool = False

    def arguments(self) -> list[str]:
        arguments = [flag for key in self.remove_labels for flag in ("--label", f"{key}-")]
        arguments += [flag for key in self.remove_env for flag in ("--env", f"{key}-")]
        arguments += [flag for path in self.remove_volumes for flag in ("--volume", f"{path}-")]
        arguments += [flag for port in self.remove_ports for flag in ("--port", f"{port}-")]
        clears = ((self.clear_cmd and self.set.cmd is None, "--cmd"),
                  (self.clear_entrypoint and self.set.entrypoint is None, "--entrypoint"),
                  (self.clear_user and self.set.user is None, "--user"),
                  (self.clear_working_dir and self.set.workdir is None, "--workingdir"))
        arguments += [item for clear, flag in clears if clear for item in (flag, "")]
        if self.author:
            arguments += ["--author", self.author]
        if self.stop_signal:
            arguments += ["--stop-signal", self.stop_signal]
        return arguments + config_arguments(self.set, normalize_ports=False)


def config_arguments(settings: ImageConfig, *, normalize_ports: bool = True) -> list[str]:
    """The `buildah config` flags for `settings` (pure).

    buildah expands `$NAME` in `--env` values (unknown names become the bare name), so every `$` is doubled:
    the value lands in the image as given. `normalize_ports` stores EXPOSE 8080 as Docker does ("8080/tcp").
    """
    arguments: list[str] = []
    for key, value in (settings.labels or {}).items():
        arguments += ["--label", f"{key}={value}"]
    for key, value in (settings.env or {}).items():
        arguments += ["--env", f"{key}={value.replace('$', '$$')}"]
    for volume in settings.volumes:
        arguments += ["--volume", volume]
    for port in settings.expose:
        arguments += ["--port", port if "/" in port or not normalize_ports else f"{port}/tcp"]
    if settings.cmd is not None:
        arguments += ["--cmd", json.dumps(list(settings.cmd))]
    if settings.entrypoint is not None:
        arguments += ["--entrypoint", json.dumps(list(settings.entrypoint))]
    if settings.workdir is not None:
        arguments += ["--workingdir", settings.workdir]
    if settings.user is not None:
        arguments += ["--user", settings.user]
    if settings.healthcheck is not None:
        arguments += _healthcheck_arguments(settings.healthcheck)
    return arguments


def _healthcheck_arguments(check: Healthcheck) -> list[str]:
    # buildah splits the value into words like a shell: quoting keeps a CMD-SHELL command one element
    arguments = ["--healthcheck", shlex.join(check.test)]
    for flag, value in (("--healthcheck-interval", check.interval), ("--healthcheck-timeout", check.timeout),
                        ("--healthcheck-start-period", check.start_period)):
        if value:
            arguments += [flag, value]
    if check.retries is not None:
        arguments += ["--healthcheck-retries", str(check.retries)]
    return arguments


# --- docker: ------------------------------------------------------------------------------------------------


def docker_image_config(docker: DockerInstructions) -> ImageConfig:
    """The image config of werf's `dockerInstructions` stage (see the module docstring)."""
    return ImageConfig(
        labels=dict(docker.label) or None, env=dict(docker.env) or None, volumes=docker.volume,
        expose=docker.expose, cmd=command_form(docker.cmd), entrypoint=command_form(docker.entrypoint),
        workdir=docker.workdir or None, user=docker.user or None,
        healthcheck=parse_healthcheck(docker.healthcheck) if docker.healthcheck else None)


def command_form(text: str) -> list[str] | None:
    """werf `CmdOrEntrypointStringToSlice`: None for "", a JSON array as is, else `/bin/sh -c text`."""
    if not text:
        return None
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{text!r} is not a JSON array of strings: {error.msg}") from None
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            raise ValueError(f"{text!r} is not a JSON array of strings")
        return parsed
    return ["/bin/sh", "-c", text]


def parse_healthcheck(text: str) -> Healthcheck:
    """`HEALTHCHECK <text>` as buildkit parses it: `[--flag=value…] NONE | CMD <json array | shell text>`."""
    rest = text.strip()
    flags: dict[str, str] = {}
    while rest.startswith("--"):
        word, _, rest = rest.partition(" ")
        name, equals, value = word[2:].partition("=")
        if name not in _HEALTHCHECK_FLAGS or not equals:
            raise ValueError(f"unknown or incomplete HEALTHCHECK flag {word!r}")
        flags[name] = value
        rest = rest.lstrip()
    kind, _, command = rest.partition(" ")
    command = command.strip()
    if kind.upper() == "NONE":
        if command or flags:
            raise ValueError("HEALTHCHECK NONE takes no arguments")
        return Healthcheck(test=("NONE",))
    if kind.upper() != "CMD" or not command:
        raise ValueError(f"HEALTHCHECK must be `NONE` or `CMD <command>`, not {text!r}")
    exec_form = command_form(command) if command.startswith("[") and command.endswith("]") else None
    test = ("CMD", *exec_form) if exec_form is not None else ("CMD-SHELL", command)
    retries = flags.get("retries")
    return Healthcheck(test=test, interval=flags.get("interval", ""), timeout=flags.get("timeout", ""),
                       start_period=flags.get("start-period", ""),
                       retries=int(retries) if retries is not None else None)


# --- imageSpec ----------------------------------------------------------------------------------------------


def image_spec_changes(spec: ImageSpec, current_config: Mapping[str, Any], *, project: str, image_name: str,
                       service_labels: Mapping[str, str] | None = None) -> ImageConfigChanges:
    """werf's imageSpec stage as changes to `current_config` (the previous stage's Docker `config` section).

    Labels: the current ones plus the new stage's `service_labels`, minus `removeLabels` (names or `/regex/`,
    Go-anchored) except the essential werf labels, plus `labels` with `%image%`/`%project%` substituted;
    `remove_labels` also names the service labels that go: leave them out of the commit labels. Env: minus
    `removeEnv`, WERF_COMMIT_* and werf's SSH_AUTH_SOCK, plus `env` values expanded like Dockerfile words
    against the current env. Volumes: minus `removeVolumes`, plus `volumes`. `expose` replaces the exposed
    ports. ENTRYPOINT without CMD clears CMD. `clearWerfLabels` is read by werf's config but not by its
    imageSpec stage: it changes nothing.
    """
    labels: dict[str, str] = dict(current_config.get("Labels") or {})
    label_matches = _matcher(spec.remove_labels)
    all_labels = {**labels, **(service_labels or {})}
    final_labels = {key: value for key, value in all_labels.items()
                    if key in ESSENTIAL_LABELS or not label_matches(key)}
    final_labels.update(_template_labels(spec.labels, project=project, image_name=image_name))
    current_env = _env_map(current_config.get("Env") or ())
    env_matches = _matcher((*spec.remove_env, *COMMIT_ENV))
    final_env = {key: value for key, value in current_env.items()
                 if not env_matches(key) and (key, value) != SSH_AUTH_SOCK}
    final_env.update({key: process_word(value, current_env) for key, value in spec.env.items()})
    volumes = set(current_config.get("Volumes") or {})
    ports = set(current_config.get("ExposedPorts") or {})
    final_volumes = (volumes - set(spec.remove_volumes)) | set(spec.volumes)
    final_ports = set(spec.expose) if spec.expose else ports
    return ImageConfigChanges(
        set=ImageConfig(
            labels=_changed(labels, final_labels) or None, env=_changed(current_env, final_env) or None,
            volumes=tuple(sorted(final_volumes - volumes)), expose=tuple(sorted(final_ports - ports)),
            cmd=spec.cmd or None, entrypoint=spec.entrypoint or None, workdir=spec.working_dir or None,
            user=spec.user or None, healthcheck=_spec_healthcheck(spec)),
        remove_labels=tuple(sorted(set(all_labels) - set(final_labels))),
        remove_env=tuple(sorted(set(current_env) - set(final_env))),
        remove_volumes=tuple(sorted(volumes - final_volumes)),
        remove_ports=tuple(sorted(ports - final_ports)),
        clear_cmd=spec.clear_cmd or bool(spec.entrypoint and not spec.cmd),
        clear_entrypoint=spec.clear_entrypoint, clear_user=spec.clear_user,
        clear_working_dir=spec.clear_working_dir, author=spec.author or "", stop_signal=spec.stop_signal,
        clear_history=spec.clear_history)


def _matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """werf compileRemovePatterns/matchKey: `/re/` is the regex `^re$` (Go), anything else a name."""
    names = {pattern for pattern in patterns if not _is_regex(pattern)}
    regexes = [re.compile(f"^{pattern[1:-1]}\\Z") for pattern in patterns if _is_regex(pattern)]
    return lambda key: key in names or any(regex.search(key) for regex in regexes)


def _is_regex(pattern: str) -> bool:
    return len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/")


def _template_labels(labels: Mapping[str, str], *, project: str, image_name: str) -> dict[str, str]:
    values = {"image": image_name, "project": project}

    def render(text: str) -> str:
        return _LABEL_TEMPLATE.sub(lambda match: values[match.group(1)], text)

    return {render(key): render(value) for key, value in labels.items()}


def _env_map(entries: Iterable[str]) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in entries if "=" in entry)


def _changed(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in after.items() if before.get(key) != value}


def _spec_healthcheck(spec: ImageSpec) -> Healthcheck | None:
    check = spec.healthcheck
    if check is None:
        return None
    return Healthcheck(test=check.test, interval=_seconds(check.interval), timeout=_seconds(check.timeout),
                       start_period=_seconds(check.start_period), retries=check.retries or None)


def _seconds(value: int) -> str:
    return f"{value}s" if value else ""
