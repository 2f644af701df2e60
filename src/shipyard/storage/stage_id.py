"""Stage IDs and their tags `DIGEST-TIMESTAMP_MS` (werf-internals §2.1). Pure apart from the clock.

Parsing follows werf's `getDigestAndUniqueIDFromRepoStageImageTag` (`pkg/storage/repo_stages_storage.go`):
split at the first `-`; without one the tag must be 56 characters (a multi-platform manifest list, ts 0);
with one, the rest must parse as Go's `strconv.ParseInt(s, 10, 64)` would (optional sign, ASCII digits).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

DIGEST_LENGTH = 56  # SHA3-224 in hex: every stage digest
REJECTED_SUFFIX = "-rejected"
_GO_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, order=True)
class StageID:
    """A stored stage: its digest and the UTC millisecond timestamp taken when it was stored (0 = none)."""

    digest: str
    timestamp_ms: int = 0

    @property
    def tag(self) -> str:
        """`DIGEST-TS`, or just `DIGEST` for ts 0 (werf's `StageID.String()`)."""
        return f"{self.digest}-{self.timestamp_ms}" if self.timestamp_ms else self.digest

    def __str__(self) -> str:
        return self.tag


def parse_stage_tag(tag: str) -> StageID | None:
    """The stage ID a tag names, or None when werf would not read it as a stage tag."""
    digest, dash, unique_id = tag.partition("-")
    if not dash:
        return StageID(digest, 0) if len(digest) == DIGEST_LENGTH else None
    timestamp = _parse_go_int64(unique_id)
    return None if timestamp is None else StageID(digest, timestamp)


def parse_rejected_tag(tag: str) -> StageID | None:
    """The stage a `DIGEST-TS-rejected` record rejects, or None for any other tag."""
    if not tag.endswith(REJECTED_SUFFIX):
        return None
    return parse_stage_tag(tag.removesuffix(REJECTED_SUFFIX))


def rejected_tag(stage_id: StageID) -> str:
    """werf's `%s-%d-rejected`: the timestamp is always written, even 0."""
    return f"{stage_id.digest}-{stage_id.timestamp_ms}{REJECTED_SUFFIX}"


def _parse_go_int64(text: str) -> int | None:
    # Python's int() also takes spaces, underscores and non-ASCII digits; Go's ParseInt does not.
    if not _GO_INT.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


class TimestampSource:
    """UTC milliseconds for new stage IDs, strictly increasing within the process, so two stages stored
    in the same millisecond (parallel builds of one digest) never share a tag. werf's collision loop in
    `GenerateStageDescCreationTs` is a no-op; this one is real but only covers this process."""

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._clock_ns = clock_ns
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(self._clock_ns() // 1_000_000, self._last + 1)
            return self._last


_PROCESS_TIMESTAMPS = TimestampSource()


def new_timestamp_ms() -> int:
    """Now in UTC milliseconds, greater than every value returned before in this process."""
    return _PROCESS_TIMESTAMPS.next()
