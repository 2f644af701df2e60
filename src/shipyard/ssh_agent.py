"""The SSH agent builds may use (werf's rules): `--ssh-key` files go into a temporary agent; without them the
user's agent (`SSH_AUTH_SOCK`) is used; without one, the default keys `~/.ssh/id_rsa` / `id_dsa` go into a
temporary agent; otherwise builds have no agent.

Dockerfile images reach it with `RUN --mount=type=ssh`; Stapel commands find it at `$SSH_AUTH_SOCK`. The
agent's keys never enter an image: only its socket is mounted while a command runs.
"""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from shipyard.backends import process
from shipyard.backends.process import ProcessFailed
from shipyard.errors import UsageError

_DEFAULT_KEYS = ("id_rsa", "id_dsa")  # werf's defaults when there is no agent


@contextlib.contextmanager
def ssh_agent(keys: Sequence[str], *, environ: Mapping[str, str] | None = None,
              home: Path | None = None) -> Iterator[Path | None]:
    """The agent socket builds use (None: no agent), a temporary agent stopped on leaving the block."""
    environ = os.environ if environ is None else environ
    if keys:
        with _temporary_agent([Path(key).expanduser() for key in keys]) as socket:
            yield socket
        return
    user_socket = environ.get("SSH_AUTH_SOCK", "")
    if user_socket and _is_socket(Path(user_socket)):
        yield Path(user_socket)
        return
    ssh_dir = (home or Path.home()) / ".ssh"
    defaults = [ssh_dir / name for name in _DEFAULT_KEYS if (ssh_dir / name).is_file()]
    if not defaults:
        yield None
        return
    with _temporary_agent(defaults) as socket:
        yield socket


@contextlib.contextmanager
def _temporary_agent(keys: Sequence[Path]) -> Iterator[Path]:
    for key in keys:
        if not key.is_file():
            raise UsageError(f"ssh key {key} does not exist", hint="check --ssh-key (WERF_SSH_KEY)")
    with tempfile.TemporaryDirectory(prefix="shipyard-ssh-") as scratch:
        socket = Path(scratch) / "agent.sock"
        agent = process.background(["ssh-agent", "-D", "-a", str(socket)])
        try:
            _wait_for(socket, agent)
            env = {**os.environ, "SSH_AUTH_SOCK": str(socket)}
            for key in keys:
                try:
                    process.capture(["ssh-add", "-q", str(key)], env=env, timeout=30)
                except ProcessFailed as failure:
                    raise UsageError(f"ssh-add could not load {key}: {failure.message}",
                                     hint="a key with a passphrase needs your own agent (SSH_AUTH_SOCK)"
                                     ) from None
            yield socket
        finally:
            process.stop_group(agent)
            if agent.stdout is not None:
                agent.stdout.close()


def _wait_for(socket: Path, agent: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and agent.poll() is None:
        if _is_socket(socket):
            return
        time.sleep(0.01)
    raise UsageError("ssh-agent did not start", hint="install openssh-client (scripts/setup does)")


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(path.stat().st_mode)
    except OSError:
        return False
