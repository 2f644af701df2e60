"""Finding the stage for a digest in a storage's listing (werf-internals §4.2 steps 3-4). No I/O of its
own: the storage hands in its listing and how to describe one stage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shipyard.storage.base import StageUnavailableError, Warn
from shipyard.storage.description import StageDescription
from shipyard.storage.listing import TagListing
from shipyard.storage.selection import StageSelector, stage_candidates
from shipyard.storage.stage_id import StageID

Describe = Callable[[StageID], StageDescription]  # raises StageUnavailableError


@dataclass(frozen=True)
class _Lookup:
    any_available: bool  # werf re-lists only when no candidate at all could be described
    chosen: StageDescription | None


class StageFinder:
    def __init__(self, listing: TagListing, describe: Describe, warn: Warn) -> None:
        self._listing = listing
        self._describe = describe
        self._warn = warn

    def find(self, digest: str, parent_timestamp_ms: int, *, refresh: bool,
             select: StageSelector | None) -> StageDescription | None:
        """`GetStageDescSetByDigestWithCache`: the cached listing first, a fresh one only when the cached
        listing yields no available stage; `refresh` goes straight to a fresh listing."""
        unavailable: set[StageID] = set()  # found broken during this call: not described twice
        if not refresh:
            cached = self._look_in(self._listing.get(cached=True), digest, parent_timestamp_ms, select,
                                   unavailable)
            if cached.any_available:
                return cached.chosen
        fresh = self._look_in(self._listing.get(cached=False), digest, parent_timestamp_ms, select,
                              unavailable)
        return fresh.chosen

    def _look_in(self, tags: frozenset[str], digest: str, parent_timestamp_ms: int,
                 select: StageSelector | None, unavailable: set[StageID]) -> _Lookup:
        candidates = [stage_id for stage_id in stage_candidates(tags, digest, parent_timestamp_ms)
                      if stage_id not in unavailable]
        if select is None:
            # Oldest first, stopping at the first available one: the choice werf makes by describing
            # every candidate and taking the oldest, without reading the others.
            for stage_id in candidates:
                description = self._try_describe(stage_id, unavailable)
                if description is not None:
                    return _Lookup(True, description)
            return _Lookup(False, None)
        descriptions = [d for stage_id in candidates if (d := self._try_describe(stage_id, unavailable))]
        return _Lookup(bool(descriptions), select(descriptions) if descriptions else None)

    def _try_describe(self, stage_id: StageID, unavailable: set[StageID]) -> StageDescription | None:
        try:
            return self._describe(stage_id)
        except StageUnavailableError as error:
            unavailable.add(stage_id)
            self._warn(f"Ignoring {error.message}")
            return None
