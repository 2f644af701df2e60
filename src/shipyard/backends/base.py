"""The container backend seam: what the conveyor and the local stages storage need from buildah (or docker).

Pure: dataclasses and a Protocol. Concrete backends live beside this module and are chosen only in app.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

LogLine = Callable[[str], None]


@dataclass(frozen=True)
class RegistryAccess:
    """How the backend reaches a registry (the same settings the registry client uses)."""

    tls_verify: bool = True
    cert_dir: Path | None = None
    auth_file: Path | None = None


@dataclass(frozen=True)
class DockerfileBuild:
    """One non-staged Dockerfile build: the whole Dockerfile up to `target`, as one image."""

    context_dir: Path  # materialised context: git tree of the context minus .dockerignore, plus add files
    dockerfile: Path  # the Dockerfile to use (may lie outside context_dir)
    target: str = ""
    build_args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    add_hosts: tuple[str, ...] = ()
    network: str = ""  # "" = backend default; "host", "none"
    platform: str = ""  # normalised "os/arch[/variant]"; "" = host
    pull_access: RegistryAccess | None = None  # how to pull FROM images; None = the backend's default
    secrets: tuple[tuple[str, Path], ...] = ()  # (id, host file) for RUN --mount=type=secret
    masked: tuple[str, ...] = ()  # secret values: never shown in output or errors
    ssh: str = ""  # buildah --ssh value for RUN --mount=type=ssh ("" = none)


@dataclass(frozen=True)
class LocalImage:
    """An image in the backend's own store."""

    image_id: str  # "sha256:<config digest>"
    names: tuple[str, ...]  # every "repo:tag" pointing at it
    labels: Mapping[str, str]
    created_unix_nanos: int
    size: int  # uncompressed bytes as the backend reports them


@dataclass(frozen=True)
class PushedImage:
    reference: str  # "host/repo:tag"
    manifest_digest: str  # "sha256:…"


class ContainerBackend(Protocol):
    name: str  # "buildah" | "docker" (the report's Runtime.Backend)

    def build_dockerfile(self, build: DockerfileBuild, log: LogLine) -> str:
        """Build and return the new image's ID; stream the backend's output lines to `log`."""
        ...

    def tag(self, image: str, reference: str) -> None: ...

    def push(self, reference: str, access: RegistryAccess) -> PushedImage: ...

    def pull(self, reference: str, access: RegistryAccess) -> str:
        """Pull and return the image ID."""
        ...

    def remove(self, reference: str) -> None:
        """Untag (and delete when no name is left); a missing image is not an error."""
        ...

    def inspect(self, reference: str) -> LocalImage | None: ...

    def list_image_names(self, repository: str) -> list[str]:
        """Names `repository:tag` of the images in `repository`, from one listing (no per-image inspect)."""
        ...

    def list_images(self, repository: str) -> list[LocalImage]:
        """Images with a name in `repository` (e.g. the project name for the local stages storage)."""
        ...
