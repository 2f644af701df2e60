"""Real git repositories for tests, driven by the `git` CLI (an independent path from pygit2)."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from support import require_tools


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True)
    return done.stdout.strip()


def write_files(repo: Path, files: Mapping[str, str | bytes]) -> None:
    for relative, content in files.items():
        path = repo / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def commit_all(repo: Path, message: str = "change") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def init_repo(path: Path, files: Mapping[str, str | bytes] | None = None, *, commit: bool = True) -> Path:
    """A fresh repository at `path` with `files` committed (skips, or fails under CI=true, without git)."""
    require_tools("git")
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.invalid")
    git(path, "config", "user.name", "test")
    write_files(path, files or {})
    if commit:
        commit_all(path, "initial")
    return path


def object_id(repo: Path, path: str, revision: str = "HEAD") -> str:
    """`git rev-parse HEAD:path` (HEAD^{tree} for the root)."""
    return git(repo, "rev-parse", f"{revision}:{path}" if path else f"{revision}^{{tree}}")


def ls_tree_checksum(repo: Path, paths: Sequence[str], *, submodule_checksums: Sequence[str] = ()) -> str:
    """werf's ls-tree checksum computed by hand: SHA-256 of the object ids of `paths` (sorted), then the
    checksums of walked submodules; "" when there is nothing."""
    if not paths and not submodule_checksums:
        return ""
    ids = "".join(object_id(repo, path) for path in sorted(paths))
    return hashlib.sha256((ids + "".join(submodule_checksums)).encode()).hexdigest()
