"""The per-run tag listing (werf-internals §4.1): one listing shared by concurrent callers, fresh listings
that start after the request, and our own publications surviving late listings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import pytest

from shipyard.storage.listing import TagListing


class GatedFetch:
    """A listing that blocks until released, to hold one in flight."""

    def __init__(self, tags: Iterable[str]) -> None:
        self.tags = set(tags)
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self) -> set[str]:
        self.calls += 1
        snapshot = set(self.tags)  # what the registry holds when the listing starts
        self.started.set()
        assert self.release.wait(5)
        return snapshot


def in_thread(function: Callable[[], frozenset[str]]) -> tuple[threading.Thread, list[frozenset[str]]]:
    result: list[frozenset[str]] = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    return thread, result


def test_concurrent_cached_reads_share_one_listing() -> None:
    fetch = GatedFetch({"a"})
    listing = TagListing(fetch)
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(listing.get) for _ in range(8)]
        assert fetch.started.wait(5)
        fetch.release.set()
        assert {future.result() for future in futures} == {frozenset({"a"})}
    assert fetch.calls == listing.listings == 1
    assert listing.get() == {"a"} and listing.listings == 1


def test_a_fresh_read_does_not_accept_a_listing_that_started_before_it() -> None:
    fetch = GatedFetch({"a"})
    listing = TagListing(fetch)
    early, early_result = in_thread(listing.get)
    assert fetch.started.wait(5)
    fetch.tags.add("b")  # published after the first listing took its snapshot
    fresh, fresh_result = in_thread(lambda: listing.get(cached=False))
    time.sleep(0.1)  # let the fresh read find the listing in flight (the outcome is the same if not)
    fetch.release.set()
    early.join(5)
    fresh.join(5)
    assert early_result == [{"a"}]
    assert fresh_result == [{"a", "b"}]
    assert fetch.calls == 2
    assert listing.get() == {"a", "b"}  # the newer listing is the snapshot


def test_fresh_reads_waiting_on_an_old_listing_share_the_next_one() -> None:
    fetch = GatedFetch({"a"})
    listing = TagListing(fetch)
    early, _ = in_thread(listing.get)
    assert fetch.started.wait(5)
    fresh = [in_thread(lambda: listing.get(cached=False)) for _ in range(4)]
    time.sleep(0.1)  # all four asked while the first listing runs
    fetch.release.set()
    for thread, _ in [(early, None), *fresh]:
        thread.join(5)
    assert all(result == [{"a"}] for _, result in fresh)
    assert fetch.calls == 2  # the old listing, then one shared by every fresh read


def test_a_fresh_read_after_a_finished_listing_lists_again() -> None:
    calls = 0

    def fetch() -> list[str]:
        nonlocal calls
        calls += 1
        return ["x"]

    listing = TagListing(fetch)
    listing.get()
    assert listing.get(cached=False) == {"x"} and calls == 2


def test_our_publications_survive_a_listing_that_missed_them() -> None:
    fetch = GatedFetch({"a"})
    listing = TagListing(fetch)
    thread, result = in_thread(listing.get)
    assert fetch.started.wait(5)
    listing.remember("ours")  # pushed while the listing was running
    fetch.release.set()
    thread.join(5)
    assert result == [{"a", "ours"}]
    assert listing.get() == {"a", "ours"}


def test_a_listing_started_after_a_publication_is_authoritative() -> None:
    tags = {"a"}
    listing = TagListing(lambda: set(tags))
    listing.get()
    listing.remember("ours")
    assert listing.get() == {"a", "ours"}  # the snapshot learns it without listing
    assert listing.get(cached=False) == {"a"}  # deleted meanwhile: a later listing drops it
    assert listing.listings == 2


def test_a_failed_listing_reaches_every_waiter_and_is_not_cached() -> None:
    attempts = 0

    def fetch() -> list[str]:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("registry down")
        return ["a"]

    listing = TagListing(fetch)
    with pytest.raises(RuntimeError, match="registry down"):
        listing.get()
    assert listing.get() == {"a"}
