"""ContainerBackend on the buildah CLI (1.28, Debian bookworm), in a private store (--root/--runroot).

Every call goes through backends/process.py. Facts this module relies on (docs/environment.md):
chroot isolation (the default oci isolation with crun fails on hybrid-cgroup hosts) shares the host network;
`bud --layers` keeps buildah's own step cache, which never changes our content digests; `push --digestfile`
gives the manifest digest; buildah stores short names as `localhost/<name>`, which this module hides.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.backends import process
from shipyard.backends.base import DockerfileBuild, LocalImage, LogLine, PushedImage, RegistryAccess
from shipyard.backends.buildah_output import (
    failure_hint,
    local_image,
    name_repository,
    normalize_name,
    readable_lines,
)
from shipyard.backends.process import BackendError, ProcessFailed

_IMAGE_NOT_KNOWN = "image not known"
_SHORT_TIMEOUT = 120.0  # inspect, images, tag, rmi: local store operations


_PUSH_ATTEMPTS = 3
# what the registry answers when another push of the same blob was not finished (moby/moby#22854)
_SHARED_BLOB_RACE = ("blob unknown", "digest invalid")


@dataclass(frozen=True)
class _ListedImage:
    """One `buildah images --json` entry: the full ID and the names (normalised)."""

    image_id: str
    names: tuple[str, ...]


class BuildahBackend:
    """Builds, tags, pushes and lists images in one private buildah store; constructing it does no I/O."""

    name = "buildah"

    def __init__(
        self,
        root: Path,
        runroot: Path,
        storage_driver: str = "overlay",
        isolation: str = "chroot",
        *,
        pull_access: RegistryAccess | None = None,
        executable: str = "buildah",
    ) -> None:
        self.root = root
        self.runroot = runroot
        self.storage_driver = storage_driver
        self.isolation = isolation
        # how `FROM` images are pulled (werf: --insecure-registry / --skip-tls-verify-registry apply to all)
        self.pull_access = pull_access or RegistryAccess()
        self._executable = executable

    # --- ContainerBackend ---------------------------------------------------------------------------------

    def build_dockerfile(self, build: DockerfileBuild, log: LogLine) -> str:
        """`buildah bud` of the whole Dockerfile up to `build.target`; returns "sha256:<image id>"."""
        if build.network not in ("", "host") and self.isolation == "chroot":
            raise BackendError(
                f"network {build.network!r} is not possible with buildah's chroot isolation (it shares the "
                "host network)", hint="drop `network`, or use isolation oci with the runc runtime")
        with tempfile.TemporaryDirectory(prefix="shipyard-bud-") as scratch:
            iidfile = Path(scratch) / "iid"
            # The context is already filtered by .dockerignore (and holds contextAddFiles on purpose): an
            # empty ignore file stops buildah from filtering it a second time.
            ignorefile = Path(scratch) / "ignore"
            ignorefile.write_bytes(b"")
            argv = self._buildah("bud", *self.bud_arguments(build, iidfile=iidfile, ignorefile=ignorefile))
            try:
                process.run(argv, on_line=log, secrets=build.masked)
            except ProcessFailed as failure:
                message = f"buildah could not build {_build_title(build)}"
                raise _failed(message, failure, building=True) from None
            return _image_id(iidfile.read_text().strip())

    def tag(self, image: str, reference: str) -> None:
        self._capture("tag", image, reference, action=f"tag {image} as {reference}")

    def push(self, reference: str, access: RegistryAccess) -> PushedImage:
        """Push the local image named `reference` to docker://`reference` as Docker schema 2 (like werf).

        A push racing another push of a shared blob into the same repository can be refused by the
        distribution registry (`blob unknown` / `digest invalid` for the manifest): that push is retried.
        """
        with tempfile.TemporaryDirectory(prefix="shipyard-push-") as scratch:
            digestfile = Path(scratch) / "digest"
            argv = self._buildah("push", "--digestfile", str(digestfile), "--format", "v2s2",
                                 *registry_flags(access), reference, f"docker://{reference}")
            for attempt in range(1, _PUSH_ATTEMPTS + 1):
                try:
                    process.run(argv)
                    break
                except ProcessFailed as failure:
                    output = "\n".join(failure.output_tail).lower()
                    if attempt == _PUSH_ATTEMPTS or not any(race in output for race in _SHARED_BLOB_RACE):
                        raise _failed(f"buildah could not push {reference}", failure) from None
                    time.sleep(0.5 * attempt)
            return PushedImage(reference=reference, manifest_digest=digestfile.read_text().strip())

    def pull(self, reference: str, access: RegistryAccess) -> str:
        # buildah's default policy keeps a local image of that name; a pull here must fetch the tag as it is
        output = self._capture("pull", "--quiet", "--policy", "always", *registry_flags(access), reference,
                               action=f"pull {reference}", timeout=None)
        return _image_id(output.split()[-1])

    def remove(self, reference: str) -> None:
        """`buildah rmi`: only untags while the image has other names; a missing image is not an error."""
        try:
            self._capture("rmi", reference, action=f"remove {reference}", missing_ok=True)
        except _Missing:
            return

    def inspect(self, reference: str) -> LocalImage | None:
        try:
            listed = self._images(reference)
        except _Missing:
            return None
        return self._local_image(listed[0]) if listed else None

    def list_image_names(self, repository: str) -> list[str]:
        """One `buildah images`: what the local stages storage needs to find candidates (a store with hundreds
        of stages would otherwise cost one `buildah inspect` each, ~30 ms apiece)."""
        wanted = normalize_name(repository)
        return [name for listed in self._images() for name in listed.names if name_repository(name) == wanted]

    def list_images(self, repository: str) -> list[LocalImage]:
        """Images with a name in `repository` (`proj` finds `localhost/proj:*`, reported as `proj:*`)."""
        wanted = normalize_name(repository)
        found = []
        for listed in self._images():
            if any(name_repository(name) == wanted for name in listed.names):
                image = self._local_image(listed)
                if image is not None:  # removed meanwhile
                    found.append(image)
        return found

    # --- command lines ------------------------------------------------------------------------------------

    def bud_arguments(self, build: DockerfileBuild, *, iidfile: Path, ignorefile: Path) -> list[str]:
        """The `buildah bud` arguments for `build` (pure, for tests and --debug)."""
        arguments = ["--isolation", self.isolation, "-f", str(build.dockerfile), "--iidfile", str(iidfile),
                     "--ignorefile", str(ignorefile), "--format", "docker", "--layers", "--force-rm",
                     # 1.28 spells "pull only when missing" as false (newer versions accept it too)
                     "--pull=false", *registry_flags(build.pull_access or self.pull_access)]
        if build.target:
            arguments += ["--target", build.target]
        arguments += _pairs("--build-arg", build.build_args)
        arguments += _pairs("--label", build.labels)
        for host in build.add_hosts:
            arguments += ["--add-host", host]
        if build.network:
            arguments += ["--network", build.network]
        if build.platform:
            arguments += ["--platform", build.platform]
        if build.ssh:
            arguments += ["--ssh", build.ssh]
        for secret_id, path in build.secrets:
            # type=file: without it buildah 1.28 reads an environment variable named like the id instead
            # (an `env: API_KEY` secret then arrived empty)
            arguments += ["--secret", f"id={secret_id},src={path},type=file"]
        return [*arguments, str(build.context_dir)]

    def _buildah(self, *arguments: str) -> list[str]:
        store = ["--root", str(self.root), "--runroot", str(self.runroot), "--storage-driver",
                 self.storage_driver]
        return [self._executable, *store, *arguments]

    # --- store queries ------------------------------------------------------------------------------------

    def _images(self, reference: str = "") -> list[_ListedImage]:
        output = self._capture("images", "--json", "--no-trunc", *([reference] if reference else []),
                               action="list images", missing_ok=bool(reference))
        entries: list[dict[str, Any]] = json.loads(output or "[]") or []
        return [_ListedImage(_image_id(entry["id"]), tuple(map(normalize_name, entry.get("names") or ())))
                for entry in entries]

    def _local_image(self, listed: _ListedImage) -> LocalImage | None:
        try:
            output = self._capture("inspect", "--type", "image", listed.image_id,
                                   action=f"inspect image {listed.image_id}", missing_ok=True)
        except _Missing:
            return None
        return local_image(json.loads(output), image_id=listed.image_id, names=listed.names)

    def _capture(self, *arguments: str, action: str, missing_ok: bool = False,
                 timeout: float | None = _SHORT_TIMEOUT) -> str:
        try:
            return process.capture(self._buildah(*arguments), timeout=timeout)
        except ProcessFailed as failure:
            if missing_ok and any(_IMAGE_NOT_KNOWN in line for line in failure.output_tail):
                raise _Missing from None
            raise _failed(f"buildah could not {action}", failure) from None


class _Missing(Exception):
    """The image named in a query is not in the store."""


def registry_flags(access: RegistryAccess) -> list[str]:
    flags = [] if access.tls_verify else ["--tls-verify=false"]
    if access.cert_dir is not None:
        flags += ["--cert-dir", str(access.cert_dir)]
    if access.auth_file is not None:
        flags += ["--authfile", str(access.auth_file)]
    return flags


def _failed(message: str, failure: ProcessFailed, *, building: bool = False) -> BackendError:
    tail = tuple(readable_lines(failure.output_tail))
    return BackendError(f"{message}: {_exit(failure)}", hint=failure_hint(tail, building=building),
                        command=failure.command, returncode=failure.returncode, output_tail=tail)


def _exit(failure: ProcessFailed) -> str:
    if isinstance(failure, process.ProcessTimeout):
        return "timed out"
    return process.describe_returncode(failure.returncode)


def _build_title(build: DockerfileBuild) -> str:
    stage = f"stage {build.target!r}" if build.target else "the last stage"
    return f"{stage} of {build.dockerfile.name}"


def _image_id(raw: str) -> str:
    return raw if raw.startswith("sha256:") else f"sha256:{raw}"


def _pairs(flag: str, values: Mapping[str, str]) -> Iterator[str]:
    for key, value in values.items():
        yield flag
        yield f"{key}={value}"

