"""Every case of werf's `pkg/build/stage/full_dockerfile_test.go`, with its inputs and expected hex.

werf's test stubs the git repository so that the ls-tree checksum is the HEAD commit id; the files checksum
is then `H256(<commit>)` (`calculateFilesChecksumWithGit`), which the fake below reproduces. Dependency
build args come from werf's conveyor stub: NAME = `<repo>:<tag>`, REPO, TAG and ID as configured.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shipyard.hashsum import sha256_hash
from shipyard.stages.dockerfile import DockerfileInputs, FilesChecksum, dockerfile_dependencies

STUB_HEAD_COMMIT = "9d8059842b6fde712c58315ca0ab4713d90761c0"


def stub_git_files_checksum(head_commit: str = STUB_HEAD_COMMIT) -> FilesChecksum:
    def files_checksum(sources: Sequence[str]) -> str:
        return sha256_hash(head_commit)

    return files_checksum


def deps_hash(dockerfile: str, *, dependency_args: dict[str, str] | None = None, cache_version: str = "",
              files_checksum: FilesChecksum | None = None) -> str:  # fmt: skip
    inputs = DockerfileInputs(
        dockerfile=dockerfile.encode(),
        dockerfile_path="no-such-path",
        target="",
        args={},
        dependency_args=dependency_args or {},
        add_hosts=(),
        cache_version=cache_version,
        target_platform="",
        build_platform="linux/amd64",
    )
    return sha256_hash(*dockerfile_dependencies(inputs, files_checksum or stub_git_files_checksum()))


def image_one_args(tag: str, image_id: str) -> dict[str, str]:
    """Dependency `one` importing NAME/REPO/TAG/ID into the IMAGE_ONE_* build args."""
    return {
        "IMAGE_ONE_NAME": f"ONE_REPO:{tag}",
        "IMAGE_ONE_REPO": "ONE_REPO",
        "IMAGE_ONE_TAG": tag,
        "IMAGE_ONE_ID": image_id,
    }


SIMPLE = """
FROM alpine:latest
RUN echo hello
"""
IMAGE_ONE_ARGS = """
FROM alpine:latest

ARG IMAGE_ONE_NAME
ARG IMAGE_ONE_REPO
ARG IMAGE_ONE_TAG
ARG IMAGE_ONE_ID

RUN echo hello
RUN echo {"name": "${IMAGE_ONE_NAME}", "repo": "${IMAGE_ONE_REPO}", "tag": "${IMAGE_ONE_TAG}", "id": "${IMAGE_ONE_ID}"} >> images.json
"""  # noqa: E501 - werf's fixture line
BASE_IMAGE_ARG = """
ARG BASE_IMAGE=alpine:latest

FROM ${BASE_IMAGE}
RUN echo hello
"""
RUN_MOUNT_FROM_STAGE = """
FROM alpnie:latest AS build
WORKDIR /usr/local/test_project
COPY . .
RUN mkdir -p dist && \\
    cp -v main.py dist/prog.py

FROM alpine:latest
RUN --mount=type=bind,from=build,source=/usr/local/test_project/dist,target=/usr/test_project/dist \\
    cp -v /usr/test_project/dist/prog.py /usr/local/bin/prog
"""
TAG_1 = "796e905d0cc975e718b3f8b3ea0199ea4d52668ecc12c4dbf85a136d-1638863657513"
TAG_2 = "b7aebf280be3fbb7d207d3b659bfc1a49338441ea933c1eac5766a5f-1638863693022"
ID_1 = "sha256:d19deb06171086017db6aade408ce29592e7490f3b98d4da228ef6c771ddc6d5"
ID_2 = "sha256:44b14c266507626ec1e3f1eb22fcbd9b935595ead56800f77110fc4e1e95689c"


def test_no_dependencies() -> None:
    assert deps_hash(SIMPLE) == "b9d5527ee7a7047747bce5fb5fd1d7ab2b687f141a91151620098b60c2ad0eae"


def test_dependency_args_not_used_by_the_dockerfile() -> None:
    assert (
        deps_hash(SIMPLE, dependency_args={"IMAGE_ONE_NAME": f"ONE_REPO:{TAG_1}"})
        == "b9d5527ee7a7047747bce5fb5fd1d7ab2b687f141a91151620098b60c2ad0eae"
    )


@pytest.mark.parametrize(
    ("tag", "image_id", "expected"),
    [
        (TAG_1, ID_1, "b55701cfd33c5931e001e4d8ab24628df571afc7b7f647ca4083dab75aafff4d"),
        (TAG_2, ID_1, "dac644aa25871d0d902581d9c2a901ef753267082adedc19a3bee23a18cfca17"),
        (TAG_2, ID_2, "914969761b92ec6a4a6eee5ad33c32c2d2c27b0b15fe4abf4f26c30755378ed4"),
    ],
    ids=["args-used", "name-changed", "id-changed"],
)
def test_dependency_args_used_by_the_dockerfile(tag: str, image_id: str, expected: str) -> None:
    assert deps_hash(IMAGE_ONE_ARGS, dependency_args=image_one_args(tag, image_id)) == expected


def test_meta_arg_base_image_default() -> None:
    assert deps_hash(BASE_IMAGE_ARG) == "b9d5527ee7a7047747bce5fb5fd1d7ab2b687f141a91151620098b60c2ad0eae"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("ubuntu:latest", "573c4bd0f7480e27c266d55d3a020c7ec4acaebebf897d29cad78fded3b725c7"),
        ("centos:latest", "5b66aa2c1c9f0bf3a9089c52f04ddf4e47af055c4d1fe69d272cba24df372121"),
    ],
)
def test_dependency_image_as_base_image(image: str, expected: str) -> None:
    assert deps_hash(BASE_IMAGE_ARG, dependency_args={"BASE_IMAGE": image}) == expected


def test_image_cache_version() -> None:
    assert (
        deps_hash(BASE_IMAGE_ARG, cache_version="image-cache-version")
        == "08298d918e51f6572692ca642027870539a71c46beafd403719360928ffe11de"
    )


@pytest.mark.parametrize(
    ("head_commit", "expected"),
    [
        (STUB_HEAD_COMMIT, "65d219096bc3718c101995b00584d700de791027f2e2ca00635e428932478a1c"),
        (
            "23a0884072c0d31b7c42dfaa7f0772cbfa33ec75",
            "beb818f2c49f6501194c72449aff59e80be61b405ef39581b01dbf68da927609",
        ),
    ],
)
def test_run_mount_from_another_stage_follows_its_context(head_commit: str, expected: str) -> None:
    assert deps_hash(RUN_MOUNT_FROM_STAGE, files_checksum=stub_git_files_checksum(head_commit)) == expected
