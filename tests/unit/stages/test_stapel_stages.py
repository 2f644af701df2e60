"""Which stages a Stapel config creates (werf initStages), before any build-time emptiness."""

from __future__ import annotations

from dataclasses import replace

from shipyard.config.model import (
    Dependency,
    DockerInstructions,
    GitMapping,
    ImageSpec,
    Import,
    Shell,
    StapelImage,
)
from shipyard.stages.stapel_stages import STAPEL_STAGE_ORDER, stapel_stage_names

EVERYTHING = StapelImage(
    name="app",
    from_="alpine",
    git=(GitMapping(to="/app"),),
    shell=Shell(before_install=("a",), install=("b",), before_setup=("c",), setup=("d",)),
    imports=(
        Import(image="src", add="/a", to="/a", before="install"),
        Import(image="src", add="/b", to="/b", after="install"),
        Import(image="src", add="/c", to="/c", before="setup"),
    ),
    dependencies=(Dependency("db", after="setup"),),
    docker=DockerInstructions(user="app"),
    image_spec=ImageSpec(user="app"),
)
PATCH_AND_DOCKER = {"gitCache", "gitLatestPatch", "dockerInstructions"}


def test_a_full_config_creates_every_stage_in_werfs_order() -> None:
    assert stapel_stage_names(EVERYTHING) == STAPEL_STAGE_ORDER
    assert STAPEL_STAGE_ORDER == (
        "from",
        "beforeInstall",
        "dependenciesBeforeInstall",
        "gitArchive",
        "install",
        "dependenciesAfterInstall",
        "beforeSetup",
        "dependenciesBeforeSetup",
        "setup",
        "dependenciesAfterSetup",
        "gitCache",
        "gitLatestPatch",
        "dockerInstructions",
        "imageSpec",
    )


def test_a_bare_image_has_only_from() -> None:
    assert stapel_stage_names(StapelImage(name="x", from_="alpine")) == ("from",)


def test_no_shell_command_means_no_user_stage() -> None:
    image = replace(EVERYTHING, shell=Shell(install=("b",)))
    user_stages = [
        name for name in stapel_stage_names(image) if name in ("beforeInstall", "beforeSetup", "setup")
    ]
    assert user_stages == []


def test_a_shell_cache_version_alone_creates_every_user_stage() -> None:
    """shell.go: the checksum of a stage without commands is H256(H256(cacheVersion)), not empty."""
    image = StapelImage(name="x", from_="alpine", shell=Shell(install=("b",), cache_version="1"))
    assert stapel_stage_names(image) == ("from", "beforeInstall", "install", "beforeSetup", "setup")


def test_disable_git_after_patch_drops_git_cache_git_latest_patch_and_docker_instructions() -> None:
    kept = stapel_stage_names(replace(EVERYTHING, disable_git_after_patch=True))
    assert set(STAPEL_STAGE_ORDER) - set(kept) == PATCH_AND_DOCKER
    assert "gitArchive" in kept and "imageSpec" in kept


def test_artifacts_behave_as_disable_git_after_patch() -> None:
    kept = stapel_stage_names(replace(EVERYTHING, is_artifact=True, final=False))
    assert set(STAPEL_STAGE_ORDER) - set(kept) == PATCH_AND_DOCKER


def test_docker_instructions_do_not_need_git() -> None:
    kept = stapel_stage_names(replace(EVERYTHING, git=()))
    assert "dockerInstructions" in kept
    assert not {"gitArchive", "gitCache", "gitLatestPatch"} & set(kept)


def test_skip_image_spec_stage() -> None:
    assert "imageSpec" not in stapel_stage_names(EVERYTHING, skip_image_spec_stage=True)


def test_imports_and_dependencies_pick_their_stage_by_before_and_after() -> None:
    image = StapelImage(
        name="x",
        from_="alpine",
        imports=(Import(image="src", add="/a", to="/a", before="setup"),),
        dependencies=(Dependency("db", before="install"),),
    )
    assert stapel_stage_names(image) == ("from", "dependenciesBeforeInstall", "dependenciesBeforeSetup")
