"""Behaviour of the non-staged Dockerfile dependency list D (werf-internals §1.4a)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from shipyard.errors import DockerfileError
from shipyard.stages.dockerfile import (
    DockerfileAnalysis,
    DockerfileInputs,
    analyze_dockerfile,
    dockerfile_debug_entries,
    dockerfile_dependencies,
)


class RecordingChecksum:
    """A fake files checksum: `cs(<sources>)`, remembering every call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, sources: Sequence[str]) -> str:
        self.calls.append(list(sources))
        return f"cs({','.join(sources)})"


def inputs(dockerfile: str, *, target: str = "", args: Mapping[str, str] | None = None,
           dependency_args: Mapping[str, str] | None = None, add_hosts: tuple[str, ...] = (),
           cache_version: str = "", target_platform: str = "linux/amd64",
           build_platform: str = "linux/amd64") -> DockerfileInputs:  # fmt: skip
    return DockerfileInputs(
        dockerfile=dockerfile.encode(),
        dockerfile_path="Dockerfile",
        target=target,
        args=args or {},
        dependency_args=dependency_args or {},
        add_hosts=add_hosts,
        cache_version=cache_version,
        target_platform=target_platform,
        build_platform=build_platform,
    )


def deps(dockerfile: str, **options: object) -> list[str]:
    return dockerfile_dependencies(inputs(dockerfile, **options), RecordingChecksum())  # type: ignore[arg-type]


def analyze(dockerfile: str, **options: object) -> DockerfileAnalysis:
    return analyze_dockerfile(inputs(dockerfile, **options), RecordingChecksum())  # type: ignore[arg-type]


def test_comments_blank_lines_and_unrelated_stages_do_not_matter() -> None:
    plain = "FROM alpine\nRUN echo hi\n"
    noisy = (
        "# syntax comment\nFROM busybox AS unrelated\nRUN echo other\n"
        "\n# a comment\nFROM alpine\n\n  RUN echo hi  \n"
    )
    assert deps(plain) == deps(noisy) == ["alpine", "RUN echo hi"]


def test_continuation_lines_are_joined_without_the_backslash() -> None:
    assert deps("FROM a\nRUN echo one \\\n  # skipped comment\n  two\n") == ["a", "RUN echo one   two"]


def test_instruction_keyword_case_is_kept() -> None:
    assert deps("from a\nrun echo hi\n") == ["a", "run echo hi"]


def test_instructions_are_expanded_with_quotes_removed_and_unset_variables_empty() -> None:
    dockerfile = "FROM a\nARG FOO=bar\nRUN echo \"a $FOO\" '$FOO' $UNSET done\n"
    assert deps(dockerfile) == ["a", "ARG FOO=bar", "RUN echo a bar $FOO  done"]


def test_env_entries_and_env_expansion() -> None:
    dockerfile = 'FROM a\nENV A=1 B="x $A"\nENV C $B-2\nWORKDIR /$C\n'
    assert deps(dockerfile) == ["a", "ENV A=1", "ENV B=x 1", "ENV C=x 1-2", "WORKDIR /x 1-2"]


def test_stage_arg_wins_over_env_like_werf() -> None:
    # werf builds the expansion env from ARGs first, so an ARG shadows an ENV of the same name
    assert deps("FROM a\nENV V=env\nARG V=arg\nRUN echo $V\n")[-1] == "RUN echo arg"


def test_stage_arg_precedence() -> None:
    dockerfile = "ARG META=meta-default\nFROM a\nARG META\nARG LOCAL=local-default\nARG DEP=dep-default\n"
    assert deps(dockerfile) == [
        "a",
        "ARG META=meta-default",
        "ARG LOCAL=local-default",
        "ARG DEP=dep-default",
    ]
    assert deps(dockerfile, args={"LOCAL": "werf", "DEP": "werf"}, dependency_args={"DEP": "dependency"}) == [
        "a",
        "ARG META=meta-default",
        "ARG LOCAL=werf",
        "ARG DEP=dependency",
    ]


def test_meta_args_resolve_in_order_with_precedence() -> None:
    dockerfile = "ARG REG=docker.io\nARG IMAGE=$REG/library/alpine\nFROM ${IMAGE}:${TAG:-3}\n"
    assert deps(dockerfile) == ["docker.io/library/alpine:3"]
    assert deps(dockerfile, args={"REG": "mirror"}) == ["mirror/library/alpine:3"]
    assert deps(dockerfile, args={"IMAGE": "werf-arg"}, dependency_args={"IMAGE": "dependency"}) == [
        "dependency:3"
    ]


def test_meta_arg_defaults_do_not_see_platform_args() -> None:
    # werf merges the automatic platform args only after resolving the meta args
    assert deps("ARG X=a-$TARGETARCH\nFROM $X\nARG TARGETARCH\n") == ["a-", "ARG TARGETARCH=amd64"]


def test_platform_args() -> None:
    dockerfile = "FROM --platform=$BUILDPLATFORM img-$TARGETARCH\nARG TARGETPLATFORM\nARG BUILDARCH\n"
    assert deps(dockerfile, target_platform="linux/arm64/v8") == [
        "img-arm64",
        "ARG TARGETPLATFORM=linux/arm64/v8",
        "ARG BUILDARCH=amd64",
    ]
    assert deps(dockerfile, target_platform="linux/arm/v7")[:2] == [
        "img-arm",
        "ARG TARGETPLATFORM=linux/arm/v7",
    ]


def test_add_hosts_start_every_stage() -> None:
    assert deps("FROM a\nRUN x\n", add_hosts=("h1:1.1.1.1", "h2:2.2.2.2")) == [
        "h1:1.1.1.1",
        "h2:2.2.2.2",
        "a",
        "RUN x",
    ]


def test_copy_and_add_get_original_text_and_files_checksum_of_expanded_sources() -> None:
    checksum = RecordingChecksum()
    dockerfile = (
        'FROM a\nARG DIR=src\nCOPY --chown=1:1 ${DIR}/ "b" /dst/\nADD ./$DIR/../x.tgz https://e.x/f /\n'
        'COPY ["with space", "/d/"]\n'
    )
    result = dockerfile_dependencies(inputs(dockerfile), checksum)
    assert result[2:] == [
        'COPY --chown=1:1 ${DIR}/ "b" /dst/',
        "cs(src/,b)",
        "ADD ./$DIR/../x.tgz https://e.x/f /",
        "cs(./src/../x.tgz,https://e.x/f)",
        'COPY ["with space", "/d/"]',
        "cs(with space)",
    ]
    assert checksum.calls == [["src/", "b"], ["./src/../x.tgz", "https://e.x/f"], ["with space"]]


def test_copy_from_has_no_files_checksum_and_pulls_in_the_source_stage() -> None:
    dockerfile = "FROM a AS Build\nRUN make\nFROM b\nCOPY --from=BUILD /out /out\nCOPY --from=0 /o2 /o2\n"
    assert deps(dockerfile) == [
        "b",
        "COPY --from=BUILD /out /out",
        "COPY --from=0 /o2 /o2",
        "a",  # stage "build" via --from=BUILD (case-insensitive)…
        "RUN make",
        "a",  # …and again via --from=0
        "RUN make",
    ]


def test_copy_from_external_image_adds_nothing() -> None:
    assert deps("FROM a\nCOPY --from=nginx:latest /etc/nginx /etc/nginx\n") == [
        "a",
        "COPY --from=nginx:latest /etc/nginx /etc/nginx",
    ]


def test_run_mount_from_stage() -> None:
    dockerfile = (
        "FROM a AS deps\nRUN fetch\nFROM b\nRUN --mount=type=cache,target=/c --mount=from=deps,target=/d ls\n"
    )
    assert deps(dockerfile) == [
        "b",
        "RUN --mount=type=cache,target=/c --mount=from=deps,target=/d ls",
        "a",
        "RUN fetch",
    ]


def test_base_stage_brings_its_entries_and_onbuild_triggers() -> None:
    dockerfile = "FROM a AS base\nENV E=1\nONBUILD RUN echo $E\nFROM base\nRUN more\n"
    assert deps(dockerfile) == [
        "base",
        "RUN more",
        "a",
        "ENV E=1",
        "RUN echo $E",  # the ONBUILD entry of stage base: its expression text
        "RUN echo 1",  # the trigger's own entry, expanded with the ENVs of stage base
    ]


def test_onbuild_copy_is_hashed_with_files() -> None:
    checksum = RecordingChecksum()
    dockerfile = "FROM a AS base\nENV D=dir\nONBUILD COPY $D /x\nFROM base\n"
    analysis = analyze_dockerfile(inputs(dockerfile), checksum)
    assert analysis.dependencies[-2:] == ["COPY $D /x", "cs(dir)"]
    assert checksum.calls == [["dir"]]


def test_transitive_relations_through_earlier_stages() -> None:
    dockerfile = "FROM a AS one\nRUN 1\nFROM one AS two\nRUN 2\nFROM b\nCOPY --from=two / /\n"
    assert deps(dockerfile) == ["b", "COPY --from=two / /", "one", "RUN 2", "a", "RUN 1"]


def test_target_selects_the_stage_and_unknown_target_names_the_stages() -> None:
    dockerfile = "FROM a AS build\nRUN b\nFROM c AS final\nRUN d\n"
    assert deps(dockerfile, target="build") == ["a", "RUN b"]
    analysis = analyze(dockerfile, target="build")
    assert (analysis.target_index, analysis.target_name, analysis.stage_names) == (
        0,
        "build",
        ("build", "final"),
    )
    with pytest.raises(DockerfileError) as error:
        deps(dockerfile, target="nope")
    assert "nope" in error.value.message and error.value.hint == "known stages: build, final"


def test_cache_version_is_appended() -> None:
    assert deps("FROM a\n", cache_version="2") == ["a", "2"]


def test_empty_from_after_expansion_is_an_error() -> None:
    with pytest.raises(DockerfileError) as error:
        deps("ARG BASE_NAME=alpine:latest\n\nFROM ${BASE_NAME1}\nRUN echo hello\n")
    assert str(error.value.location) == "Dockerfile:3"


@pytest.mark.parametrize(
    ("dockerfile", "line"),
    [
        ("FROM a\nRUN <<EOT\necho hi\nEOT\n", 2),
        ("FROM a\n\nCOPY <<EOF /x\nhello\nEOF\n", 3),
        ("FROM a\nONBUILD RUN <<EOF\nhi\nEOF\n", 2),
    ],
)
def test_heredocs_are_rejected_at_their_line(dockerfile: str, line: int) -> None:
    with pytest.raises(DockerfileError) as error:
        deps(dockerfile)
    assert error.value.location is not None and error.value.location.line == line
    assert error.value.hint is not None and "RUN with a shell string" in error.value.hint


@pytest.mark.parametrize(
    ("dockerfile", "message", "line"),
    [
        ("FROM a\nFOO bar\n", "unknown instruction: FOO", 2),
        ("RUN x\nFROM a\n", "no build stage", 1),
        ("ARG A\n", "no FROM instruction", None),
        ("FROM a\nCOPY --form=x a b\n", "unknown flag: form", 2),
        ("FROM a\nCOPY a\n", "at least two arguments", 2),
        ("FROM a AS 1st\n", "invalid name for build stage", 1),
        ("FROM a b\n", "either one or three arguments", 1),
        ("FROM a\nRUN --mount=from=$X,target=/x ls\n", "doesn't support variable expansion", 2),
        ("FROM a\nONBUILD FROM b\n", "isn't allowed as an ONBUILD trigger", 2),
        ("FROM a\nRUN echo ${X:?must be set}\n", "must be set", 2),
        ("FROM a\n\nENV ONLY_KEY\n", "ENV must have two arguments", 3),
    ],
)
def test_errors_carry_the_dockerfile_line(dockerfile: str, message: str, line: int | None) -> None:
    with pytest.raises(DockerfileError) as error:
        deps(dockerfile)
    assert message in error.value.message
    assert error.value.location is not None
    assert (error.value.location.file, error.value.location.line) == ("Dockerfile", line)


def test_analysis_reports_base_images_and_debug_origins() -> None:
    dockerfile = (
        "ARG V=3\nFROM alpine:$V AS build\nCOPY . .\nFROM build\nFROM debian\nCOPY --from=build /a /a\n"
    )
    analysis = analyze(dockerfile, cache_version="cv")
    assert analysis.base_images == ("alpine:3", "build", "debian")
    assert analysis.stage_bases == (None, 0, None)
    assert analysis.external_base_images == ("alpine:3", "debian")
    origins = [entry.origin for entry in dockerfile_debug_entries(inputs(dockerfile, cache_version="cv"),
                                                                  RecordingChecksum())]  # fmt: skip
    assert origins == [
        "Dockerfile:5 FROM",
        "Dockerfile:6 COPY",
        "Dockerfile:2 FROM (via COPY from stage 0)",
        "Dockerfile:3 COPY (via COPY from stage 0)",
        "Dockerfile:3 COPY files ['.'] (via COPY from stage 0)",
        "cacheVersion",
    ]
