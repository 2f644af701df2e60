"""Run tasks of a dependency graph on a bounded thread pool: each starts as soon as its dependencies are done.

Unlike werf's barrier between sets, a long chain never holds back independent work. When a task fails, the
tasks already running finish, nothing new starts, and the first failure is raised once all have stopped.
"""

from __future__ import annotations

import concurrent.futures as futures
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TaskFailed(Exception):
    """Carries which task failed first and how many others did too (their errors were already reported)."""

    def __init__(self, key: object, error: BaseException, others: int) -> None:
        super().__init__(str(error))
        self.key = key
        self.error = error
        self.others = others


def execution_sets(keys: Sequence[K], dependencies: Mapping[K, set[K]]) -> list[list[K]]:
    """werf's "sets": first every task without dependencies, then those whose dependencies are all in
    earlier sets, and so on (for the plan users recognise; the scheduler itself does not wait per set)."""
    placed: set[K] = set()
    sets: list[list[K]] = []
    remaining = list(keys)
    while remaining:
        ready = [key for key in remaining if dependencies.get(key, set()) <= placed]
        if not ready:
            raise ValueError(f"dependency cycle among {remaining}")
        sets.append(ready)
        placed.update(ready)
        remaining = [key for key in remaining if key not in placed]
    return sets


class GraphRun(Generic[K, V]):
    def __init__(self, keys: Sequence[K], dependencies: Mapping[K, set[K]], work: Callable[[K], V],
                 *, limit: int, on_interrupt: Callable[[], None] = lambda: None) -> None:
        execution_sets(keys, dependencies)  # refuses cycles before anything starts
        self._keys = list(keys)
        self._dependencies = {key: set(dependencies.get(key, set())) & set(keys) for key in keys}
        self._work = work
        self._limit = limit if limit > 0 else max(1, len(keys))
        self._on_interrupt = on_interrupt

    def run(self) -> dict[K, V]:
        results: dict[K, V] = {}
        failures: list[tuple[K, BaseException]] = []
        running: dict[futures.Future[V], K] = {}
        pending = list(self._keys)
        with futures.ThreadPoolExecutor(max_workers=self._limit, thread_name_prefix="build") as pool:
            try:
                while pending or running:
                    if not failures:
                        pending = self._start_ready(pool, pending, running, results)
                    if not running:
                        break
                    done, _ = futures.wait(running, return_when=futures.FIRST_COMPLETED)
                    for future in done:
                        key = running.pop(future)
                        error = future.exception()
                        if error is None:
                            results[key] = future.result()
                        else:
                            failures.append((key, error))
            except BaseException:
                # Ctrl-C reaches the main thread only: stop the workers' processes, then let them unwind.
                self._on_interrupt()
                futures.wait(running)
                raise
        if failures:
            key, error = failures[0]
            raise TaskFailed(key, error, len(failures) - 1) from error
        return results

    def _start_ready(self, pool: futures.ThreadPoolExecutor, pending: list[K],
                     running: dict[futures.Future[V], K], results: dict[K, V]) -> list[K]:
        still_pending = []
        for key in pending:
            if len(running) < self._limit and self._dependencies[key] <= results.keys():
                running[pool.submit(self._work, key)] = key
            else:
                still_pending.append(key)
        return still_pending
