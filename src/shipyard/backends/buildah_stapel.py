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
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.backends import process
from shipyard.backends.base import LogLine, RegistryAccess
from shipyard.backends.buildah import BuildahBackend, registry_flags
from shipyard.backends.buildah_output import failure_hint, readable_lines
from shipyard.backends.container_leases import ContainerLeases
from shipyard.backends.process import BackendError, ProcessFailed
from shipyard.backends.rootfs import clear_directories, remove_paths
from shipyard.backends.stapel_config import (
    Healthcheck,
    ImageConfig,
    ImageConfigChanges,
    config_arguments,
    image_spec_changes,
)
from shipyard.config.model import ImageSpec

__all__ = ["SCRATCH", "BuildahStapel", "Healthcheck", "ImageConfig", "ImageConfigChanges", "StageContainer",
           "chown_value", "config_arguments", "shell_script", "volume_arguments"]

SCRATCH = "scratch"
_SHORT_TIMEOUT = 120.0  # from (without a pull), copy, config, rm: local store operations
_NAME_PREFIX = "shipyard-stapel-"
_MAX_SCRIPT_BYTES = 131072  # Linux MAX_ARG_STRLEN: the longest single argument (`sh -c SCRIPT`)
_NO_SUCH_CONTAINER = ("container not known", "no such container", "does not exist")
# werf's stapel script: `set -e`, then `exec bash $0` if `type bash` succeeds (buildah_backend.go makeScript)
_PREFER_BASH = 'if type bash >/dev/null 2>&1; then exec bash -e -c "$1"; fi; exec "$0" -e -c "$1"'
# what `buildah run` itself prints after a failed command: the exit code is in our message already
_RUN_TRAILER = re.compile(r"(subprocess exited with status|Error: exit status|error: exit status) -?\d+")


@dataclass(frozen=True)
class StageContainer:
    """A buildah working container; `name` is what every buildah command takes."""

    name: str
    base: str  # the reference it was created from ("scratch" for an empty one)


class BuildahStapel:
    """Working containers for Stapel stages in a BuildahBackend's store; constructing it does no I/O."""

    def __init__(self, backend: BuildahBackend, *, executable: str = "buildah") -> None:
        self.root = backend.root
        self.runroot = backend.runroot
        self.storage_driver = backend.storage_driver
        self.isolation = backend.isolation
        self.pull_access = backend.pull_access
        self._executable = executable
        self._leases = ContainerLeases(Path(self.root).parent / "stapel-containers")

    # --- containers ---------------------------------------------------------------------------------------

    def from_image(self, reference: str, pull_access: RegistryAccess | None = None) -> StageContainer:
        """A Docker-format working container from `reference` (pulled only when missing) or from scratch."""
        name = _NAME_PREFIX + secrets.token_hex(8)
        self._leases.hold(name)  # before the container exists: a sweep never takes it for an orphan
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
        self._leases.release(container.name)

    def remove_orphans(self) -> list[str]:
        """Remove the working containers of builds that were killed (their owner process is gone)."""
        try:
            output = process.capture(self._buildah("containers", "--json"), timeout=_SHORT_TIMEOUT)
        except ProcessFailed as failure:
            raise _failed("buildah could not list its containers", failure) from None
        names = [str(entry.get("containername", "")) for entry in json.loads(output or "[]") or []]
        orphans = self._leases.orphans([name for name in names if name.startswith(_NAME_PREFIX)])
        for name in orphans:
            self.remove(StageContainer(name=name, base=""))
            self._leases.forget(name)
        return orphans

    # --- stage instructions -------------------------------------------------------------------------------

    def run_shell(self, container: StageContainer, commands: Sequence[str], log: LogLine, *,
                  shell: str = "/bin/sh", env: Mapping[str, str] | None = None, stage: str = "",
                  mounts: Sequence[tuple[Path, str]] = (), secret_files: Sequence[tuple[Path, str]] = (),
                  masked: Sequence[str] = ()) -> None:
        """Run `commands` as one script with `-e`: the first failing command fails the stage.

        As werf does, the commands run as root (0:0) in `/` whatever USER/WORKDIR the image sets, and with
        bash when the image has one (werf's script re-executes itself with bash), else with `shell`. `env`
        (e.g. WERF_COMMIT_HASH) is set for the commands only, not in the image. Each (host directory,
        container path) of `mounts` is bind-mounted while the commands run: what they write there stays on
        the host, and only the empty mount point directory (created by buildah when missing) is left in the
        image, as with werf's buildah backend. `secret_files` are bind-mounted read-only the same way, and
        every string of `masked` (secret values) is replaced in the output. Output goes to `log`.
        """
        if not commands:
            return
        arguments = ["run", "--isolation", self.isolation, "--user", "0:0", "--workingdir", "/"]
        for key, value in (env or {}).items():
            arguments += ["--env", f"{key}={value}"]
        arguments += volume_arguments(mounts)
        # secrets: read-only (a `src` secret is the user's own file), values masked in the output
        arguments += volume_arguments(secret_files, read_only=True)
        script = _checked_script(commands, stage)
        arguments += [container.name, "--", shell, "-c", _PREFER_BASH, shell, script]
        try:
            process.run(self._buildah(*arguments), on_line=lambda line: _unless_trailer(line, log),
                        secrets=masked)
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
        self.apply_config_arguments(container, config_arguments(settings))

    # --- the root filesystem ------------------------------------------------------------------------------

    def mount(self, container: StageContainer) -> Path:
        """`buildah mount`: the host directory of the container's root filesystem (unmount when done)."""
        try:
            output = process.capture(self._buildah("mount", container.name), timeout=_SHORT_TIMEOUT)
        except ProcessFailed as failure:
            raise _failed(f"buildah could not mount container {container.name}", failure) from None
        return Path(output.strip())

    def unmount(self, container: StageContainer) -> None:
        try:
            process.capture(self._buildah("umount", container.name), timeout=_SHORT_TIMEOUT)
        except ProcessFailed as failure:
            raise _failed(f"buildah could not unmount container {container.name}", failure) from None

    @contextlib.contextmanager
    def mounted(self, container: StageContainer) -> Iterator[Path]:
        root = self.mount(container)
        try:
            yield root
        finally:
            self.unmount(container)

    def delete_paths(self, container: StageContainer, to: str, relative_paths: Sequence[str]) -> None:
        """Remove `to/<path>` for each path (a symlink as a link, a directory with its tree; missing is
        fine), then the directories emptied by that, up to but not including `to` (werf's patch apply).

        Symlinks on the way are resolved inside the container's root: nothing outside it is ever touched.
        """
        if not relative_paths:
            return
        with self.mounted(container) as root:
            _in_rootfs(container, "remove files from", lambda: remove_paths(root, to, relative_paths))

    def clear_directories(self, container: StageContainer, paths: Sequence[str]) -> None:
        """Empty each directory of `paths`, keeping it (werf's from stage does this to mount points)."""
        if not paths:
            return
        with self.mounted(container) as root:
            _in_rootfs(container, "clear directories in", lambda: clear_directories(root, paths))

    def apply_config_arguments(self, container: StageContainer, arguments: Sequence[str]) -> None:
        """`buildah config ARGUMENTS` (e.g. `ImageConfigChanges.arguments()`); nothing to do for none."""
        if not arguments:
            return
        try:
            process.capture(self._buildah("config", *arguments, container.name), timeout=_SHORT_TIMEOUT)
        except ProcessFailed as failure:
            raise _failed(f"buildah could not configure container {container.name}", failure) from None

    def apply_config_changes(self, container: StageContainer, changes: ImageConfigChanges) -> None:
        """The imageSpec changes; commit with `omit_history=changes.clear_history` afterwards."""
        self.apply_config_arguments(container, changes.arguments())

    def apply_image_spec(self, container: StageContainer, spec: ImageSpec, *, project: str, image_name: str,
                         service_labels: Mapping[str, str] | None = None) -> ImageConfigChanges:
        """werf's imageSpec stage on the container's current config (see `image_spec_changes`).

        Commit afterwards with `omit_history=changes.clear_history` and without the service labels named
        in `changes.remove_labels` (werf removes matching service labels too).
        """
        changes = image_spec_changes(spec, self.inspect_config(container.name, kind="container"),
                                     project=project, image_name=image_name, service_labels=service_labels)
        self.apply_config_changes(container, changes)
        return changes

    def inspect_config(self, reference: str, *, kind: str = "image") -> dict[str, Any]:
        """The Docker `config` section (Labels, Env, Volumes, ExposedPorts, Cmd, …) of a local image (or
        of a working container with `kind="container"`)."""
        try:
            output = process.capture(self._buildah("inspect", "--type", kind, reference),
                                     timeout=_SHORT_TIMEOUT)
        except ProcessFailed as failure:
            raise _failed(f"buildah could not inspect {kind} {reference}", failure) from None
        config: dict[str, Any] = json.loads(output).get("Docker", {}).get("config") or {}
        return config

    def commit(self, container: StageContainer, labels: Mapping[str, str], *,
               omit_history: bool = False) -> str:
        """Set `labels` and commit as a Docker-format image (keeping the container's config): "sha256:<id>".

        `omit_history` drops the whole history (imageSpec `clearHistory`). The container stays: commit it
        again, or remove it (working_container does).
        """
        if labels:
            self.config(container, ImageConfig(labels=labels))
        with tempfile.TemporaryDirectory(prefix="shipyard-commit-") as scratch:
            iidfile = Path(scratch) / "iid"
            history = ["--omit-history"] if omit_history else []
            argv = self._buildah("commit", "--quiet", "--format", "docker", *history, "--iidfile",
                                 str(iidfile), container.name)
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


def volume_arguments(mounts: Sequence[tuple[Path, str]], *, read_only: bool = False) -> list[str]:
    """`buildah run --volume HOST:CONTAINER[:ro]` for each mount (`:` cannot be quoted in the flag)."""
    arguments: list[str] = []
    for host, target in mounts:
        if ":" in str(host) or ":" in target:
            raise BackendError(f"cannot bind-mount {host} at {target}: a buildah volume path has no ':'")
        arguments += ["--volume", f"{host}:{target}" + (":ro" if read_only else "")]
    return arguments


def _in_rootfs(container: StageContainer, action: str, operation: Callable[[], None]) -> None:
    try:
        operation()
    except OSError as error:
        raise BackendError(f"could not {action} container {container.name}: {error}") from None


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


def _failed(message: str, failure: ProcessFailed) -> BackendError:
    tail = tuple(readable_lines(failure.output_tail))
    return BackendError(f"{message}: {_exit(failure)}", hint=failure_hint(tail), command=failure.command,
                        returncode=failure.returncode, output_tail=tail)


def _exit(failure: ProcessFailed) -> str:
    if isinstance(failure, process.ProcessTimeout):
        return "timed out"
    return process.describe_returncode(failure.returncode)
