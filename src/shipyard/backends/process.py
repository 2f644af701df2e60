"""The one place shipyard starts other programs (architecture habit 1).

Every command runs in its own session, so its whole process tree shares one process group: a Ctrl-C, a
timeout or any exception in shipyard stops that group (SIGTERM, then SIGKILL after a grace period) and no
buildah child outlives us. A SIGKILL of shipyard cannot be caught, so each command is also started with a
parent-death signal (util-linux `setpriv --pdeathsig TERM`): the kernel sends it SIGTERM when we die.
A failed command raises `ProcessFailed` with the command line (secrets masked), the exit code and the last
lines of its output.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO

from shipyard.errors import ShipyardError

OutputLine = Callable[[str], None]
TAIL_LINES = 30
STOP_GRACE_SECONDS = 10.0
READ_POLL_SECONDS = 0.25  # how soon a silent command still lets a Ctrl-C through
_MASK = "******"
_GROUP_POLL_SECONDS = 0.02


class BackendError(ShipyardError):
    """A container backend operation failed; carries the command, its exit status and its last output lines.

    `returncode` is the command's (negative: killed by that signal); `exit_code` stays shipyard's own.
    """

    def __init__(self, message: str, *, hint: str | None = None, command: str = "",
                 returncode: int | None = None, output_tail: Sequence[str] = ()) -> None:
        super().__init__(message, hint=hint)
        self.command = command
        self.returncode = returncode
        self.output_tail = tuple(output_tail)

    def render(self) -> str:
        lines = [self.message, *(f"  | {line}" for line in self.output_tail)]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class ProcessFailed(BackendError):
    """A command exited with a non-zero status (or was stopped by a timeout)."""


class ProcessTimeout(ProcessFailed):
    """A command ran longer than its timeout and was stopped."""


class _Masker:
    """Replaces every secret (passwords, tokens) with a fixed mask in command lines and output."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # longest first, so a secret containing another one is masked whole
        self._secrets = sorted((secret for secret in secrets if secret), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _MASK)
        return text

    def command(self, argv: Sequence[str]) -> str:
        return self(shlex.join(argv))


def run(
    argv: Sequence[str],
    *,
    on_line: OutputLine | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float | None = None,
    secrets: Iterable[str] = (),
    tail_lines: int = TAIL_LINES,
    stop_grace: float = STOP_GRACE_SECONDS,
) -> tuple[str, ...]:
    """Run `argv`, giving each line of its stdout and stderr (merged, in order) to `on_line`.

    Returns the last `tail_lines` output lines. Raises ProcessFailed on a non-zero exit, ProcessTimeout after
    `timeout` seconds; on any exception (KeyboardInterrupt included) the command's process group is stopped
    before the exception propagates.
    """
    mask = _Masker(secrets)
    tail: deque[str] = deque(maxlen=tail_lines)
    proc = _start(argv, env, stdin, stderr=subprocess.STDOUT)
    timer = _Deadline(proc, timeout, stop_grace)
    _RUNNING.add(proc)
    try:
        _feed_stdin(proc, stdin)
        assert proc.stdout is not None
        for raw in _lines(proc.stdout.fileno()):
            line = mask(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
            tail.append(line)
            if on_line is not None:
                on_line(line)
        proc.wait()
    except BaseException:
        stop_group(proc, stop_grace)
        raise
    finally:
        _RUNNING.discard(proc)
        timer.cancel()
        _close(proc.stdout)
    _check(proc.returncode, mask.command(argv), tuple(tail), timed_out=timer.fired, timeout=timeout)
    return tuple(tail)


def _lines(fd: int) -> Iterator[bytes]:
    """Lines read from `fd` until EOF, waking every READ_POLL_SECONDS even when the command is silent.

    A signal (Ctrl-C) may be delivered to any thread; Python only runs its handler when the main thread
    executes bytecode, so a main thread blocked in read() would sit out a Ctrl-C until the next output.
    """
    pending = b""
    while True:
        readable, _, _ = select.select([fd], [], [], READ_POLL_SECONDS)
        if not readable:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line + b"\n" for line in complete)
    if pending:
        yield pending


def capture(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float | None = 120.0,
    secrets: Iterable[str] = (),
    tail_lines: int = TAIL_LINES,
    stop_grace: float = STOP_GRACE_SECONDS,
) -> str:
    """Run a short command and return its stdout; stderr only goes into the ProcessFailed tail."""
    mask = _Masker(secrets)
    proc = _start(argv, env, stdin, stderr=subprocess.PIPE)
    timed_out = False
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        stop_group(proc, stop_grace)
        out, err = proc.communicate()
    except BaseException:
        stop_group(proc, stop_grace)
        _close(proc.stdout)
        _close(proc.stderr)
        raise
    stdout = out.decode("utf-8", errors="replace")
    if proc.returncode != 0 or timed_out:
        output = err.decode("utf-8", errors="replace").splitlines() + stdout.splitlines()
        tail = tuple(mask(line) for line in output[-tail_lines:]) if tail_lines else ()
        _check(proc.returncode, mask.command(argv), tail, timed_out=timed_out, timeout=timeout)
    return stdout


def background(argv: Sequence[str]) -> subprocess.Popen[bytes]:
    """Start a helper that lives while shipyard needs it (an ssh-agent): stderr discarded, stdout left in
    its pipe (closing it would kill a helper that prints a line); stop it with `stop_group` (the kernel
    stops it if shipyard dies)."""
    return _start(argv, None, None, stderr=subprocess.DEVNULL)


class _RunningCommands:
    """Commands `run` is waiting on, in any thread: Ctrl-C reaches only the main thread, which must be able to
    stop the commands its worker threads started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def snapshot(self) -> list[subprocess.Popen[bytes]]:
        with self._lock:
            return list(self._procs)


_RUNNING = _RunningCommands()


def stop_all(grace: float = STOP_GRACE_SECONDS) -> None:
    """Stop every command `run` is still waiting on (their `run` calls then raise ProcessFailed)."""
    procs = _RUNNING.snapshot()
    for proc in procs:
        _signal_group(proc.pid, signal.SIGTERM)
    for proc in procs:
        stop_group(proc, grace)


def stop_group(proc: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> None:
    """Stop every process of `proc`'s group: SIGTERM (buildah then removes its working container), then
    SIGKILL for what is left after `grace` seconds, or at once on a second Ctrl-C."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        if _wait_group(proc, grace):
            return
    except KeyboardInterrupt:
        _signal_group(proc.pid, signal.SIGKILL)
        raise
    _signal_group(proc.pid, signal.SIGKILL)
    _wait_group(proc, grace)


@functools.cache
def _program(name: str) -> str | None:
    return shutil.which(name)


def _with_parent_death_signal(argv: Sequence[str]) -> list[str]:
    """`argv` started through setpriv so that it gets SIGTERM when shipyard dies, even by SIGKILL (the signal
    fires when the thread that started it ends: `run` and `capture` wait in that thread)."""
    setpriv = _program("setpriv")
    if setpriv is None or _program(argv[0]) is None:
        return list(argv)  # no setpriv: as before; a missing program is reported by Popen below
    return [setpriv, "--pdeathsig", "TERM", "--", *argv]


def _start(argv: Sequence[str], env: Mapping[str, str] | None, stdin: bytes | None,
           *, stderr: int) -> subprocess.Popen[bytes]:
    if not argv:
        raise ValueError("empty command")
    try:
        # start_new_session: a group of its own, and the terminal's Ctrl-C reaches only us (we stop the group)
        return subprocess.Popen(
            _with_parent_death_signal(argv),
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=None if env is None else dict(env),
            start_new_session=True,
        )
    except FileNotFoundError:
        raise BackendError(f"{argv[0]} is not installed (not found on PATH)",
                           hint="install the container tools with scripts/setup") from None
    except PermissionError as error:
        raise BackendError(f"cannot run {argv[0]}: {error}") from None


def _feed_stdin(proc: subprocess.Popen[bytes], data: bytes | None) -> None:
    """Write stdin from a thread: a command that prints much before reading cannot deadlock us."""
    if data is None or proc.stdin is None:
        return
    pipe = proc.stdin

    def write() -> None:
        try:
            pipe.write(data)
        except BrokenPipeError:
            pass  # the command exited without reading everything; its exit code tells the story
        finally:
            _close(pipe)

    threading.Thread(target=write, name="process-stdin", daemon=True).start()


class _Deadline:
    """Stops the process group from a timer thread once `timeout` seconds have passed."""

    def __init__(self, proc: subprocess.Popen[bytes], timeout: float | None, grace: float) -> None:
        self.fired = False
        self._timer: threading.Timer | None = None
        if timeout is not None:
            self._timer = threading.Timer(timeout, self._fire, args=(proc, grace))
            self._timer.daemon = True
            self._timer.start()

    def _fire(self, proc: subprocess.Popen[bytes], grace: float) -> None:
        self.fired = True
        stop_group(proc, grace)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _check(returncode: int | None, command: str, tail: tuple[str, ...], *, timed_out: bool,
           timeout: float | None) -> None:
    if timed_out:
        raise ProcessTimeout(f"{command} did not finish within {timeout:g} s and was stopped",
                             command=command, returncode=returncode, output_tail=tail)
    if returncode != 0:
        raise ProcessFailed(f"{command} failed with {describe_returncode(returncode)}",
                            command=command, returncode=returncode, output_tail=tail)


def describe_returncode(returncode: int | None) -> str:
    """"exit code 2", or "signal SIGKILL" for a command killed by a signal."""
    if returncode is not None and returncode < 0:
        return f"signal {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is already empty
        os.killpg(pgid, signum)


def _wait_group(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Reap the leader, then wait until no process of the group is left; False on timeout."""
    deadline = time.monotonic() + timeout
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    while time.monotonic() < deadline:
        if not _group_alive(proc.pid):
            return True
        time.sleep(_GROUP_POLL_SECONDS)
    return False


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group is still running. Members that have exited and wait for init to reap
    them do not count: an init that reaps late (or never, in some containers) must not hold up Ctrl-C."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True  # no procfs: the signal test above is all we have
    return any(_running_in_group(entry, pgid) for entry in entries if entry.isdigit())


def _running_in_group(pid: str, pgid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            # "pid (comm) state ppid pgrp …"; comm may contain spaces and parentheses
            state, _ppid, pgrp = stat_file.read().rsplit(b")", 1)[1].split()[:3]
    except (OSError, ValueError):
        return False
    return int(pgrp) == pgid and state not in (b"Z", b"X")


def _close(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()
