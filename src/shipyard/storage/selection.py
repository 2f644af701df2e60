"""Which stored stages may serve a digest, and which one is chosen (werf-internals §4.2 steps 3-4). Pure.

Filtering is werf's `GetStagesIDsByDigest` (`pkg/storage/repo_stages_storage.go`) plus the parent rule of
the storage manager: a stage is never older than the stage it was built on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from shipyard.storage.description import StageDescription
from shipyard.storage.stage_id import REJECTED_SUFFIX, StageID, parse_rejected_tag, parse_stage_tag

# Chooses among the available candidates of one digest, or None to build anew. The default is the
# oldest; git stages will pass werf's ancestry rule here (§1.5), which needs every candidate described.
StageSelector = Callable[[Sequence[StageDescription]], StageDescription | None]


def stage_candidates(tags: Iterable[str], digest: str, parent_timestamp_ms: int = 0) -> list[StageID]:
    """Stage IDs of `digest` among `tags`, oldest first: tags starting with the digest, not `-rejected`,
    parseable, not rejected, and not older than the parent stage (`ts >= parent_ts`)."""
    tags = list(tags)
    rejected = _rejected_timestamps(tags)
    found: set[StageID] = set()
    for tag in tags:
        if not tag.startswith(digest) or tag.endswith(REJECTED_SUFFIX):
            continue
        stage_id = parse_stage_tag(tag)
        # werf keeps the *searched* digest for any tag that merely starts with it ("DIGESTx-1"), then
        # fails to find DIGEST-1 or finds a duplicate; requiring equality gives the same result for free.
        if stage_id is None or stage_id.digest != digest:
            continue
        if stage_id.timestamp_ms < parent_timestamp_ms or stage_id.timestamp_ms in rejected:
            continue
        found.add(stage_id)
    return sorted(found, key=lambda stage_id: stage_id.timestamp_ms)


def select_oldest(descriptions: Sequence[StageDescription]) -> StageDescription | None:
    """werf's rule for every stage without git ancestry: the smallest creation timestamp."""
    return min(descriptions, key=lambda description: description.stage_id.timestamp_ms, default=None)


def _rejected_timestamps(tags: Sequence[str]) -> set[int]:
    # Compatibility: werf builds its rejected set with the *searched* digest, not the parsed one, so a
    # `-rejected` record of any digest hides every candidate with the same timestamp. Replicated so that
    # werf and shipyard builders sharing a repo pick the same stage (hence the same final tag).
    rejected = (parse_rejected_tag(tag) for tag in tags)
    return {stage_id.timestamp_ms for stage_id in rejected if stage_id is not None}
