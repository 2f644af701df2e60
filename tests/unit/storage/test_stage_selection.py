"""Which stored stages serve a digest (werf-internals §4.2 steps 3-4): candidate filtering, the oldest
rule, and the lookup's cached-then-fresh listing."""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.storage.base import StageUnavailableError
from shipyard.storage.description import StageDescription
from shipyard.storage.listing import TagListing
from shipyard.storage.lookup import StageFinder
from shipyard.storage.selection import select_oldest, stage_candidates
from shipyard.storage.stage_id import StageID

D = "a" * 56
OTHER = "b" * 56


def ids(*timestamps: int, digest: str = D) -> list[StageID]:
    return [StageID(digest, ts) for ts in timestamps]


def describe(stage_id: StageID) -> StageDescription:
    return StageDescription(stage_id, f"repo:{stage_id.tag}", "sha256:" + "0" * 64, "")


def test_candidates_are_the_digest_tags_oldest_first() -> None:
    tags = [f"{D}-300", f"{D}-100", f"{D}-200", f"{OTHER}-50", "managed-image-app", "latest", D]
    assert stage_candidates(tags, D) == [StageID(D, 0), *ids(100, 200, 300)]


def test_a_stage_older_than_its_parent_is_never_a_candidate() -> None:
    tags = [f"{D}-100", f"{D}-200", f"{D}-300", D]
    assert stage_candidates(tags, D, parent_timestamp_ms=200) == ids(200, 300)  # equal is fine: ts >= parent


def test_rejected_stages_are_not_candidates() -> None:
    tags = [f"{D}-100", f"{D}-100-rejected", f"{D}-200"]
    assert stage_candidates(tags, D) == ids(200)


def test_werf_compares_rejected_records_by_timestamp_only() -> None:
    # werf's rejected set carries the searched digest, so another digest's record at the same ms hides ours.
    tags = [f"{D}-100", f"{D}-200", f"{OTHER}-100-rejected", "junk-rejected"]
    assert stage_candidates(tags, D) == ids(200)


def test_tags_that_merely_start_with_the_digest_are_not_candidates() -> None:
    tags = [f"{D}x-100", f"{D}-100-extra", f"{D}-1_0", f"{D}-200"]
    assert stage_candidates(tags, D) == ids(200)


def test_select_oldest() -> None:
    descriptions = [describe(stage_id) for stage_id in ids(300, 100, 200)]
    chosen = select_oldest(descriptions)
    assert chosen is not None and chosen.stage_id == StageID(D, 100)
    assert select_oldest([]) is None


class Registry:
    """What a storage sees: tags (listed through a TagListing) and which of them can be described."""

    def __init__(self, *tags: str) -> None:
        self.tags = list(tags)
        self.broken: set[str] = set()
        self.described: list[str] = []
        self.warnings: list[str] = []
        self.listing = TagListing(lambda: list(self.tags))
        self.finder = StageFinder(self.listing, self.describe, self.warnings.append)

    def describe(self, stage_id: StageID) -> StageDescription:
        self.described.append(stage_id.tag)
        if stage_id.tag in self.broken or stage_id.tag not in self.tags:
            raise StageUnavailableError(f"repo:{stage_id.tag}", "not found in the registry")
        return describe(stage_id)

    def find(self, digest: str = D, parent: int = 0, refresh: bool = False) -> StageID | None:
        found = self.finder.find(digest, parent, refresh=refresh, select=None)
        return None if found is None else found.stage_id


def test_the_oldest_is_found_reading_only_it() -> None:
    registry = Registry(f"{D}-300", f"{D}-100", f"{D}-200")
    assert registry.find() == StageID(D, 100)
    assert registry.described == [f"{D}-100"]
    assert registry.listing.listings == 1


def test_a_broken_candidate_is_skipped_with_a_warning() -> None:
    registry = Registry(f"{D}-100", f"{D}-200")
    registry.broken.add(f"{D}-100")
    assert registry.find() == StageID(D, 200)
    assert registry.warnings == [f"Ignoring stage repo:{D}-100 is unavailable: not found in the registry"]


def test_many_lookups_share_one_listing() -> None:
    registry = Registry(f"{D}-100", f"{OTHER}-100")
    for _ in range(5):
        assert registry.find(D) is not None
        assert registry.find(OTHER) is not None
    assert registry.listing.listings == 1


def test_a_miss_in_the_cached_listing_lists_again() -> None:
    registry = Registry()
    assert registry.find() is None  # cached listing (1), then a fresh one (2)
    assert registry.listing.listings == 2
    registry.tags.append(f"{D}-100")  # another builder publishes
    assert registry.find() == StageID(D, 100)
    assert registry.listing.listings == 3


def test_all_cached_candidates_broken_lists_again_and_does_not_reread_them() -> None:
    registry = Registry(f"{D}-100")
    registry.listing.get()
    registry.broken.add(f"{D}-100")
    registry.tags.append(f"{D}-200")
    assert registry.find() == StageID(D, 200)
    assert registry.described == [f"{D}-100", f"{D}-200"]
    assert registry.listing.listings == 2


def test_refresh_always_lists_afresh() -> None:
    registry = Registry(f"{D}-100")
    registry.find()
    registry.tags.insert(0, f"{D}-50")
    assert registry.find() == StageID(D, 100)  # the cached listing still answers
    assert registry.find(refresh=True) == StageID(D, 50)
    assert registry.listing.listings == 2


def test_a_selector_sees_every_available_candidate() -> None:
    registry = Registry(f"{D}-100", f"{D}-200", f"{D}-300")
    registry.broken.add(f"{D}-200")
    seen: list[Sequence[StageDescription]] = []

    def newest(descriptions: Sequence[StageDescription]) -> StageDescription | None:
        seen.append(descriptions)
        return max(descriptions, key=lambda description: description.stage_id.timestamp_ms)

    found = registry.finder.find(D, 0, refresh=False, select=newest)
    assert found is not None and found.stage_id == StageID(D, 300)
    assert [[d.stage_id.timestamp_ms for d in batch] for batch in seen] == [[100, 300]]


def test_a_selector_choosing_nothing_does_not_relist() -> None:
    registry = Registry(f"{D}-100")
    assert registry.finder.find(D, 0, refresh=False, select=lambda descriptions: None) is None
    assert registry.listing.listings == 1  # werf re-lists only when nothing was available
