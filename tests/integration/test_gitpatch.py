"""gitpatch against the real `git diff` werf runs: byte-for-byte raw diffs, then werf's rewritten patches."""

from __future__ import annotations

import os
import random
import subprocess
from itertools import pairwise
from pathlib import Path

import pygit2
import pytest

from shipyard.diffparse import PatchScope, parse_diff
from shipyard.errors import GitError
from shipyard.gitpatch import GitPatches, git_quote
from shipyard.pathmatch import new_path_matcher
from support.gitrepo import commit_all, git, init_repo, write_files

LONG = "".join(f"line {number}\n" for number in range(1, 200))
FUNCS = "int main() {\n  a();\n  b();\n  c();\n  d();\n  e();\n}\n\nstatic void helper(void)\n{\n  x();\n}\n"


def _noise(seed: int, size: int) -> bytes:
    generator = random.Random(seed)
    return b"\0" + bytes(generator.randrange(256) for _ in range(size))


def _history(repo: Path) -> list[str]:
    """Commits that exercise every kind of change werf's parser handles."""
    commits = [git(repo, "rev-parse", "HEAD")]
    big = _noise(1, 30_000)
    write_files(repo, {
        "app/long.txt": LONG.replace("line 100\n", "line hundred\n"),
        "app/main.c": FUNCS.replace("c();", "C();"),
        "app/new dir/with space.txt": "spaced\n",
        'app/q"uote.txt': "quoted\n",
        "app/tab\there.txt": "tab\n",
        "app/é-unicode.txt": "unicode\n",
        "app/nonl.txt": "no newline",
        "app/crlf.txt": "one\r\ntwo\r\n",
        "app/empty": "",
        "app/big.bin": big,
        "app/small.bin": b"\0\1\2",
        "top.txt": "top 2\n",
    })
    (repo / "app" / "script.sh").chmod(0o755)
    (repo / "app" / "gone.txt").unlink()
    (repo / "app" / "link").unlink()
    (repo / "app" / "link").symlink_to("main.c")
    commits.append(commit_all(repo, "second"))
    changed = bytearray(big)
    changed[5000:5010] = b"XXXXXXXXXX"
    write_files(repo, {"app/big.bin": bytes(changed) + b"tail", "app/nonl.txt": "no newline 2",
                       "app/crlf.txt": "one\r\nTWO\r\n", "app/new dir/with space.txt": "spaced 2\n"})
    (repo / "app" / "small.bin").unlink()
    (repo / "app" / "main.c").unlink()
    (repo / "app" / "main.c").symlink_to("long.txt")  # typechange: file -> symlink
    (repo / "app" / "link").unlink()
    write_files(repo, {"app/link": "now a file\n"})  # typechange: symlink -> file
    (repo / "app" / "script.sh").chmod(0o644)
    write_files(repo, {"app/script.sh": "echo changed\n"})  # mode and content
    commits.append(commit_all(repo, "third"))
    return commits


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, list[str]]:
    repo = init_repo(tmp_path / "project", {
        "app/long.txt": LONG, "app/main.c": FUNCS, "app/script.sh": "echo hi\n", "app/gone.txt": "bye\n",
        "app/nonl.txt": "old", "top.txt": "top\n",
    }, commit=False)
    (repo / "app" / "link").symlink_to("long.txt")
    commit_all(repo, "initial")
    return repo, _history(repo)


def git_diff(repo: Path, from_commit: str, to_commit: str, *, full: bool, binary: bool) -> bytes:
    """werf's exact call (pkg/true_git/patch.go, without submodules)."""
    args = ["git", "-C", str(repo), "-c", "diff.renames=false", "-c", "core.quotePath=false"]
    if full:
        args += ["-c", "diff.context=999999999"]
    args += ["diff", "--full-index", "--submodule=log", *(["--binary"] if binary else [])]
    args += [from_commit, to_commit]
    return subprocess.run(args, check=True, capture_output=True).stdout


def _pairs(commits: list[str]) -> list[tuple[str, str]]:
    return [*pairwise(commits), (commits[0], commits[-1]), (commits[-1], commits[0])]


OPTIONS = [(False, False), (False, True), (True, False), (True, True)]


@pytest.mark.parametrize(("full", "binary"), OPTIONS)
def test_raw_diff_matches_git_byte_for_byte(history: tuple[Path, list[str]], full: bool,
                                            binary: bool) -> None:
    repo, commits = history
    patches = GitPatches.open(str(repo))
    for from_commit, to_commit in _pairs(commits):
        ours = patches.raw_diff(from_commit, to_commit, entire_file_context=full, binary=binary)
        theirs = git_diff(repo, from_commit, to_commit, full=full, binary=binary)
        assert ours == theirs, (from_commit, to_commit)


def test_history_covers_deltas_literals_and_typechanges(history: tuple[Path, list[str]]) -> None:
    repo, commits = history
    text = git_diff(repo, commits[1], commits[2], full=False, binary=True)
    assert b"\ndelta " in text and b"\nliteral " in text
    assert b"new file mode 120000" in text and b"deleted file mode 120000" in text
    assert b"old mode 100755\nnew mode 100644\n" in text
    assert b'"a/app/tab\\there.txt"' in git_diff(repo, commits[0], commits[1], full=False, binary=True)


def test_patch_size_and_text_match_werf_over_git_output(history: tuple[Path, list[str]]) -> None:
    repo, commits = history
    patches = GitPatches.open(str(repo))
    scope = patches.mapping_scope(commits[-1], "app", "/app", exclude=("*.bin",))
    for from_commit, to_commit in _pairs(commits):
        full = parse_diff(git_diff(repo, from_commit, to_commit, full=True, binary=True), scope).patch
        short = parse_diff(git_diff(repo, from_commit, to_commit, full=False, binary=False), scope).patch
        assert patches.patch_size(from_commit, to_commit, scope) == len(full)
        assert patches.patch_text(from_commit, to_commit, scope) == short
        assert b"top.txt" not in full and b".bin" not in full
    assert patches.patch_size(commits[1], commits[1], scope) == 0
    assert patches.patch_text(commits[1], commits[1], scope) == b""


def test_patch_is_rewritten_relative_to_the_mapping(history: tuple[Path, list[str]]) -> None:
    repo, commits = history
    patches = GitPatches.open(str(repo))
    parsed = patches.patch(commits[1], commits[2], patches.mapping_scope(commits[2], "app", "/app"),
                           entire_file_context=False, binary=False)
    # werf rewrites the `diff --git` line but passes `Binary files …` through with repository paths
    assert parsed.patch.startswith(b"diff --git a/big.bin b/big.bin\n"
                                   b"Binary files a/app/big.bin and b/app/big.bin differ\n")
    assert set(parsed.paths_to_remove) == {"link", "main.c", "small.bin"}  # typechanges: delete + add
    assert set(parsed.binary_paths) == {"big.bin", "small.bin"}
    assert b"index " not in parsed.patch


def test_single_file_mapping_renames_to_the_target(history: tuple[Path, list[str]]) -> None:
    repo, commits = history
    patches = GitPatches.open(str(repo))
    scope = patches.mapping_scope(commits[1], "app/long.txt", "/etc/config.txt")
    assert scope.path_scope == "app"
    assert dict(scope.file_renames) == {"app/long.txt": "config.txt"}
    text = patches.patch_text(commits[0], commits[1], scope)
    assert text.startswith(b"diff --git a/config.txt b/config.txt\n--- a/config.txt\n+++ b/config.txt\n@@ ")
    same_name = patches.mapping_scope(commits[1], "app/long.txt", "/srv/long.txt")
    assert dict(same_name.file_renames) == {}


def test_full_context_reaches_the_gitcache_mebibyte(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "big", {"data.txt": "".join(f"row {n:07d}\n" for n in range(100_000))})
    first = git(repo, "rev-parse", "HEAD")
    write_files(repo, {"data.txt": (repo / "data.txt").read_text().replace("row 0050000", "row changed")})
    second = commit_all(repo)
    patches = GitPatches.open(str(repo))
    scope = PatchScope("", new_path_matcher())
    size = patches.patch_size(first, second, scope)
    assert size == len(parse_diff(git_diff(repo, first, second, full=True, binary=True), scope).patch)
    assert size >= 1024 * 1024
    assert len(patches.patch_text(first, second, scope)) < 1024


def test_submodule_changes_leave_werf_patches_unchanged(tmp_path: Path) -> None:
    library = init_repo(tmp_path / "library", {"lib.txt": "v1\n"})
    repo = init_repo(tmp_path / "project", {"top.txt": "top\n"})
    before = git(repo, "rev-parse", "HEAD")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "lib")
    write_files(repo, {"top.txt": "top 2\n"})
    after = commit_all(repo, "with submodule")
    raw = git_diff(repo, before, after, full=False, binary=True)
    assert b"Submodule lib " in raw
    patches = GitPatches.open(str(repo))
    ours = patches.raw_diff(before, after, entire_file_context=False, binary=True)
    assert b"Submodule" not in ours
    scope = PatchScope()
    assert parse_diff(ours, scope).patch == parse_diff(raw, scope).patch


def test_unknown_commit_is_a_git_error(history: tuple[Path, list[str]]) -> None:
    repo, commits = history
    with pytest.raises(GitError, match="cannot read commit"):
        GitPatches.open(str(repo)).patch_text("0" * 40, commits[-1], PatchScope())


def test_git_quote_follows_quote_path_false() -> None:
    assert git_quote("é".encode()) == ("é".encode(), False)
    assert git_quote(b'a"b\\c\td\x01\x7f') == (b'a\\"b\\\\c\\td\\001\\177', True)


def test_pygit2_repository_is_accepted_directly(history: tuple[Path, list[str]]) -> None:
    repo, commits = history
    patches = GitPatches(pygit2.Repository(os.fspath(repo)))
    assert patches.raw_diff(commits[0], commits[1], entire_file_context=False, binary=False)
