"""The container operations of a Stapel stage build on buildah, in the same private store as BuildahBackend.

A stage is built in a working container FROM the previous stage image (or the base image, or scratch): shell
commands run as one `sh -e -c` script (werf writes them into one `#!bash -e` script: the first failing command
stops the stage), files are copied in with an owner and group, the image config is set, and the container is
committed as the stage's own Docker-format image with werf's service labels (werf-internals §1.4c, §3.3).

Every container gets a name of our own, so one whose creation was interrupted can still be removed; use
`working_container` to have it removed whatever happens (a failed command, an exception, Ctrl-C).
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import shlex
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipyard.backends import process
from shipyard.backends.base import LogLine, RegistryAccess
from shipyard.backends.buildah import BuildahBackend, registry_flags
from shipyard.backends.buildah_output import failure_hint, readable_lines
from shipyard.backends.process import BackendError, ProcessFailed

SCRATCH = "scratch"
_SHORT_TIMEOUT = 120.0  # from (without a pull), copy, config, rm: local store operations
_NAME_PREFIX = "shipyard-stapel-"
_MAX_SCRIPT_BYTES = 131072  # Linux MAX_ARG_STRLEN: the longest single argument (`sh -c SCRIPT`)
_NO_SUCH_CONTAINER = ("container not known", "no such container", "does not exist")
# what `buildah run` itself prints after a failed command: the exit code is in our message already
_RUN_TRAILER = re.compile(r"(subprocess exited with status|Error: exit status|error: exit status) -?\d+")


@dataclass(frozen=True)
class StageContainer:
    """A buildah working container; `name` is what every buildah command takes."""

    name: str
    base: str  # the reference it was created from ("scratch" for an empty one)


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


class BuildahStapel:
    """Working containers for Stapel stages in a BuildahBackend's store; constructing it does no I/O."""

    def __init__(self, backend: BuildahBackend, *, executable: str = "buildah") -> None:
        self.root = backend.root
        self.runroot = backend.runroot
        self.storage_driver = backend.storage_driver
        self.isolation = backend.isolation
        self.pull_access = backend.pull_access
        self._executable = executable

    # --- containers ---------------------------------------------------------------------------------------

    def from_image(self, reference: str, pull_access: RegistryAccess | None = None) -> StageContainer:
        """A Docker-format working container from `reference` (pulled only when missing) or from scratch."""
        name = _NAME_PREFIX + secrets.token_hex(8)
        arguments = ["from", "--quiet", "--name", name, "--format", "docker"]
        if reference != SCRATCH:
            arguments += ["--pull=false", *registry_flags(pull_access or self.pull_access)]
        try:
            process.capture(self._buildah(*arguments, reference), timeout=None)
        except ProcessFailed as failure:
            self._remove_quietly(name)
            raise _failed(f"buildah could not create a container from {reference}", failure) from None
        except BaseException:
            self._remove_quietly(name)
            raise
        return StageContainer(name=name, base=reference)

    def scratch(self) -> StageContainer:
        return self.from_image(SCRATCH)

    @contextlib.contextmanager
    def working_container(self, reference: str,
                          pull_access: RegistryAccess | None = None) -> Iterator[StageContainer]:
        """`from_image`, removed on leaving the block whatever happens (commit first to keep the result)."""
        container = self.from_image(reference, pull_access)
        try:
            yield container
        except BaseException:
            self._remove_quietly(container.name)  # the block's own error is the one to report
            raise
        self.remove(container)

    def remove(self, container: StageContainer) -> None:
        """`buildah rm`; a container that is already gone is not an error."""
        try:
            process.capture(self._buildah("rm", container.name), timeout=_SHORT_TIMEOUT)
        except ProcessFailed as failure:
            text = "\n".join(failure.output_tail).lower()
            if not any(needle in text for needle in _NO_SUCH_CONTAINER):
                raise _failed(f"buildah could not remove container {container.name}", failure) from None

    # --- stage instructions -------------------------------------------------------------------------------

    def run_shell(self, container: StageContainer, commands: Sequence[str], log: LogLine, *,
                  shell: str = "/bin/sh", env: Mapping[str, str] | None = None, stage: str = "") -> None:
        """Run `commands` as one script with `-e`: the first failing command fails the stage.

        `env` (e.g. WERF_COMMIT_HASH) is set for the commands only, not in the image. Output goes to `log`.
        """
        if not commands:
            return
        arguments = ["run", "--isolation", self.isolation]
        for key, value in (env or {}).items():
            arguments += ["--env", f"{key}={value}"]
        arguments += [container.name, "--", shell, "-e", "-c", _checked_script(commands, stage)]
        try:
            process.run(self._buildah(*arguments), on_line=lambda line: _unless_trailer(line, log))
        except ProcessFailed as failure:
            title = f"the {stage} commands" if stage else "the commands"
            tail = tuple(line for line in readable_lines(failure.output_tail)
                         if not _RUN_TRAILER.fullmatch(line))
            raise BackendError(
                f"{title} failed in a container from {container.base}: {_exit(failure)}",
                hint="the first failing command stopped the stage; its last output lines are shown above",
                command=failure.command, returncode=failure.returncode, output_tail=tail) from None

    def copy_tree(self, container: StageContainer, source_dir: Path, to: str, *,
                  owner: str | int | None = None, group: str | int | None = None) -> None:
        """Copy the contents of `source_dir` into `to`, keeping modes and symlinks (not following them).

        Owner and group are ids or names (names resolve in the container); unset ones are root, like COPY.
        """
        if not source_dir.is_dir():
            raise BackendError(f"cannot copy {source_dir} into a container: it is not a directory")
        arguments = ["copy", "--quiet"]
        if owner is not None or group is not None:
            arguments += ["--chown", chown_value(owner, group)]
        arguments += [container.name, f"{source_dir}/.", to]
        try:
            process.capture(self._buildah(*arguments), timeout=None)
        except ProcessFailed as failure:
            raise _failed(f"buildah could not copy {source_dir} to {to}", failure) from None

    def config(self, container: StageContainer, settings: ImageConfig) -> None:
        """`buildah config` with `settings`; nothing happens when there is nothing to set."""
        arguments = config_arguments(settings)
        if not arguments:
            return
        try:
            process.capture(self._buildah("config", *arguments, container.name), timeout=_SHORT_TIMEOUT)
        except ProcessFailed as failure:
            raise _failed(f"buildah could not configure container {container.name}", failure) from None

    def commit(self, container: StageContainer, labels: Mapping[str, str]) -> str:
        """Set `labels` and commit as a Docker-format image (keeping the container's config): "sha256:<id>".

        The container stays: commit it again, or remove it (working_container does).
        """
        if labels:
            self.config(container, ImageConfig(labels=labels))
        with tempfile.TemporaryDirectory(prefix="shipyard-commit-") as scratch:
            iidfile = Path(scratch) / "iid"
            argv = self._buildah("commit", "--quiet", "--format", "docker", "--iidfile", str(iidfile),
                                 container.name)
            try:
                process.capture(argv, timeout=None)
            except ProcessFailed as failure:
                raise _failed(f"buildah could not commit container {container.name}", failure) from None
            raw = iidfile.read_text().strip()
        return raw if raw.startswith("sha256:") else f"sha256:{raw}"

    # --- helpers ------------------------------------------------------------------------------------------

    def _buildah(self, *arguments: str) -> list[str]:
        store = ["--root", str(self.root), "--runroot", str(self.runroot), "--storage-driver",
                 self.storage_driver]
        return [self._executable, *store, *arguments]

    def _remove_quietly(self, name: str) -> None:
        """Remove a container whose creation failed or was interrupted (it may not exist)."""
        with contextlib.suppress(BackendError):
            self.remove(StageContainer(name=name, base=""))


def _checked_script(commands: Sequence[str], stage: str) -> str:
    script = shell_script(commands)
    size = len(script.encode())
    if size >= _MAX_SCRIPT_BYTES:
        limit = _MAX_SCRIPT_BYTES - 1
        raise BackendError(
            f"the {stage or 'stage'} commands are {size} bytes long; at most {limit} fit in one argument",
            hint="move the long commands into a script file in the repository and run that")
    return script


def _unless_trailer(line: str, log: LogLine) -> None:
    if not _RUN_TRAILER.fullmatch(line):
        log(line)


def shell_script(commands: Sequence[str]) -> str:
    """The commands as one script, one per line, as werf writes them (the shell runs it with -e)."""
    return "\n".join(commands) + "\n"


def chown_value(owner: str | int | None, group: str | int | None) -> str:
    """`--chown` for an owner and/or a group; an unset owner is root (as without --chown)."""
    user = "0" if owner is None else str(owner)
    return user if group is None else f"{user}:{group}"


def config_arguments(settings: ImageConfig) -> list[str]:
    """The `buildah config` flags for `settings` (pure)."""
    arguments: list[str] = []
    for key, value in (settings.labels or {}).items():
        arguments += ["--label", f"{key}={value}"]
    for key, value in (settings.env or {}).items():
        arguments += ["--env", f"{key}={value}"]
    for volume in settings.volumes:
        arguments += ["--volume", volume]
    for port in settings.expose:
        arguments += ["--port", port if "/" in port else f"{port}/tcp"]  # as Docker stores EXPOSE 8080
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


def _failed(message: str, failure: ProcessFailed) -> BackendError:
    tail = tuple(readable_lines(failure.output_tail))
    return BackendError(f"{message}: {_exit(failure)}", hint=failure_hint(tail), command=failure.command,
                        returncode=failure.returncode, output_tail=tail)


def _exit(failure: ProcessFailed) -> str:
    if isinstance(failure, process.ProcessTimeout):
        return "timed out"
    return process.describe_returncode(failure.returncode)
