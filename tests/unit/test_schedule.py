"""The dependency-graph scheduler: order, limits, failure semantics (threads, no services)."""

from __future__ import annotations

import threading
import time

import pytest

from shipyard.schedule import GraphRun, TaskFailed, execution_sets


def test_execution_sets_follow_dependencies_and_refuse_cycles() -> None:
    deps = {"app": {"lib"}, "lib": {"base"}, "tool": set()}
    assert execution_sets(["app", "lib", "base", "tool"], deps) == [["base", "tool"], ["lib"], ["app"]]
    with pytest.raises(ValueError, match="cycle"):
        execution_sets(["a", "b"], {"a": {"b"}, "b": {"a"}})


def test_a_dependant_starts_only_after_its_dependency_and_the_limit_holds() -> None:
    started: list[str] = []
    running = 0
    most = 0
    guard = threading.Lock()

    def work(key: str) -> str:
        nonlocal running, most
        with guard:
            started.append(key)
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with guard:
            running -= 1
        return key.upper()

    keys = ["a", "b", "c", "d", "app"]
    results = GraphRun(keys, {"app": {"a"}}, work, limit=2).run()
    assert results == {key: key.upper() for key in keys}
    assert started.index("app") > started.index("a")
    assert most == 2


def test_after_a_failure_running_tasks_finish_and_nothing_new_starts() -> None:
    finished: list[str] = []

    def work(key: str) -> str:
        if key == "broken":
            raise RuntimeError("boom")
        time.sleep(0.2)
        finished.append(key)
        return key

    with pytest.raises(TaskFailed) as failed:
        GraphRun(["broken", "slow", "later"], {"later": {"slow"}}, work, limit=2).run()
    assert failed.value.key == "broken" and str(failed.value.error) == "boom"
    assert finished == ["slow"], "the running task finishes; its dependant never starts"
