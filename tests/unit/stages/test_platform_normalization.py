"""containerd platform normalisation and the automatic BUILD*/TARGET* args."""

from __future__ import annotations

import pytest

from shipyard.stages.digest import normalize_platform
from shipyard.stages.platform import InvalidPlatformError, parse_platform, platform_build_args


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("linux/amd64", "linux/amd64"),
        ("amd64", "linux/amd64"),
        ("x86_64", "linux/amd64"),
        ("linux/x86-64", "linux/amd64"),
        ("aarch64", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/arm/7", "linux/arm/v7"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/armel", "linux/arm/v6"),
        ("linux/arm/v6", "linux/arm/v6"),
        ("linux/i386", "linux/386"),
        ("Linux/AMD64", "linux/amd64"),
        ("linux", "linux/amd64"),
        ("macos/arm64", "darwin/arm64"),
        ("linux/s390x", "linux/s390x"),
        ("local", "linux/amd64"),
    ],
)
def test_normalize_platform(spec: str, expected: str) -> None:
    assert normalize_platform(spec) == expected


def test_single_os_and_local_borrow_the_host() -> None:
    assert normalize_platform("linux", host_platform="linux/arm64/v8") == "linux/arm64"
    assert normalize_platform("local", host_platform="linux/arm64/v8") == "linux/arm64"


@pytest.mark.parametrize(
    "spec", ["linux/amd64,linux/arm64", "linux/*", "linux/am d64", "nonsense", "a/b/c/d"]
)
def test_invalid_platforms(spec: str) -> None:
    with pytest.raises(InvalidPlatformError):
        normalize_platform(spec)


def test_parse_keeps_the_arm64_v8_variant_of_a_full_spec() -> None:
    assert parse_platform("linux/arm64/v8").format() == "linux/arm64/v8"
    assert parse_platform("linux/arm64").format() == "linux/arm64"
    assert parse_platform("linux/arm").format() == "linux/arm"


def test_platform_build_args() -> None:
    assert platform_build_args("linux/arm/v7", "linux/amd64") == {
        "BUILDPLATFORM": "linux/amd64",
        "BUILDOS": "linux",
        "BUILDARCH": "amd64",
        "BUILDVARIANT": "",
        "TARGETPLATFORM": "linux/arm/v7",
        "TARGETOS": "linux",
        "TARGETARCH": "arm",
        "TARGETVARIANT": "v7",
    }
    assert platform_build_args("", "linux/arm64/v8")["TARGETPLATFORM"] == "linux/arm64/v8"
