"""The step-wise Stapel plan: digest chaining over empty stages, git commits of selected stages (§1.5),
gitCache/gitLatestPatch emptiness, imports, platforms. Git and other images are in-memory fakes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from shipyard.config.model import (
    Dependency,
    DependencyImport,
    DockerInstructions,
    GitMapping,
    GitStageDependencies,
    Import,
    Mount,
    Shell,
    StapelImage,
)
from shipyard.errors import ConfigError, GitError
from shipyard.hashsum import sha3_224_hash, sha256_hash
from shipyard.stages.stapel import PlannedStapelStage, StapelInputs, StapelPlan
from shipyard.stages.stapel_git import commit_label, virtual_merge_label

MIB = 1024 * 1024
EMPTY_SHA256 = sha256_hash()
APP_GIT = GitMapping(add="/", to="/app", stage_dependencies=GitStageDependencies(install=("package.json",)))
AMD64 = StapelInputs(target_platform="linux/amd64")


def git_image(**changes: Any) -> StapelImage:
    """beforeInstall, install and setup commands, one git mapping, `docker:`; no beforeSetup."""
    image = StapelImage(
        name="app",
        from_="alpine:3.20",
        git=(APP_GIT,),
        shell=Shell(before_install=("apk add nodejs",), install=("npm ci",), setup=("npm run build",)),
        docker=DockerInstructions(cmd="npm start"),
    )
    return replace(image, **changes)


@dataclass
class FakeGit:
    """Facts keyed by the mapping's `to`; every commit exists unless listed in `missing`."""

    latest: dict[str, str]
    glob_checksums: dict[tuple[str, str], str] = field(default_factory=dict)  # (to, glob)
    patch_sizes: dict[tuple[str, str], int] = field(default_factory=dict)  # (to, from commit)
    patch_texts: dict[tuple[str, str], str] = field(default_factory=dict)  # (to, from commit)
    missing: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    def latest_commit(self, mapping: GitMapping) -> str:
        return self.latest[mapping.to]

    def has_commit(self, mapping: GitMapping, commit: str) -> bool:
        return commit not in self.missing

    def stage_dependency_checksum(self, mapping: GitMapping, glob: str) -> str:
        return self.glob_checksums.get((mapping.to, glob), "")

    def patch_size(self, mapping: GitMapping, from_commit: str) -> int:
        self.calls.append(f"size {mapping.to} {from_commit}")
        return self.patch_sizes.get((mapping.to, from_commit), 0)

    def patch_text(self, mapping: GitMapping, from_commit: str) -> str:
        self.calls.append(f"patch {mapping.to} {from_commit}")
        return self.patch_texts.get((mapping.to, from_commit), "")


@dataclass
class FakeImages:
    checksums: dict[str, str]  # import `add` → source checksum

    def import_checksum(self, item: Import) -> str:
        return self.checksums[item.add]

    def dependency_stage_image_name(self, image_name: str) -> str:
        return f"registry.example/project:{image_name}-1700000000000"


def names(stages: list[PlannedStapelStage]) -> list[str]:
    return [stage.name for stage in stages]


def by_name(stages: list[PlannedStapelStage]) -> dict[str, PlannedStapelStage]:
    return {stage.name: stage for stage in stages}


def prev_args(stage: PlannedStapelStage) -> tuple[str, ...]:
    """The (previous digest, previous next-stage dependencies) pair of §1.1."""
    return stage.digest.args[-2:]


def replay_found_at(plan: StapelPlan, commit: str) -> list[PlannedStapelStage]:
    """Walk the plan finding every stage in storage, each built earlier at `commit`."""
    labels = {commit_label(mapping): commit for mapping in plan.mappings}
    stages = [plan.first_stage()]
    while (stage := plan.next_stage(plan.found(stages[-1], labels))) is not None:
        stages.append(stage)
    return stages


# --- chaining over empty stages -----------------------------------------------------------------------------


def test_a_fresh_build_skips_the_patch_stages_and_chains_over_them() -> None:
    plan = StapelPlan(git_image(), AMD64, git=FakeGit(latest={"/app": "c2"}))
    stages = plan.stages_for_fresh_build()

    assert names(stages) == ["from", "beforeInstall", "gitArchive", "install", "setup", "dockerInstructions"]
    stage = by_name(stages)
    assert prev_args(stage["beforeInstall"]) == (stage["from"].digest.digest, "")
    assert prev_args(stage["gitArchive"]) == (stage["beforeInstall"].digest.digest, "")
    assert prev_args(stage["install"]) == (stage["gitArchive"].digest.digest, sha256_hash("c2"))
    assert prev_args(stage["setup"]) == (stage["install"].digest.digest, sha256_hash("c2"))
    # gitCache and gitLatestPatch are empty (setup is at the latest commit): chained to setup
    assert prev_args(stage["dockerInstructions"]) == (stage["setup"].digest.digest, sha256_hash("c2"))


def test_a_user_stage_without_git_mappings_still_passes_h256_of_nothing() -> None:
    image = StapelImage(name="x", from_="alpine", shell=Shell(install=("a",), setup=("b",)))
    install, setup = StapelPlan(image, AMD64).stages_for_fresh_build()[1:]
    assert setup.digest.args == ("1.2", "setup", setup.deps, install.digest.digest, EMPTY_SHA256)


def test_every_digest_is_h3_of_its_arguments() -> None:
    for stage in StapelPlan(git_image(), AMD64, git=FakeGit(latest={"/app": "c2"})).stages_for_fresh_build():
        assert stage.digest.digest == sha3_224_hash(*stage.digest.args)
        assert stage.digest.args[2] == stage.deps
        assert stage.deps == sha256_hash(*stage.digest.dependencies)


# --- the commits of the selected stages ---------------------------------------------------------------------


def test_the_next_stage_hashes_the_commit_of_the_selected_stage_not_the_latest() -> None:
    git = FakeGit(latest={"/app": "c2"}, patch_texts={("/app", "c1"): "diff --git a/x b/x\n"})
    stages = replay_found_at(StapelPlan(git_image(), AMD64, git=git), "c1")

    assert names(stages) == [
        "from",
        "beforeInstall",
        "gitArchive",
        "install",
        "setup",
        "gitLatestPatch",
        "dockerInstructions",
    ]
    stage = by_name(stages)
    assert prev_args(stage["install"])[1] == sha256_hash("c1")
    assert stage["install"].git_patch_from == ("c1",)
    latest_patch = stage["gitLatestPatch"]
    assert latest_patch.deps == sha256_hash("diff --git a/x b/x\n")
    assert prev_args(latest_patch) == (stage["setup"].digest.digest, sha256_hash("c1"))
    assert latest_patch.git_patch_from == ("c1",)
    assert git.calls == ["size /app c1", "patch /app c1"]  # gitCache was measured and found under 1 MiB


def test_a_built_git_stage_is_at_the_latest_commits() -> None:
    plan = StapelPlan(git_image(), AMD64, git=FakeGit(latest={"/app": "c2"}))
    stage = by_name(plan.stages_for_fresh_build())
    assert stage["install"].labels == {commit_label(APP_GIT): "c2", virtual_merge_label(APP_GIT): "false"}
    assert stage["from"].labels == {} and stage["dockerInstructions"].labels == {}
    assert plan.built(stage["install"]).commits == ("c2",)
    assert plan.built(stage["from"]).commits is None  # no git labels before gitArchive
    assert stage["install"].content_digest.args == (
        "1.2",
        "install-content",
        "",
        stage["install"].digest.digest,
        sha256_hash("c2"),
    )


def test_git_cache_exists_from_one_mebibyte_of_patch() -> None:
    git = FakeGit(
        latest={"/app": "c2"}, patch_sizes={("/app", "c1"): 3 * MIB + 5}, patch_texts={("/app", "c1"): "big"}
    )
    plan = StapelPlan(git_image(), AMD64, git=git)
    setup = replay_found_at(plan, "c1")[4]
    git_cache = plan.next_stage(plan.found(setup, {commit_label(APP_GIT): "c1"}))
    assert git_cache is not None and git_cache.name == "gitCache"
    assert git_cache.deps == sha256_hash("3")
    # built now, gitCache is at c2: gitLatestPatch has nothing left to apply and is skipped
    docker = plan.next_stage(plan.built(git_cache))
    assert docker is not None and docker.name == "dockerInstructions"
    assert prev_args(docker) == (git_cache.digest.digest, sha256_hash("c2"))


def test_git_cache_is_empty_under_one_mebibyte() -> None:
    git = FakeGit(
        latest={"/app": "c2"}, patch_sizes={("/app", "c1"): MIB - 1}, patch_texts={("/app", "c1"): "x"}
    )
    assert "gitCache" not in names(replay_found_at(StapelPlan(git_image(), AMD64, git=git), "c1"))


def test_git_latest_patch_is_empty_when_the_patch_changes_nothing() -> None:
    git = FakeGit(latest={"/app": "c2"})  # c1 → c2 touched nothing the mapping exports
    stages = replay_found_at(StapelPlan(git_image(), AMD64, git=git), "c1")
    assert names(stages)[-2:] == ["setup", "dockerInstructions"]


def test_a_vanished_base_commit_fails_the_latest_patch() -> None:
    git = FakeGit(latest={"/app": "c2"}, missing={"c1"})
    with pytest.raises(GitError, match="'c1' is not in the repository"):
        replay_found_at(StapelPlan(git_image(), AMD64, git=git), "c1")
    assert git.calls == []  # gitCache: a vanished commit counts as a 0-byte patch, nothing measured


def test_a_git_stage_image_without_commit_label_is_rejected() -> None:
    plan = StapelPlan(git_image(), AMD64, git=FakeGit(latest={"/app": "c2"}))
    git_archive = plan.stages_for_fresh_build()[2]
    with pytest.raises(GitError, match="no label"):
        plan.found(git_archive, {})
    assert plan.found(plan.first_stage(), {}).commits is None


def test_remote_mappings_follow_the_local_ones() -> None:
    remote = GitMapping(url="https://github.com/golang/example.git", to="/ext", commit="r1")
    plan = StapelPlan(
        git_image(git=(remote, APP_GIT)), AMD64, git=FakeGit(latest={"/app": "c2", "/ext": "r1"})
    )
    assert plan.mappings == (APP_GIT, remote)
    assert plan.latest_commits == ("c2", "r1")
    install = by_name(plan.stages_for_fresh_build())["install"]
    assert prev_args(install)[1] == sha256_hash("c2", "r1")  # sorted commits


# --- what changes what --------------------------------------------------------------------------------------


def test_changing_install_commands_changes_install_and_everything_after() -> None:
    git = FakeGit(latest={"/app": "c2"})
    before = StapelPlan(git_image(), AMD64, git=git).stages_for_fresh_build()
    changed = git_image(
        shell=Shell(before_install=("apk add nodejs",), install=("npm install",), setup=("npm run build",))
    )
    after = StapelPlan(changed, AMD64, git=git).stages_for_fresh_build()

    assert names(before) == names(after)
    same = [old.digest.digest == new.digest.digest for old, new in zip(before, after, strict=True)]
    assert same == [True, True, True, False, False, False]  # from, beforeInstall, gitArchive stay


def test_stage_dependencies_checksum_changes_install_but_not_git_archive() -> None:
    mapping = replace(APP_GIT, stage_dependencies=GitStageDependencies(install=("package.json", "missing/*")))
    image = git_image(git=(mapping,))
    first = FakeGit(latest={"/app": "c2"}, glob_checksums={("/app", "package.json"): "aaa"})
    second = FakeGit(latest={"/app": "c2"}, glob_checksums={("/app", "package.json"): "bbb"})
    old, new = (
        by_name(StapelPlan(image, AMD64, git=git).stages_for_fresh_build()) for git in (first, second)
    )

    mapping_checksum = hashlib.sha256(b"aaa").hexdigest()  # raw, the empty checksum of `missing/*` skipped
    builder = sha256_hash("npm ci")
    assert old["install"].deps == sha256_hash(builder, sha256_hash(mapping_checksum))
    assert old["gitArchive"].digest == new["gitArchive"].digest
    assert old["install"].digest.digest != new["install"].digest.digest
    # setup has no stageDependencies: its mapping contributes ""
    assert old["setup"].deps == sha256_hash(sha256_hash("npm run build"), sha256_hash(""))


def test_cache_version_of_the_image_wins_over_the_meta_one() -> None:
    image = StapelImage(name="x", from_="alpine")
    meta_only = StapelPlan(image, StapelInputs(meta_cache_version="m")).first_stage()
    both = StapelPlan(replace(image, cache_version="i"), StapelInputs(meta_cache_version="m")).first_stage()
    assert meta_only.deps == sha256_hash("m", "alpine")
    assert both.deps == sha256_hash("i", "alpine")


def test_from_a_werf_image_hashes_its_content_digest_and_mounts() -> None:
    image = StapelImage(
        name="app",
        from_="base",
        mount=(
            Mount(to="/var/cache/apk", type="tmp_dir"),
            Mount(to="/root/.m2/", type="custom_dir", from_path="/ci/m2/"),
        ),
    )
    stage = StapelPlan(image, StapelInputs(base_image_content_digest="cd" * 28)).first_stage()
    assert stage.digest.dependencies == (
        ".",
        "/var/cache/apk",
        "tmp_dir",
        "/ci/m2",
        "/root/.m2",
        "custom_dir",
        "cd" * 28,
    )


# --- imports and dependencies -------------------------------------------------------------------------------


def test_imports_stage_between_install_and_setup() -> None:
    image = git_image(
        imports=(Import(image="builder", add="/out/app", to="/usr/bin/app", after="install", owner="app"),),
        dependencies=(
            Dependency("db", (DependencyImport("ImageName", target_env="DB_IMAGE"),), after="install"),
        ),
    )
    plan = StapelPlan(
        image, AMD64, git=FakeGit(latest={"/app": "c2"}), images=FakeImages({"/out/app": "md5"})
    )
    stage = by_name(plan.stages_for_fresh_build())
    imports = stage["dependenciesAfterInstall"]

    assert imports.digest.args[:2] == ("1.2", "importsAfterInstall")  # the legacy name is hashed
    assert imports.content_digest.args[1] == "dependenciesAfterInstall-content"
    assert imports.digest.dependencies == (
        "md5",
        "/usr/bin/app",
        "",
        "app",
        "Dependency",
        "registry.example/project:db-1700000000000",
        "DependencyImport",
        sha256_hash("Type", "ImageName", "TargetEnv", "DB_IMAGE"),
    )
    assert prev_args(imports) == (stage["install"].digest.digest, sha256_hash("c2"))
    assert prev_args(stage["setup"]) == (imports.digest.digest, "")  # imports pass no commits on
    assert plan.built(imports).commits == ("c2",)  # its image inherits install's labels


# --- platforms and configuration errors ---------------------------------------------------------------------


def test_a_platform_other_than_linux_amd64_enters_every_digest() -> None:
    git = FakeGit(latest={"/app": "c2"})
    amd64 = StapelPlan(git_image(), AMD64, git=git).stages_for_fresh_build()
    arm64 = StapelPlan(
        git_image(), StapelInputs(target_platform="linux/arm64"), git=git
    ).stages_for_fresh_build()

    for on_amd64, on_arm64 in zip(amd64, arm64, strict=True):
        assert on_arm64.digest.args[0] == on_arm64.content_digest.args[0] == "linux/arm64"
        assert on_amd64.digest.args[0] == "1.2"
        assert on_amd64.digest.digest != on_arm64.digest.digest


def test_selection_is_by_git_ancestry_only_for_git_stages_of_images_with_git() -> None:
    stages = StapelPlan(git_image(), AMD64, git=FakeGit(latest={"/app": "c2"})).stages_for_fresh_build()
    assert {stage.name: stage.selection for stage in stages} == {
        "from": "oldest",
        "beforeInstall": "oldest",
        "gitArchive": "ancestry",
        "install": "ancestry",
        "setup": "ancestry",
        "dockerInstructions": "oldest",
    }
    without_git = StapelPlan(git_image(git=()), AMD64).stages_for_fresh_build()
    assert {stage.selection for stage in without_git} == {"oldest"}


def test_the_ansible_builder_is_refused() -> None:
    with pytest.raises(ConfigError, match="ansible"):
        StapelPlan(git_image(shell=None, ansible={"install": []}), AMD64)


def test_git_facts_are_required_only_with_git_mappings() -> None:
    with pytest.raises(ValueError, match="needs GitFacts"):
        StapelPlan(git_image(), AMD64).stages_for_fresh_build()
    assert len(StapelPlan(git_image(git=()), AMD64).stages_for_fresh_build()) == 5
