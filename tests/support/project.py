"""A shipyard project in a temporary git repository, driven through the CLI process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Project:
    path: Path
    home: Path  # SHIPYARD_HOME: its own buildah store, so clearing it disturbs no other test
    repo: str  # registry repository for the stages

    def env(self) -> dict[str, str]:
        return {**os.environ, "SHIPYARD_HOME": str(self.home), "BUILDAH_ISOLATION": "chroot"}

    def shipyard(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "shipyard", *args, "--dir", str(self.path)],
                              capture_output=True, text=True, env=self.env(), timeout=timeout)

    def build(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = self.shipyard("build", "--repo", self.repo, *args)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def buildah(self, *args: str) -> str:
        store = ["--root", str(self.home / "buildah" / "root"),
                 "--runroot", str(self.home / "buildah" / "runroot")]
        done = subprocess.run(["buildah", *store, *args], capture_output=True, text=True, env=self.env(),
                              check=True, timeout=120)
        return done.stdout

    def local_images(self) -> list[str]:
        return self.buildah("images", "-q").split()

    def clear_local_store(self) -> None:
        self.buildah("rmi", "--all", "--force")

    def store_processes(self) -> list[int]:
        """Processes still using this project's buildah store (a killed build's orphaned `buildah run`)."""
        marker = str(self.home / "buildah" / "root").encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if marker in (entry / "cmdline").read_bytes():
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    def remove_images(self) -> None:
        """Fixture teardown: free the store's disk space (best effort; the store may not exist)."""
        deadline = time.monotonic() + 30
        while self.store_processes() and time.monotonic() < deadline:
            time.sleep(0.5)  # an orphan of a killed build still holds the store's mounts
        if (self.home / "buildah").exists():
            subprocess.run(["buildah", "--root", str(self.home / "buildah" / "root"), "--runroot",
                            str(self.home / "buildah" / "runroot"), "rm", "--all"],
                           capture_output=True, check=False)
            subprocess.run(["buildah", "--root", str(self.home / "buildah" / "root"), "--runroot",
                            str(self.home / "buildah" / "runroot"), "rmi", "--all", "--force"],
                           capture_output=True, check=False)
            # a killed build leaves the overlay driver's private bind mount of its home behind (maybe
            # stacked): unmount until nothing is mounted there
            for _ in range(5):
                done = subprocess.run(["umount", str(self.home / "buildah" / "root" / "overlay")],
                                      capture_output=True, check=False)
                if done.returncode != 0:
                    break


def skopeo(*args: str) -> str:
    done = subprocess.run(["skopeo", *args], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def run_in_image(project: Project, reference: str, *command: str) -> str:
    """Run `command` in a container of `reference` (pulled from the registry if needed); its stdout."""
    container = project.buildah("from", "--quiet", "--tls-verify=false", reference).strip()
    try:
        return project.buildah("run", "--isolation", "chroot", container, "--", *command)
    finally:
        project.buildah("rm", container)
