"""The digest formulas (werf-internals §1.1, §1.2) pinned by werf's golden vectors (§1.6, §11)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shipyard.hashsum import sha3_224_hash, sha256_hash
from shipyard.stages.digest import (
    content_digest,
    dockerfile_image_stage,
    legacy_stage_name,
    stage_digest,
)
from shipyard.stages.dockerfile import DockerfileInputs

STAGED_DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def no_files(sources: Sequence[str]) -> str:
    raise AssertionError(f"unexpected COPY/ADD of {sources}")


def dockerfile_inputs(dockerfile: str, target_platform: str = "linux/amd64") -> DockerfileInputs:
    return DockerfileInputs(
        dockerfile=dockerfile.encode(),
        dockerfile_path="Dockerfile",
        target="",
        args={},
        dependency_args={},
        add_hosts=(),
        cache_version="",
        target_platform=target_platform,
        build_platform="linux/amd64",
    )


POTATO = "FROM ubuntu:latest\nRUN echo building first\n"


def test_potato_non_staged_dockerfile() -> None:
    result = dockerfile_image_stage(dockerfile_inputs(POTATO), no_files)
    deps = sha256_hash("ubuntu:latest", "RUN echo building first")
    assert deps.endswith("ca9b") and deps.startswith("8b15a3b8")
    assert result.args == ("1.2", "dockerfile", deps)
    assert result.digest == "30bd7a840fcb35eb283d9940f58d1dd02a576a6967e416d9c13deaf2"
    assert result.dependencies == ("ubuntu:latest", "RUN echo building first")
    assert result.dependency_origins == ("Dockerfile:1 FROM", "Dockerfile:2 RUN")


def test_orange_stapel_from_and_install() -> None:
    from_stage = stage_digest("from", sha256_hash("alpine"), "linux/amd64")
    assert from_stage.digest == "85279ff0e1713f78e68b4356b2fa6a889e85b260e1ba7cf8d3ea09d3"
    install_deps = sha256_hash(sha256_hash("echo install"), sha256_hash())
    install = stage_digest("install", install_deps, "linux/amd64", prev_digest=from_stage.digest)
    assert install.args == ("1.2", "install", install_deps, from_stage.digest, "")
    assert install.digest == "f401fc847eba504268377fe9a6e192bd90cd9cd4e9333c3564846264"


def test_apple_staged_v1_first_instruction() -> None:
    run_deps = sha256_hash(
        "Env", STAGED_DEFAULT_PATH, "Command", "echo building second", "PrependShell", "true",
        "Network", "default", "Security", "sandbox",
    )  # fmt: skip
    result = stage_digest("RUN", run_deps, "linux/amd64", base_image_arg="alpine")
    assert result.args == ("1.2", "RUN", run_deps, "alpine")
    assert result.digest == "8f89f4cdc76a994e38f4146ef4e3edd83e070266cc15c135696bddd2"


@pytest.mark.parametrize(
    ("deps_args", "expected"),
    [
        ((), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (("image-cache-version", ""), "62cc7cbbeb4189a01f9071091675d14e56faffbb1cd910e7e26858546028ef8f"),
        (("from-cache-version", ""), "30a820396785223b2734a036e91697e727e16c01cd30fe64cbb04d81fbc6c1ae"),
        (
            ("base-image-repo-id-or-none", ""),
            "29e4de9b8f38c28e4fffb47f5a22f2c8ac76986cffd81133d5180586ebf85adf",
        ),
        (("scratch",), "5a9cb6b54ea56d52a69891af8c21afb73d3841611bbabb5d7c61312d81e6e041"),
    ],
)
def test_stapel_from_stage_deps_vectors(deps_args: tuple[str, ...], expected: str) -> None:
    """`from_test.go`: [imageCacheVersion][fromCacheVersion][repo id] + base name ("" in the test's stub)."""
    assert sha256_hash(*deps_args) == expected


def test_platform_argument_is_omitted_for_linux_amd64_only() -> None:
    amd64 = stage_digest("dockerfile", "deps", "linux/amd64")
    empty = stage_digest("dockerfile", "deps", "")
    arm64 = stage_digest("dockerfile", "deps", "linux/arm64")
    assert amd64.args == empty.args == ("1.2", "dockerfile", "deps")
    assert arm64.args == ("linux/arm64", "1.2", "dockerfile", "deps")
    assert arm64.digest == sha3_224_hash("linux/arm64", "1.2", "dockerfile", "deps") != amd64.digest


def test_potato_on_arm64_differs_only_by_the_platform_argument() -> None:
    result = dockerfile_image_stage(dockerfile_inputs(POTATO, "linux/arm64"), no_files)
    deps = sha256_hash("ubuntu:latest", "RUN echo building first")
    assert result.args == ("linux/arm64", "1.2", "dockerfile", deps)


def test_legacy_stage_names_enter_the_digest() -> None:
    assert legacy_stage_name("dependenciesAfterSetup") == "importsAfterSetup"
    assert legacy_stage_name("install") == "install"
    result = stage_digest("dependenciesBeforeInstall", "d", "linux/amd64")
    assert result.args == ("1.2", "importsBeforeInstall", "d")
    assert result.stage_name == "dependenciesBeforeInstall"


def test_content_digest_uses_the_plain_stage_name() -> None:
    result = content_digest("dependenciesBeforeInstall", "abc", "", "linux/arm64")
    assert result.args == ("linux/arm64", "1.2", "dependenciesBeforeInstall-content", "", "abc", "")
    assert result.digest == sha3_224_hash(*result.args)


def test_debug_lines_list_every_input() -> None:
    lines = dockerfile_image_stage(dockerfile_inputs(POTATO), no_files).debug_lines()
    assert lines[0] == "dockerfile digest 30bd7a840fcb35eb283d9940f58d1dd02a576a6967e416d9c13deaf2"
    assert lines[1:3] == ["  arg[0] '1.2'", "  arg[1] 'dockerfile'"]
    assert lines[-1] == "  dep[1] 'RUN echo building first'  <- Dockerfile:2 RUN"
