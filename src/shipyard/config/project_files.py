"""Giterminism-aware reads of project files: a file differing from the commit is an error unless allowed.

The project tree is passed in (app.py builds it from gitrepo): config/ never touches git itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from shipyard.config.giterminism import GiterminismConfig
from shipyard.errors import GiterminismError

Mode = Literal["strict", "loose", "dev"]
GITERMINISM_NAME = "werf-giterminism.yaml"


class ProjectTree(Protocol):
    """The files of the commit being built (strict) or of the work tree (loose/dev)."""

    def read(self, path: str) -> bytes | None: ...

    def uncommitted(self, paths: Sequence[str]) -> list[str]: ...

    def list_files(self, scope: str = "") -> list[str]: ...

    def exists(self, path: str) -> bool: ...

    def is_dir(self, path: str) -> bool: ...


class ProjectFiles:
    """Giterminism-aware reads: a file differing from the commit is an error unless something allows it."""

    def __init__(
        self, tree: ProjectTree, work_tree: Path, mode: Mode, giterminism: GiterminismConfig
    ) -> None:
        self._tree = tree
        self._work_tree = work_tree
        self._mode = mode
        self.giterminism = giterminism

    @property
    def mode(self) -> Mode:
        return self._mode

    def read(self, path: str, *, allowed: Callable[[str], bool], allow_key: str) -> bytes | None:
        """Read a repo-relative file; in strict mode refuse uncommitted content unless `allowed(path)`."""
        if self._mode == "strict" and self._tree.uncommitted([path]):
            if not allowed(path):
                raise uncommitted_error([path], allow_key)
            disk = self._work_tree / path
            return disk.read_bytes() if disk.is_file() else None
        return self._tree.read(path)

    def list_files(self, scope: str) -> list[str]:
        return self._tree.list_files(scope)

    def exists(self, path: str) -> bool:
        return self._tree.exists(path)

    def is_dir(self, path: str) -> bool:
        return self._tree.is_dir(path)


def uncommitted_error(paths: Sequence[str], allow_key: str) -> GiterminismError:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return GiterminismError(
        f"uncommitted changes in {shown}: shipyard reads the project from the git HEAD commit (giterminism)",
        hint=f"commit the change (git add … && git commit), allow it in {GITERMINISM_NAME} "
        f"(`{allow_key}`), or run with --dev or --loose-giterminism to use the work tree",
    )


def project_prefix(repo_root: Path, project_dir: Path) -> str:
    """The project directory relative to the repository root, posix style ("" for the root)."""
    relative = project_dir.resolve().relative_to(repo_root.resolve())
    return "" if str(relative) == "." else relative.as_posix()


def join(prefix: str, path: str) -> str:
    return str(PurePosixPath(prefix, path)) if prefix else str(PurePosixPath(path))


