"""backends/process.py with real `sh` and `sleep`: streaming, failures, masking, and that an interrupt, an
exception or a timeout leaves no process of the command's group behind."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.backends import process
from shipyard.backends.process import BackendError, ProcessFailed, ProcessTimeout
from support import require_tools

# Starts two long sleeps in the background (as buildah starts its chroot runtime), reports their pids, then
# waits for them: stopping only the shell would leave both running.
SLEEPERS = 'sleep 300 & echo "child $!"; sleep 300 & echo "child $!"; echo ready; wait'


@pytest.fixture(autouse=True)
def _tools() -> None:
    require_tools("sh", "sleep")


def is_gone(pid: int) -> bool:
    """No such process, or a zombie waiting for init (it has exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return True
    return fields[0] in ("Z", "X")


def wait_gone(pids: list[int], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(is_gone(pid) for pid in pids):
            return True
        time.sleep(0.02)
    return False


class Children:
    """An on_line callback collecting the sleepers' pids; acts once the script says it is ready."""

    def __init__(self, on_ready: type[BaseException] | None = None) -> None:
        self.pids: list[int] = []
        self.on_ready = on_ready
        self.ready = threading.Event()

    def __call__(self, line: str) -> None:
        if line.startswith("child "):
            self.pids.append(int(line.split()[1]))
        elif line == "ready":
            self.ready.set()
            if self.on_ready is not None:
                raise self.on_ready


def test_streams_stdout_and_stderr_in_order_and_returns_the_tail() -> None:
    lines: list[str] = []
    script = "echo one; echo two >&2; echo three; printf 'no newline'"
    tail = process.run(["sh", "-c", script], on_line=lines.append, tail_lines=2)
    assert lines == ["one", "two", "three", "no newline"]
    assert tail == ("three", "no newline")


def test_a_failure_carries_the_masked_command_the_exit_code_and_the_last_lines() -> None:
    script = 'for i in 1 2 3 4 5; do echo "line $i"; done; echo "token=$1" >&2; exit 3'
    with pytest.raises(ProcessFailed) as failure:
        process.run(["sh", "-c", script, "sh", "s3cret"], secrets=["s3cret"], tail_lines=3)
    error = failure.value
    assert error.returncode == 3
    assert error.output_tail == ("line 4", "line 5", "token=******")
    assert "s3cret" not in error.command and "******" in error.command
    assert "exit code 3" in error.render() and "  | line 5" in error.render()
    assert error.exit_code == 1  # shipyard's own exit code stays "user-facing error"


def test_stdin_bytes_reach_the_command() -> None:
    payload = b"x" * 300_000 + b"\nend\n"  # larger than a pipe buffer
    assert process.capture(["sh", "-c", "cat | tail -n 1"], stdin=payload) == "end\n"
    lines: list[str] = []
    process.run(["sh", "-c", "wc -c"], stdin=payload, on_line=lines.append)
    assert lines == [str(len(payload))]


def test_capture_returns_stdout_and_puts_stderr_into_the_failure() -> None:
    assert process.capture(["sh", "-c", "echo out; echo err >&2"]) == "out\n"
    with pytest.raises(ProcessFailed) as failure:
        process.capture(["sh", "-c", "echo out; echo 'Error: image not known' >&2; exit 125"])
    assert failure.value.returncode == 125
    assert "Error: image not known" in failure.value.output_tail


def test_a_missing_program_is_a_backend_error() -> None:
    with pytest.raises(BackendError, match="not installed"):
        process.run(["shipyard-no-such-program"])


def test_an_exception_in_the_line_callback_stops_the_whole_group() -> None:
    children = Children(on_ready=RuntimeError)
    with pytest.raises(RuntimeError):
        process.run(["sh", "-c", SLEEPERS], on_line=children, timeout=30)
    assert len(children.pids) == 2
    assert wait_gone(children.pids), "sleep children outlived the interrupted command"


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """Python's own SIGINT handler, even when pytest was started in the background (SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("sigint_raises")
def test_ctrl_c_stops_the_whole_group() -> None:
    """A real SIGINT to this process while run() blocks reading the output, as a terminal's Ctrl-C does."""
    children = Children()

    def interrupt_when_ready() -> None:
        if children.ready.wait(10):
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_ready, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        process.run(["sh", "-c", SLEEPERS], on_line=children, timeout=30)
    assert len(children.pids) == 2
    assert wait_gone(children.pids), "sleep children outlived Ctrl-C"
    assert time.monotonic() - started < 5  # SIGTERM was enough: no grace period spent


def test_processes_ignoring_sigterm_are_killed_after_the_grace_period() -> None:
    children = Children(on_ready=KeyboardInterrupt)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        process.run(["sh", "-c", "trap '' TERM; " + SLEEPERS], on_line=children, stop_grace=0.5)
    assert wait_gone(children.pids, timeout=2)
    assert time.monotonic() - started < 3


def test_a_timeout_stops_the_group_and_says_so() -> None:
    children = Children()
    started = time.monotonic()
    with pytest.raises(ProcessTimeout) as failure:
        process.run(["sh", "-c", SLEEPERS], on_line=children, timeout=0.5)
    assert time.monotonic() - started < 5
    assert wait_gone(children.pids)
    assert "did not finish within 0.5 s" in failure.value.message
    assert failure.value.output_tail[-1] == "ready"


def test_capture_timeout_stops_the_group() -> None:
    started = time.monotonic()
    with pytest.raises(ProcessTimeout):
        process.capture(["sh", "-c", "sleep 300 & wait"], timeout=0.3)
    assert time.monotonic() - started < 5


PARENT = """
import sys, threading
from shipyard.backends import process
def report(line):
    print(line, flush=True)
# as the conveyor does: the command runs in a worker thread
worker = threading.Thread(target=process.run, args=(["sh", "-c", sys.argv[1]],), kwargs={"on_line": report})
worker.start()
worker.join()
"""


def test_a_sigkilled_shipyard_leaves_no_command_running() -> None:
    """SIGKILL cannot be caught: the parent-death signal makes the kernel stop the command itself."""
    require_tools("setpriv")
    import subprocess
    import sys

    parent = subprocess.Popen([sys.executable, "-c", PARENT, 'echo "child $$"; exec sleep 300'],
                              stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    line = parent.stdout.readline()
    assert line.startswith("child "), line
    child = int(line.split()[1])
    assert not is_gone(child)
    parent.kill()
    parent.wait()
    assert wait_gone([child]), "the command outlived its SIGKILLed parent"
