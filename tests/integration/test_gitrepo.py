"""gitrepo against real repositories made with the git CLI: discovery, snapshots, ls-tree checksums."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from shipyard.errors import GitError
from shipyard.gitrepo import GitRepo
from shipyard.pathmatch import TruePathMatcher, new_path_matcher
from support import require_tools
from support.gitrepo import commit_all, git, init_repo, ls_tree_checksum, object_id, write_files

FILES = {
    "werf.yaml": "project: demo\nconfigVersion: 1\n",
    "src/app.py": "print('v1')\n",
    "src/lib/util.py": "X = 1\n",
    "src/README.md": "docs\n",
    "docs/guide.md": "guide\n",
    ".gitignore": "*.log\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "project", FILES)


def test_discover_from_a_subdirectory(repo: Path) -> None:
    found = GitRepo.discover(repo / "src" / "lib")
    assert found.root.resolve() == repo.resolve()
    assert found.head_commit == git(repo, "rev-parse", "HEAD")
    assert found.head_commit_time == int(git(repo, "log", "-1", "--format=%ct"))


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="is not inside a git repository") as caught:
        GitRepo.discover(tmp_path)
    assert caught.value.hint is not None and "git init" in caught.value.hint


def test_repository_without_commits(tmp_path: Path) -> None:
    empty = init_repo(tmp_path / "empty", commit=False)
    with pytest.raises(GitError, match="no commits") as caught:
        GitRepo.discover(empty)
    assert caught.value.hint is not None and "git commit" in caught.value.hint


def test_strict_snapshot_reads_head(repo: Path) -> None:
    write_files(repo, {"src/app.py": "print('v2')\n", "new.txt": "untracked\n"})
    snapshot = GitRepo.discover(repo).snapshot("strict")
    assert snapshot.commit == git(repo, "rev-parse", "HEAD")
    assert snapshot.read("src/app.py") == b"print('v1')\n"
    assert snapshot.read("./src/app.py") == b"print('v1')\n"
    assert snapshot.read("new.txt") is None and not snapshot.exists("new.txt")
    assert snapshot.read("src") is None and snapshot.is_dir("src") and not snapshot.is_file("src")
    assert snapshot.is_file("src/lib/util.py") and snapshot.exists("") and snapshot.is_dir(".")


def test_reads_follow_symlinks_inside_the_tree(repo: Path) -> None:
    os.symlink("src", repo / "code")
    os.symlink("lib/util.py", repo / "src" / "util-link.py")
    os.symlink("../../outside", repo / "src" / "escape")
    os.symlink("/etc/passwd", repo / "absolute")
    commit_all(repo)
    snapshot = GitRepo.discover(repo).snapshot("strict")
    assert snapshot.read("code/app.py") == b"print('v1')\n"
    assert snapshot.read("code/util-link.py") == b"X = 1\n" and snapshot.is_file("code/util-link.py")
    assert snapshot.is_dir("code") and snapshot.exists("code") and not snapshot.exists("code/app.py")
    assert snapshot.read("src/escape") is None and snapshot.read("absolute") is None


@pytest.mark.parametrize("mode", ["loose", "dev"])
def test_work_tree_snapshot_overlays_changes(repo: Path, mode: str) -> None:
    write_files(repo, {"src/app.py": "print('v2')\n", "new.txt": "untracked\n", "debug.log": "ignored\n",
                       "run.sh": "#!/bin/sh\n"})
    (repo / "run.sh").chmod(0o755)
    (repo / "docs" / "guide.md").unlink()
    git(repo, "add", "src/app.py")  # staged and unstaged changes both count
    write_files(repo, {"src/lib/util.py": "X = 2\n"})
    status_before = git(repo, "status", "--porcelain")  # git itself may refresh the index: do it first
    index_before = (repo / ".git" / "index").read_bytes()
    snapshot = GitRepo.discover(repo).snapshot(mode)  # type: ignore[arg-type]
    assert snapshot.read("src/app.py") == b"print('v2')\n"
    assert snapshot.read("src/lib/util.py") == b"X = 2\n"
    assert snapshot.read("new.txt") == b"untracked\n"
    assert snapshot.read("debug.log") is None
    assert not snapshot.exists("docs/guide.md")
    assert snapshot.commit == git(repo, "rev-parse", "HEAD")
    # nothing of the user's repository state moved
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert git(repo, "status", "--porcelain") == status_before
    assert git(repo, "for-each-ref") == git(repo, "for-each-ref", "refs/heads")  # no service refs appeared
    # the overlay tree equals what `git add -A && git write-tree` would produce, from a scratch index
    scratch = {"GIT_INDEX_FILE": str(repo / ".git" / "scratch-index")}
    expected = _write_tree_of_work_tree(repo, scratch)
    assert snapshot.tree_id == expected


def test_work_tree_snapshot_handles_type_changes(repo: Path) -> None:
    (repo / "src" / "app.py").unlink()
    write_files(repo, {"src/app.py/inner.py": "now a directory\n"})
    for path in (repo / "src" / "lib").iterdir():
        path.unlink()
    (repo / "src" / "lib").rmdir()
    write_files(repo, {"src/lib": "now a file\n"})
    os.symlink("src/app.py/inner.py", repo / "link")
    snapshot = GitRepo.discover(repo).snapshot("dev")
    assert snapshot.read("src/app.py/inner.py") == b"now a directory\n" and snapshot.is_dir("src/app.py")
    assert snapshot.read("src/lib") == b"now a file\n"
    assert snapshot.read("link") == b"now a directory\n"  # read follows the link
    scratch = {"GIT_INDEX_FILE": str(repo / ".git" / "scratch-index")}
    assert snapshot.tree_id == _write_tree_of_work_tree(repo, scratch)


def _write_tree_of_work_tree(repo: Path, env: dict[str, str]) -> str:
    full_env = {**os.environ, **env}
    subprocess.run(["git", "-C", str(repo), "read-tree", "HEAD"], check=True, env=full_env)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=full_env)
    done = subprocess.run(["git", "-C", str(repo), "write-tree"], check=True, env=full_env,
                          capture_output=True, text=True)
    return done.stdout.strip()


def test_uncommitted_lists_every_kind_of_change(repo: Path) -> None:
    write_files(repo, {"src/app.py": "print('v2')\n", "src/new.py": "new\n", "x.log": "ignored\n",
                       "docs/staged.md": "staged\n"})
    git(repo, "add", "docs/staged.md")
    (repo / "src" / "lib" / "util.py").unlink()
    snapshot = GitRepo.discover(repo).snapshot("strict")
    assert snapshot.uncommitted(["src"]) == ["src/app.py", "src/lib/util.py", "src/new.py"]
    assert snapshot.uncommitted(["werf.yaml", "docs/staged.md"]) == ["docs/staged.md"]
    assert snapshot.uncommitted(matcher=new_path_matcher(include_globs=["**/*.md"])) == ["docs/staged.md"]
    assert snapshot.uncommitted(["x.log"]) == []


def test_checksum_of_the_whole_root_is_the_root_tree_id(repo: Path) -> None:
    snapshot = GitRepo.discover(repo).snapshot("strict")
    assert snapshot.ls_tree_checksum("", TruePathMatcher()) == ls_tree_checksum(repo, [""])
    assert snapshot.ls_tree_checksum(".", TruePathMatcher()) == ls_tree_checksum(repo, [""])


def test_a_wholly_matched_directory_contributes_its_tree_id(repo: Path) -> None:
    snapshot = GitRepo.discover(repo).snapshot("strict")
    src = new_path_matcher(include_globs=["src"])
    assert snapshot.ls_tree_checksum("", src) == ls_tree_checksum(repo, ["src"])
    assert snapshot.ls_tree_checksum("src", TruePathMatcher()) == ls_tree_checksum(repo, ["src"])
    expected = hashlib.sha256(object_id(repo, "src/lib").encode()).hexdigest()
    assert snapshot.ls_tree_checksum("src/lib", TruePathMatcher()) == expected


def test_globs_walk_down_to_files(repo: Path) -> None:
    snapshot = GitRepo.discover(repo).snapshot("strict")
    matcher = new_path_matcher(include_globs=["**/*.md", "src/app.py"])
    expected = ls_tree_checksum(repo, ["docs/guide.md", "src/README.md", "src/app.py"])
    assert snapshot.ls_tree_checksum("", matcher) == expected


def test_exclusions_split_a_directory(repo: Path) -> None:
    snapshot = GitRepo.discover(repo).snapshot("strict")
    matcher = new_path_matcher(base_path="src", exclude_globs=["README.md"])  # relative to the base
    assert snapshot.ls_tree_checksum("src", matcher) == ls_tree_checksum(repo, ["src/app.py", "src/lib"])


def test_nothing_matched_is_empty(repo: Path) -> None:
    snapshot = GitRepo.discover(repo).snapshot("strict")
    assert snapshot.ls_tree_checksum("", new_path_matcher(include_globs=["nope"])) == ""
    assert snapshot.ls_tree_checksum("missing/dir", TruePathMatcher()) == ""


def test_checksum_follows_only_matched_content(repo: Path) -> None:
    matcher = new_path_matcher(include_globs=["src"])
    before = GitRepo.discover(repo).snapshot("strict").ls_tree_checksum("", matcher)
    write_files(repo, {"docs/guide.md": "changed\n"})
    commit_all(repo)
    assert GitRepo.discover(repo).snapshot("strict").ls_tree_checksum("", matcher) == before
    write_files(repo, {"src/lib/util.py": "X = 3\n"})
    commit_all(repo)
    assert GitRepo.discover(repo).snapshot("strict").ls_tree_checksum("", matcher) != before


def test_submodules_add_their_own_checksum(tmp_path: Path) -> None:
    require_tools("git")
    library = init_repo(tmp_path / "library", {"lib.txt": "lib\n", "pkg/mod.txt": "mod\n"})
    main = init_repo(tmp_path / "main", {"app.txt": "app\n"})
    git(main, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "vendor/library")
    commit_all(main, "add submodule")
    snapshot = GitRepo.discover(main).snapshot("strict")
    sub_repo = main / "vendor" / "library"
    # a wholly matched submodule contributes its commit id like any entry
    assert snapshot.ls_tree_checksum("", new_path_matcher(include_globs=["vendor"])) == ls_tree_checksum(
        main, ["vendor"])
    # going through it: the submodule's own checksum is appended after the entries of the main repository
    inner = ls_tree_checksum(sub_repo, ["pkg"])
    matcher = new_path_matcher(include_globs=["app.txt", "vendor/library/pkg"])
    expected = ls_tree_checksum(main, ["app.txt"], submodule_checksums=[inner])
    assert snapshot.ls_tree_checksum("", matcher) == expected
    # a scope inside the submodule
    assert snapshot.ls_tree_checksum("vendor/library/pkg", TruePathMatcher()) == hashlib.sha256(
        inner.encode()).hexdigest()
