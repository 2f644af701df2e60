"""Real lock services for tests: `shipyard synchronization` and redis-server, each a subprocess on loopback,
and lockers described as JSON so a child process can build the same one (`locker_from_spec`, `HOLDER`).

Services are started in a fresh process that dies with the test run (PR_SET_PDEATHSIG), waited for until
they answer, and stopped (SIGTERM, then SIGKILL) when the block ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support import require_tools

READY_TIMEOUT = 15.0
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1
_LISTENING = re.compile(r"listening on (http://\S+)")


def _die_with_parent() -> None:
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return process.returncode


# --- shipyard synchronization ----------------------------------------------------------------------


@dataclass
class LockServer:
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[str]
    lease_ttl: float
    output: list[str]  # what it printed after the "listening" line (drained, so the pipe never fills)
    announcement: str = ""  # the "listening" line

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def launch_lock_server(*, lease_ttl: float, port: int = 0, extra: tuple[str, ...] = (),
                       env: dict[str, str] | None = None) -> LockServer:
    """`python -m shipyard synchronization` on 127.0.0.1 (port 0: the kernel picks a free one, no race);
    `env` is added to this process's environment."""
    import os

    command = [sys.executable, "-m", "shipyard", "synchronization", "--host", "127.0.0.1",
               "--port", str(port), "--lease-ttl", str(lease_ttl), *extra]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, preexec_fn=_die_with_parent,
                               env=os.environ | (env or {}))
    assert process.stderr is not None
    line = process.stderr.readline()  # the server announces itself once it listens
    found = _LISTENING.search(line)
    if not found:
        stop(process)
        rest = process.stderr.read()
        pytest.fail(f"lock server did not start: {line}{rest}", pytrace=False)
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(process.stderr or ()), daemon=True).start()
    return LockServer(found.group(1), process, lease_ttl, output, line)


@contextlib.contextmanager
def running_lock_server(*, lease_ttl: float, extra: tuple[str, ...] = (),
                        env: dict[str, str] | None = None) -> Iterator[LockServer]:
    server = launch_lock_server(lease_ttl=lease_ttl, extra=extra, env=env)
    try:
        yield server
    finally:
        stop(server.process)


# --- redis-server ----------------------------------------------------------------------------------


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[str]
    log_path: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self, *words: str) -> bytes:
        """One command in the inline protocol; the raw reply line (enough for PING, FLUSHALL, DEL)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall((" ".join(words) + "\r\n").encode())
            return sock.recv(65536)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def running_redis(workdir: Path) -> Iterator[RedisServer]:
    """redis-server without persistence on a free loopback port."""
    require_tools("redis-server")
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "redis.log"
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--logfile", str(log_path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + READY_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline and not _redis_answers(port):
            time.sleep(0.02)
        if process.poll() is None and _redis_answers(port):
            break
        stop(process)
        log = log_path.read_text(errors="replace") if log_path.exists() else ""
        if "Address already in use" not in log:
            pytest.fail(f"redis-server did not start on port {port}; log:\n{log}", pytrace=False)
    else:
        pytest.fail("redis-server found no free port", pytrace=False)
    server = RedisServer(port, process, log_path)
    try:
        yield server
    finally:
        stop(process)


# --- lockers from a description ------------------------------------------------------------------------

TESTS_DIR = Path(__file__).resolve().parents[1]

# A child that builds the locker of `spec` (argv[1], JSON), takes spec["name"], says "locked" and holds it
# until killed.
HOLDER = (
    "import json, sys, time\n"
    "sys.path.insert(0, sys.argv[2])\n"
    "from support.lock_services import locker_from_spec\n"
    "spec = json.loads(sys.argv[1])\n"
    "locker_from_spec(spec).acquire(spec['name'])\n"
    "print('locked', flush=True)\n"
    "time.sleep(3600)\n"
)


def locker_from_spec(spec: dict[str, Any]) -> Any:
    """`{"kind": "file", "locks_dir"}`, `{"kind": "http", "url", "client_id", "timing"}`,
    `{"kind": "redis", "url", "prefix", "timing"}` or `{"kind": "kubernetes", "address", "project", "timing",
    "conflict_retry"}` → a locker (timing: LeaseTiming's fields)."""
    from shipyard.locks.file import FileLocker
    from shipyard.locks.http import HttpLocker
    from shipyard.locks.lease import LeaseTiming
    from shipyard.locks.redis import RedisLocker

    if spec["kind"] == "file":
        return FileLocker(Path(spec["locks_dir"]))
    timing = LeaseTiming(**spec["timing"])
    if spec["kind"] == "http":
        return HttpLocker(spec["url"], spec["client_id"], timing=timing, retries=2, retry_delay=0.05)
    if spec["kind"] == "redis":
        return RedisLocker(spec["url"], prefix=spec["prefix"], timing=timing, retries=2, retry_delay=0.05)
    if spec["kind"] == "kubernetes":
        from shipyard.locks.kubernetes import KubernetesLocker

        return KubernetesLocker(spec["address"], spec["project"], timing=timing,
                                conflict_retry=spec["conflict_retry"], retries=2, retry_delay=0.05)
    raise ValueError(f"unknown locker kind {spec['kind']!r}")


def start_holder(spec: dict[str, Any]) -> subprocess.Popen[str]:
    """A child process holding spec["name"]; returns once it says it holds the lock."""
    import json

    process = subprocess.Popen([sys.executable, "-c", HOLDER, json.dumps(spec), str(TESTS_DIR)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
                               preexec_fn=_die_with_parent)
    assert process.stdout is not None
    line = process.stdout.readline()
    if line != "locked\n":
        stop(process, signal.SIGKILL)
        pytest.fail(f"the holder process did not take the lock (said {line!r})", pytrace=False)
    return process
