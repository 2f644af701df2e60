"""The tags of one storage, listed once per run and shared by every lookup (werf-internals §4.1).

A cached read returns the snapshot, or joins the listing in flight, or starts one: concurrent callers
share one listing (werf's singleflight). A fresh read must see everything published before it was asked
for, so it only accepts a listing that *started* after the request; it never starts a second listing
while one runs, it waits for that one and then joins or starts the next (as werf's
`LocalStagesStorage.refreshProjectListing`). Tags this process published are merged into listings that
started before the publication, so a late-finishing listing cannot hide them; a listing that started
after a publication is authoritative. Ordering uses a counter, not the clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class _Flight:
    started: int  # sequence number taken when the listing started
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class TagListing:
    """Thread-safe cache of one storage's tags. `fetch` does the listing; the constructor does no I/O."""

    def __init__(self, fetch: Callable[[], Iterable[str]]) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._sequence = 0
        self._snapshot: frozenset[str] | None = None
        self._snapshot_started = 0
        self._flight: _Flight | None = None
        self._published: dict[str, int] = {}  # tag → sequence number of its publication
        self.listings = 0  # how many listings ran (for tests and benchmarks)

    def get(self, *, cached: bool = True) -> frozenset[str]:
        """The cached tags (listing only the first time), or with `cached=False` a listing started now."""
        with self._lock:
            started_after = -1 if cached else self._sequence
        while True:
            answer, flight, leads = self._answer_or_flight(started_after)
            if answer is not None:
                return answer
            assert flight is not None
            if leads:
                self._run(flight)
            flight.done.wait()
            if flight.error is not None:
                raise flight.error

    def remember(self, *tags: str) -> None:
        """Record tags this process just published, so lookups see them without listing again."""
        with self._lock:
            for tag in tags:
                self._sequence += 1
                self._published[tag] = self._sequence
            if self._snapshot is not None:
                self._snapshot = self._snapshot.union(tags)

    def _answer_or_flight(self, started_after: int) -> tuple[frozenset[str] | None, _Flight | None, bool]:
        """The snapshot when it comes from a listing started late enough, else the listing in flight to
        wait for (whatever it started: if too early, the next round starts one), else a new one to lead."""
        with self._lock:
            if self._snapshot is not None and self._snapshot_started > started_after:
                return self._snapshot, None, False
            if self._flight is not None:
                return None, self._flight, False
            self._sequence += 1
            self._flight = _Flight(started=self._sequence)
            return None, self._flight, True

    def _run(self, flight: _Flight) -> None:
        listed: frozenset[str] | None = None
        error: BaseException | None = None
        try:
            listed = frozenset(self._fetch())
        except BaseException as caught:  # every waiter gets it; the snapshot stays as it was
            error = caught
        with self._lock:
            self.listings += 1
            flight.error = error
            if listed is not None:
                self._absorb(listed, flight.started)
            self._flight = None
        flight.done.set()

    def _absorb(self, listed: frozenset[str], started: int) -> None:
        """Merge our own publications the listing may have missed, and keep the newest snapshot."""
        missed = set()
        for tag, published in list(self._published.items()):
            if published > started:
                missed.add(tag)
            else:
                del self._published[tag]  # the listing started after the publication: it is authoritative
        tags = listed.union(missed)
        # A listing that started earlier but finished later holds an older view: it must not replace one.
        if self._snapshot is None or started > self._snapshot_started:
            self._snapshot, self._snapshot_started = tags, started
