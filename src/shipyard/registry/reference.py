"""Image references `host[:port]/path[:tag][@digest]`: parsing, validation, formatting. Pure: no I/O.

Docker Hub is normalised as go-containerregistry does (werf uses it): no host or `docker.io` means
`index.docker.io`, and a one-component path there gets the implicit `library/` namespace.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from shipyard.errors import ShipyardError

DOCKER_HUB = "index.docker.io"
_DOCKER_HUB_ALIAS = "docker.io"
_OFFICIAL_NAMESPACE = "library"

# The grammar of distribution's reference package (the one the registry itself enforces).
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST_RE = re.compile(rf"(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[0-9a-fA-F:.]+\])(?::[0-9]{{1,5}})?")
_MAX_NAME_LENGTH = 255


class RegistryError(ShipyardError):
    """A container registry could not be used: bad reference, unreachable, refused, or broken answer."""

    def __init__(self, message: str, *, hint: str | None = None, status_code: int | None = None,
                 error_codes: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code  # HTTP status when the registry answered, else None
        self.error_codes = error_codes  # distribution error codes from the body, e.g. ("NAME_UNKNOWN",)


class InvalidReferenceError(RegistryError):
    """An image reference, repository name, tag or digest is malformed."""


@dataclass(frozen=True)
class Repository:
    """A repository in a registry: `host[:port]/path`."""

    registry: str
    path: str

    def __str__(self) -> str:
        return f"{self.registry}/{self.path}"

    def with_tag(self, tag: str) -> ImageReference:
        return ImageReference(self, tag=validate_tag(tag))

    def with_digest(self, digest: str) -> ImageReference:
        return ImageReference(self, digest=validate_digest(digest))


@dataclass(frozen=True)
class ImageReference:
    """A repository plus a tag and/or a digest (the digest wins when both are given)."""

    repository: Repository
    tag: str | None = None
    digest: str | None = None

    @property
    def registry(self) -> str:
        return self.repository.registry

    @property
    def path(self) -> str:
        return self.repository.path

    @property
    def identifier(self) -> str:
        """What goes after `/manifests/`: the digest, else the tag, else `latest`."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.repository}{tag}{digest}"


def parse_repository(text: str) -> Repository:
    """`127.0.0.1:5000/app`, `ubuntu`, `docker.io/org/app` → Repository (no tag or digest allowed)."""
    reference = parse_reference(text)
    if reference.tag or reference.digest:
        raise InvalidReferenceError(f"invalid repository {text!r}: a repository has no tag or digest",
                                    hint="drop the `:tag` / `@digest` part")
    return reference.repository


def parse_reference(text: str) -> ImageReference:
    """Parse `host[:port]/path[:tag][@digest]`; the host defaults to Docker Hub."""
    if not text or text != text.strip():
        raise InvalidReferenceError(f"invalid image reference {text!r}: empty or surrounded by spaces")
    remainder, _, digest = text.partition("@")
    remainder, tag = _split_tag(remainder)
    registry, path = _split_registry(remainder)
    repository = Repository(registry, _normalise_path(registry, path, text))
    return ImageReference(repository, tag=validate_tag(tag) if tag is not None else None,
                          digest=validate_digest(digest) if digest else None)


def validate_repository_path(path: str) -> str:
    """Return `path` when the registry would accept it as a repository name, else raise a clear error."""
    if not path:
        raise InvalidReferenceError("invalid repository name: it is empty")
    if len(path) > _MAX_NAME_LENGTH:
        raise InvalidReferenceError(f"invalid repository name {path!r}: over {_MAX_NAME_LENGTH} characters")
    if not _PATH_RE.fullmatch(path):
        raise InvalidReferenceError(
            f"invalid repository name {path!r}",
            hint="use lowercase letters, digits and single separators (`.`, `_`, `__`, `-`) "
                 "between components joined by `/`",
        )
    return path


def validate_tag(tag: str) -> str:
    if not _TAG_RE.fullmatch(tag):
        raise InvalidReferenceError(
            f"invalid tag {tag!r}",
            hint="a tag is 1-128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
        )
    return tag


def validate_digest(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    valid = _DIGEST_RE.fullmatch(digest) is not None
    if algorithm == "sha256":
        valid = valid and re.fullmatch(r"[a-f0-9]{64}", encoded) is not None
    if not valid:
        raise InvalidReferenceError(f"invalid digest {digest!r}",
                                    hint="expected `sha256:` and 64 lowercase hex digits")
    return digest


def validate_registry_host(host: str) -> str:
    if not _HOST_RE.fullmatch(host):
        raise InvalidReferenceError(f"invalid registry host {host!r}", hint="expected `host[:port]`")
    return host


def is_digest(identifier: str) -> bool:
    return ":" in identifier and _DIGEST_RE.fullmatch(identifier) is not None


def is_loopback(host: str) -> bool:
    """True for `localhost`, `*.localhost`, 127.0.0.0/8 and ::1, with or without a port."""
    name = _strip_port(host).lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host[1:host.index("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host  # a bare IPv6 address or a name without a port


def _split_tag(text: str) -> tuple[str, str | None]:
    name, colon, tag = text.rpartition(":")
    if not colon or "/" in tag:  # the colon belongs to `host:port`
        return text, None
    return name, tag


def _split_registry(text: str) -> tuple[str, str]:
    first, slash, rest = text.partition("/")
    # As docker: the first component is a host when it looks like one (a dot, a port, localhost, uppercase).
    looks_like_host = "." in first or ":" in first or first == "localhost" or first != first.lower()
    if not slash or not looks_like_host:
        return DOCKER_HUB, text
    validate_registry_host(first)
    return (DOCKER_HUB if first == _DOCKER_HUB_ALIAS else first), rest


def _normalise_path(registry: str, path: str, text: str) -> str:
    if registry == DOCKER_HUB and path and "/" not in path:
        path = f"{_OFFICIAL_NAMESPACE}/{path}"
    try:
        return validate_repository_path(path)
    except InvalidReferenceError as error:
        message = f"invalid image reference {text!r}: {error.message}"
        raise InvalidReferenceError(message, hint=error.hint) from None
