"""Stage tags `DIGEST-TS` (werf-internals §2.1): parsing as werf's getDigestAndUniqueIDFromRepoStageImageTag,
`-rejected` records, and timestamps for new stages."""

from __future__ import annotations

import threading

import pytest

from shipyard.storage.stage_id import (
    StageID,
    TimestampSource,
    new_timestamp_ms,
    parse_rejected_tag,
    parse_stage_tag,
    rejected_tag,
)

DIGEST = "2604b86b2c7a1c6d19c62601aadb19e7d5c6bb8f17bc2bf26a390ea7"  # from werf's own comment


def test_a_regular_stage_tag() -> None:
    stage_id = parse_stage_tag(f"{DIGEST}-1611836746968")
    assert stage_id == StageID(DIGEST, 1611836746968)
    assert stage_id.tag == f"{DIGEST}-1611836746968" == str(stage_id)


def test_a_manifest_list_tag_is_the_bare_digest_with_timestamp_zero() -> None:
    assert parse_stage_tag(DIGEST) == StageID(DIGEST, 0)
    assert StageID(DIGEST, 0).tag == DIGEST


@pytest.mark.parametrize("tag", [
    DIGEST[:-1],  # no dash: exactly 56 characters or nothing
    DIGEST + "0",
    "latest",
    "",
])
def test_without_a_dash_only_56_characters_parse(tag: str) -> None:
    assert parse_stage_tag(tag) is None


@pytest.mark.parametrize(("tag", "expected"), [
    # Split at the FIRST dash; the rest is Go's strconv.ParseInt(s, 10, 64).
    ("abc-17", StageID("abc", 17)),  # the digest part is not checked when there is a dash
    (f"{DIGEST}-+5", StageID(DIGEST, 5)),  # ParseInt takes a sign
    (f"{DIGEST}--5", StageID(DIGEST, -5)),
    (f"{DIGEST}-0005", StageID(DIGEST, 5)),
    (f"{DIGEST}-9223372036854775807", StageID(DIGEST, 2**63 - 1)),
])
def test_werf_parses_these(tag: str, expected: StageID) -> None:
    assert parse_stage_tag(tag) == expected


@pytest.mark.parametrize("tag", [
    f"{DIGEST}-1611836746968-rejected",  # a rejected record is not a stage
    f"{DIGEST}-",
    f"{DIGEST}-1_000",  # Python's int() would take these, Go's ParseInt does not
    f"{DIGEST}- 5",
    f"{DIGEST}-٣",
    f"{DIGEST}-9223372036854775808",  # overflows int64
    "managed-image-app",
    "meta-1a2b_0123_x",
    "custom-tag-meta-v1",
    "client-id-0f0e-1700000000000",
    "import-metadata-" + "a" * 64,
])
def test_werf_rejects_these(tag: str) -> None:
    assert parse_stage_tag(tag) is None


def test_rejected_records() -> None:
    stage_id = StageID(DIGEST, 1700000000000)
    assert rejected_tag(stage_id) == f"{DIGEST}-1700000000000-rejected"
    assert rejected_tag(StageID(DIGEST, 0)) == f"{DIGEST}-0-rejected"  # werf's "%s-%d-rejected"
    assert parse_rejected_tag(rejected_tag(stage_id)) == stage_id
    assert parse_rejected_tag(stage_id.tag) is None
    assert parse_rejected_tag("x-rejected") is None


def test_timestamps_are_milliseconds_and_strictly_increasing_within_a_process() -> None:
    frozen_clock = TimestampSource(clock_ns=lambda: 1_700_000_000_123_456_789)
    assert [frozen_clock.next() - 1_700_000_000_000 for _ in range(3)] == [123, 124, 125]
    first, second = new_timestamp_ms(), new_timestamp_ms()
    assert 1_600_000_000_000 < first < second < 10**13  # 13 digits, UTC epoch ms


def test_timestamps_are_unique_across_threads() -> None:
    source = TimestampSource(clock_ns=lambda: 5_000_000)
    results: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        values = [source.next() for _ in range(200)]
        with lock:
            results.extend(values)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == len(results) == 1600
