"""Platform strings the way werf reads them: containerd `platforms.Parse/Normalize/Format`.

werf normalises every target platform with containerd before it enters a digest
(`pkg/container_backend/thirdparty/platformutil/parse.go`) and derives the automatic
BUILD*/TARGET* Dockerfile args from the parsed (not normalised) spec
(`platformutil.GetPlatformMetaArgsMap`). containerd sources: `platforms/platforms.go`,
`platforms/database.go` (v1.7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipyard.errors import ConfigError

DEFAULT_HOST_PLATFORM = "linux/amd64"

_COMPONENT = re.compile(r"^[A-Za-z0-9_-]+$")
_KNOWN_OS = frozenset(
    {
        "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux", "nacl",
        "netbsd", "openbsd", "plan9", "solaris", "windows", "zos",
    }
)  # fmt: skip
_KNOWN_ARCH = frozenset(
    {
        "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le", "loong64",
        "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "riscv", "riscv64",
        "s390", "s390x", "sparc", "sparc64", "wasm",
    }
)  # fmt: skip


class InvalidPlatformError(ConfigError):
    """A platform string containerd would not parse."""


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def format(self) -> str:
        """containerd `platforms.Format`: path.Join skips the empty variant."""
        if not self.os:
            return "unknown"
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)

    def normalized(self) -> Platform:
        architecture, variant = _normalize_arch(self.architecture, self.variant)
        return Platform(_normalize_os(self.os), architecture, variant)


def _normalize_os(os_name: str) -> str:
    os_name = os_name.lower()
    return "darwin" if os_name == "macos" else os_name


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    arch, variant = arch.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        return "arm64", "" if variant in ("8", "v8") else variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            return "arm", "v7"
        if variant in ("5", "6", "8"):
            return "arm", "v" + variant
    return arch, variant


def parse_platform(spec: str, host_platform: str = DEFAULT_HOST_PLATFORM) -> Platform:
    """containerd `platforms.Parse` (not normalised); one-part specs borrow the host's os or arch."""
    if "*" in spec:
        raise InvalidPlatformError(f"platform {spec!r}: wildcards are not supported")
    parts = spec.split("/")
    for part in parts:
        if not _COMPONENT.match(part):
            raise InvalidPlatformError(
                f"platform {spec!r}: {part!r} is an invalid component",
                hint="use os/arch[/variant], e.g. linux/amd64 or linux/arm64",
            )
    if len(parts) == 1:
        return _parse_single_component(spec, parts[0], host_platform)
    if len(parts) == 2:
        architecture, variant = _normalize_arch(parts[1], "")
        if architecture == "arm" and variant == "v7":
            variant = ""
        return Platform(_normalize_os(parts[0]), architecture, variant)
    if len(parts) == 3:
        architecture, variant = _normalize_arch(parts[1], parts[2])
        if architecture == "arm64" and variant == "":
            variant = "v8"
        return Platform(_normalize_os(parts[0]), architecture, variant)
    raise InvalidPlatformError(f"platform {spec!r}: cannot parse platform specifier")


def _parse_single_component(spec: str, part: str, host_platform: str) -> Platform:
    host = parse_platform(host_platform)
    os_name = _normalize_os(part)
    if os_name in _KNOWN_OS:
        variant = host.variant if host.architecture == "arm" and host.variant != "v7" else ""
        return Platform(os_name, host.architecture, variant)
    architecture, variant = _normalize_arch(part, "")
    if architecture == "arm" and variant == "v7":
        variant = ""
    if architecture in _KNOWN_ARCH:
        return Platform(host.os, architecture, variant)
    raise InvalidPlatformError(f"platform {spec!r}: unknown operating system or architecture")


def normalize_platform(spec: str, host_platform: str = DEFAULT_HOST_PLATFORM) -> str:
    """One werf.yaml/CLI platform entry → containerd `Format(Normalize(Parse(p)))`.

    `linux/arm64/v8`→`linux/arm64`, `amd64`→`linux/amd64`, `linux/arm`→`linux/arm/v7`; `local` is the host.
    Commas are rejected: a comma-separated CLI value must be split by the caller first.
    """
    if "," in spec:
        raise InvalidPlatformError(
            f"platform {spec!r} must not contain commas", hint="list each platform as a separate entry"
        )
    if spec.lower() == "local":
        return parse_platform(host_platform).normalized().format()
    return parse_platform(spec, host_platform).normalized().format()


def platform_build_args(target_platform: str, build_platform: str) -> dict[str, str]:
    """The automatic BUILD*/TARGET* args (`platformutil.GetPlatformMetaArgsMap`).

    `build_platform` is the host's default spec as containerd formats it (e.g. `linux/arm64/v8` on arm64);
    an empty `target_platform` means "the build platform".
    """
    build = parse_platform(build_platform)
    target = parse_platform(target_platform) if target_platform else build
    return {
        "BUILDPLATFORM": build.format(),
        "BUILDOS": build.os,
        "BUILDARCH": build.architecture,
        "BUILDVARIANT": build.variant,
        "TARGETPLATFORM": target.format(),
        "TARGETOS": target.os,
        "TARGETARCH": target.architecture,
        "TARGETVARIANT": target.variant,
    }
