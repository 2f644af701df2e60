"""Build-context hashing on real repositories: werf's files checksum recomputed from `git rev-parse`."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import pytest

from shipyard import context
from shipyard.errors import ConfigError, GiterminismError
from shipyard.gitrepo import GitRepo, Mode, Snapshot
from shipyard.hashsum import sha256_hash
from support.gitrepo import commit_all, git, init_repo, ls_tree_checksum, write_files

FILES = {
    "Dockerfile": "FROM base\nCOPY . /app\n",
    "README.md": "readme\n",
    "src/main.py": "print(1)\n",
    "src/notes.md": "notes\n",
    "src/pkg/mod.py": "X = 1\n",
    "config/app.json": "{}\n",
    "config/db.json": "{}\n",
    "config/local.yaml": "a: 1\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "project", FILES)


def snapshot_of(repo: Path, mode: Mode = "strict") -> Snapshot:
    return GitRepo.discover(repo).snapshot(mode)


def checksum(repo: Path, sources: list[str], *, mode: Mode = "strict", context_dir: str = "",
             dockerfile: str = "Dockerfile", add_files: tuple[str, ...] = ()) -> str:
    snapshot = snapshot_of(repo, mode)
    ignore, _ = context.dockerignore_matcher(snapshot, context_dir, dockerfile)
    return context.files_checksum(snapshot, sources, context_dir=context_dir, dockerignore=ignore,
                                  context_add_files=add_files)


def werf_checksum(repo: Path, paths: list[str]) -> str:
    """cs = H256(L) with L the ls-tree checksum of `paths` (werf-internals §1.4a)."""
    return sha256_hash(ls_tree_checksum(repo, paths))


def test_copy_everything_hashes_the_root_tree(repo: Path) -> None:
    assert checksum(repo, ["."]) == werf_checksum(repo, [""])
    assert checksum(repo, ["/"]) == werf_checksum(repo, [""])


def test_copy_of_paths_and_globs(repo: Path) -> None:
    assert checksum(repo, ["src"]) == werf_checksum(repo, ["src"])
    assert checksum(repo, ["./src/", "README.md"]) == werf_checksum(repo, ["README.md", "src"])
    assert checksum(repo, ["/config/*.json"]) == werf_checksum(repo, ["config/app.json", "config/db.json"])


def test_nothing_matched(repo: Path) -> None:
    assert checksum(repo, ["missing"]) == sha256_hash("") == hashlib.sha256(b"").hexdigest()


def test_context_subdirectory(repo: Path) -> None:
    assert checksum(repo, ["."], context_dir="src") == werf_checksum(repo, ["src"])
    assert checksum(repo, ["pkg"], context_dir="src") == werf_checksum(repo, ["src/pkg"])


def test_unrelated_change_keeps_the_checksum_and_a_copied_change_changes_it(repo: Path) -> None:
    before = checksum(repo, ["src"])
    write_files(repo, {"README.md": "new readme\n", "config/app.json": '{"a": 1}\n'})
    commit_all(repo)
    assert checksum(repo, ["src"]) == before
    write_files(repo, {"src/pkg/mod.py": "X = 2\n"})
    commit_all(repo)
    assert checksum(repo, ["src"]) != before


def test_dockerignore_changes_where_the_walk_stops(repo: Path) -> None:
    # "*.md" ignores only top-level markdown: src is still taken whole, by its tree id
    write_files(repo, {".dockerignore": "*.md\n"})
    commit_all(repo)
    assert checksum(repo, ["."]) == werf_checksum(repo, [".dockerignore", "Dockerfile", "config", "src"])
    # "**/*.md" stays in progress everywhere: every directory is walked down to its files
    write_files(repo, {".dockerignore": "**/*.md\n!README.md\n"})
    commit_all(repo)
    expected = [".dockerignore", "Dockerfile", "README.md", "config/app.json", "config/db.json",
                "config/local.yaml", "src/main.py", "src/pkg/mod.py"]
    assert checksum(repo, ["."]) == werf_checksum(repo, expected)


def test_dockerfile_specific_dockerignore_wins(repo: Path) -> None:
    write_files(repo, {".dockerignore": "src\n", "Dockerfile.dockerignore": "config\n"})
    commit_all(repo)
    expected = [".dockerignore", "Dockerfile", "Dockerfile.dockerignore", "README.md", "src"]
    assert checksum(repo, ["."]) == werf_checksum(repo, expected)


def test_the_dockerfile_cannot_be_ignored(repo: Path) -> None:
    write_files(repo, {"build/.dockerignore": "*\n", "build/app.Dockerfile": "FROM base\n",
                       "build/x.txt": "x\n"})
    commit_all(repo)
    snapshot = snapshot_of(repo)
    ignore, warning = context.dockerignore_matcher(snapshot, "build", "app.Dockerfile")
    assert warning is not None and "app.Dockerfile" in warning
    assert ignore.is_path_matched("build/app.Dockerfile") and not ignore.is_path_matched("build/x.txt")
    got = context.files_checksum(snapshot, ["."], context_dir="build", dockerignore=ignore)
    assert got == werf_checksum(repo, ["build/app.Dockerfile"])
    _, no_warning = context.dockerignore_matcher(snapshot, "", "Dockerfile")
    assert no_warning is None


def test_strict_mode_refuses_uncommitted_sources(repo: Path) -> None:
    write_files(repo, {"src/main.py": "print(2)\n", "src/new.py": "new\n", "README.md": "not copied\n"})
    with pytest.raises(GiterminismError) as caught:
        checksum(repo, ["src"])
    assert "src/main.py, src/new.py" in caught.value.message
    assert "README.md" not in caught.value.message
    assert caught.value.hint is not None and "--dev" in caught.value.hint
    assert checksum(repo, ["config"]) == werf_checksum(repo, ["config"])  # untouched sources are fine


def test_strict_mode_ignores_dockerignored_and_gitignored_files(repo: Path) -> None:
    write_files(repo, {".dockerignore": "src/notes.md\n", ".gitignore": "*.log\n"})
    commit_all(repo)
    write_files(repo, {"src/notes.md": "changed\n", "src/debug.log": "log\n"})
    assert checksum(repo, ["src"]) == werf_checksum(repo, ["src/main.py", "src/pkg"])


def test_strict_mode_refuses_an_uncommitted_dockerignore(repo: Path) -> None:
    write_files(repo, {".dockerignore": "README.md\n"})
    with pytest.raises(GiterminismError, match=r"\.dockerignore"):
        context.dockerignore_matcher(snapshot_of(repo), "", "Dockerfile")
    allowed, _ = context.dockerignore_matcher(snapshot_of(repo), "", "Dockerfile",
                                              allow_uncommitted=lambda path: path == ".dockerignore")
    assert not allowed.is_path_matched("README.md")


@pytest.mark.parametrize("mode", ["loose", "dev"])
def test_work_tree_modes_hash_the_new_content(repo: Path, mode: Mode) -> None:
    write_files(repo, {"src/main.py": "print(2)\n", "src/new.py": "new\n"})
    (repo / "src" / "notes.md").unlink()
    uncommitted = checksum(repo, ["src"], mode=mode)
    commit_all(repo)
    # the same content, once committed, gives the same checksum in strict mode
    assert uncommitted == checksum(repo, ["src"]) == werf_checksum(repo, ["src"])


def test_context_add_files(repo: Path) -> None:
    write_files(repo, {"src/generated/a.txt": "A\n", "src/generated/b.bin": b"\x00B", "src/extra.txt": "E\n"})
    add_files = ("generated", "extra.txt")
    got = checksum(repo, ["."], context_dir="src", add_files=add_files)  # uncommitted, yet allowed in strict
    expected_a = hashlib.sha256(b"src/generated/a.txt" + b"A\n" + b"src/generated/b.bin" + b"\x00B"
                                + b"src/extra.txt" + b"E\n").hexdigest()
    assert got == sha256_hash(werf_checksum(repo, ["src"]), expected_a)
    # only add-files the COPY sources match count
    only_generated = checksum(repo, ["generated"], context_dir="src", add_files=add_files)
    expected_b = hashlib.sha256(b"src/generated/a.txt" + b"A\n"
                                + b"src/generated/b.bin" + b"\x00B").hexdigest()
    assert only_generated == sha256_hash(sha256_hash(""), expected_b)
    assert context.context_add_files_checksum(repo, context_dir="src", context_add_files=add_files,
                                              sources=["pkg"]) == ""


def test_missing_context_add_file(repo: Path) -> None:
    with pytest.raises(ConfigError, match="contextAddFiles"):
        checksum(repo, ["."], add_files=("nope.txt",))


def test_callback_binding(repo: Path) -> None:
    snapshot = snapshot_of(repo)
    ignore, _ = context.dockerignore_matcher(snapshot, "", "Dockerfile")
    bound = functools.partial(context.files_checksum, snapshot, context_dir="", dockerignore=ignore)
    cached = context.FilesChecksum(snapshot, context_dir="", dockerignore=ignore)
    assert bound(["src"]) == cached(["src"]) == cached(("src",)) == werf_checksum(repo, ["src"])
    assert git(repo, "status", "--porcelain") == ""
