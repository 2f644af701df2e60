"""Pure parts of the Stapel conveyor: git ancestry selection, commit env, commit labels, source types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import pytest

from shipyard.config.model import GitMapping, Shell, StapelImage
from shipyard.gitmappings import MappingGit
from shipyard.stages.model import PlannedImage, StapelRecipe
from shipyard.stages.stapel import StapelPlan
from shipyard.stages.stapel_git import commit_label, params_hash, virtual_merge_label
from shipyard.stapel_build import _source_type, ancestry_selector, commit_env, stapel_plan
from shipyard.stapel_stage_work import CommitPlan
from shipyard.storage.description import StageDescription
from shipyard.storage.stage_id import StageID

MAPPING = GitMapping(add="/", to="/app")
HEAD, PARENT, OTHER_BRANCH = "c" * 40, "b" * 40, "f" * 40


class FakeGit:
    """HEAD's history is PARENT → HEAD; OTHER_BRANCH exists but is not an ancestor."""

    def latest_commit(self, mapping: GitMapping) -> str:
        return HEAD

    def has_commit(self, mapping: GitMapping, commit: str) -> bool:
        return commit in (HEAD, PARENT, OTHER_BRANCH)

    def is_ancestor(self, mapping: GitMapping, commit: str) -> bool:
        return commit in (HEAD, PARENT)

    def stage_dependency_checksum(self, mapping: GitMapping, glob: str) -> str:
        return ""

    def patch_size(self, mapping: GitMapping, from_commit: str) -> int:
        return 0

    def patch_text(self, mapping: GitMapping, from_commit: str) -> str:
        return ""


def stored(timestamp: int, labels: Mapping[str, str]) -> StageDescription:
    return StageDescription(StageID("d" * 56, timestamp), f"repo:{'d' * 56}-{timestamp}", "sha256:1", "",
                            labels=dict(labels))


GIT = cast(MappingGit, FakeGit())  # the parts of MappingGit the selector and the plan use


def plan() -> StapelPlan:
    image = StapelImage(name="app", from_="base", git=(MAPPING,), shell=Shell(install=("make",)))
    planned = PlannedImage("app", "linux/amd64", "stapel", True, (), stapel=StapelRecipe(image))
    return stapel_plan(planned, GIT, None, False)


def test_ancestry_selection_takes_the_oldest_candidate_built_from_an_ancestor() -> None:
    select = ancestry_selector(plan(), GIT)
    other = stored(1, {commit_label(MAPPING): OTHER_BRANCH})
    parent = stored(2, {commit_label(MAPPING): PARENT})
    head = stored(3, {commit_label(MAPPING): HEAD})
    assert select([head, other, parent]) is parent
    assert select([other]) is None
    assert select([stored(4, {})]) is None  # no commit label: never selected


def test_ancestry_selection_reads_the_from_commit_of_a_virtual_merge() -> None:
    select = ancestry_selector(plan(), GIT)
    merged = stored(1, {commit_label(MAPPING): OTHER_BRANCH, virtual_merge_label(MAPPING): "true",
                        f"werf-git-{params_hash(MAPPING)}-virtual-merge-from-commit": PARENT})
    assert select([merged]) is merged


def test_commit_env_formats_time_like_go() -> None:
    assert commit_env("abc", 1700000000) == {
        "WERF_COMMIT_HASH": "abc",
        "WERF_COMMIT_TIME_HUMAN": "2023-11-14 22:13:20 +0000 UTC",
        "WERF_COMMIT_TIME_UNIX": "1700000000",
    }


def test_image_spec_removals_win_over_service_labels() -> None:
    removed = frozenset({"werf-version", "werf-mount-type-tmp-dir"})
    commit = CommitPlan({"werf-mount-type-tmp-dir": "/tmp/x"}, removed)
    assert commit.final_labels({"werf": "p", "werf-version": "v"}) == {"werf": "p"}


def test_source_type_says_where_a_built_stage_base_came_from() -> None:
    previous = stored(1, {})
    assert _source_type(built=False, pulled=True, previous=previous) == ""
    assert _source_type(built=True, pulled=False, previous=previous) == ""
    assert _source_type(built=True, pulled=True, previous=previous) == "repo"
    assert _source_type(built=True, pulled=True, previous=None) == "registry"


def test_an_import_reads_the_named_stage_or_the_last_one_before_it() -> None:
    from shipyard.config.model import Import
    from shipyard.errors import ConfigError
    from shipyard.stapel_facts import import_source_stage

    last, install, before = stored(3, {}), stored(2, {}), stored(1, {})
    related = {"builder": last}
    named = {"from": before, "install": install, "setup": last}
    item = Import(image="builder", add="/app", to="/app", after="install")
    assert import_source_stage(item, related, named) is last  # no `stage:`: the image's last stage
    assert import_source_stage(Import(image="builder", add="/a", to="/a", stage="install"), related,
                               named) is install
    # no beforeSetup stage in the source: the last stage before it (install)
    assert import_source_stage(Import(image="builder", add="/a", to="/a", stage="beforeSetup"), related,
                               named) is install
    assert import_source_stage(Import(image="alpine:3", add="/a", to="/a"), related, named) is None
    with pytest.raises(ConfigError, match="no Stapel stages"):
        import_source_stage(Import(image="builder", add="/a", to="/a", stage="install"), related, {})
