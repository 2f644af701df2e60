"""Which Stapel working containers still have a living owner.

A build that is killed (SIGKILL, a lost CI runner) cannot remove its working container, and buildah keeps
it (with its mounted layers) forever. Each process therefore holds an exclusive `flock` on
`<directory>/<container name>.lock` from before it creates a container until it has removed it: the kernel
drops the lock when the process dies, so any later build can tell an orphan (lock free, or no lock file)
from a container another build is using right now (lock held), and remove only the orphans.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path


class ContainerLeases:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._held: dict[str, int] = {}  # container name → descriptor holding its lock
        self._guard = threading.Lock()

    def hold(self, name: str) -> None:
        """Take the lease of a container about to be created by this process."""
        self._directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self._path(name), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(descriptor)
            raise
        with self._guard:
            self._held[name] = descriptor

    def release(self, name: str) -> None:
        """The container is gone: drop its lease and lock file."""
        with self._guard:
            descriptor = self._held.pop(name, None)
        if descriptor is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()
        os.close(descriptor)

    def orphans(self, names: list[str]) -> list[str]:
        """The containers of `names` whose owner is gone (their lock is free, or they have none)."""
        found = []
        for name in names:
            with self._guard:
                if name in self._held:
                    continue
            if self._owner_alive(name):
                continue
            found.append(name)
        return found

    def forget(self, name: str) -> None:
        """An orphan was removed: remove its lock file too."""
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()

    def _owner_alive(self, name: str) -> bool:
        try:
            descriptor = os.open(self._path(name), os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(descriptor)  # closing drops the lock we may have taken
        return False

    def _path(self, name: str) -> Path:
        return self._directory / f"{name}.lock"
