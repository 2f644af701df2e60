"""Stapel import selection, staging copy and werf's Buildah import checksum (werf-internals §1.4.4)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from shipyard.config.model import Import
from shipyard.stapel_imports import (
    EMPTY_IMPORT_CHECKSUM,
    ImportSourceError,
    collect_import,
    import_checksum,
)


def md5(data: bytes | str) -> str:
    return hashlib.md5(data.encode() if isinstance(data, str) else data).hexdigest()


def werf_checksum(*entries: tuple[str, str]) -> str:
    """werf's test helper: entries (content or symlink target, keyed path) in sorted order."""
    return md5("".join(f"{md5(content)}  {path}\n" for content, path in entries))


def write(path: Path, content: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(mode)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A source image root: /app with files, an exec file, symlinks out of the image and an empty dir."""
    image = tmp_path / "rootfs"
    write(image / "app/a.txt", "alpha")
    write(image / "app/sub/tool", "#!/bin/sh\n", 0o755)
    write(image / "app/sub/notes.log", "log")
    (image / "app/empty").mkdir()
    os.symlink("/etc/passwd", image / "app/link")
    os.symlink("/etc", image / "app/dirlink")
    return image


def imp(add: str, to: str = "/dst", include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> Import:
    return Import(image="source", add=add, to=to, include_paths=include, exclude_paths=exclude)


APP_ENTRIES = (("alpha", "/app/a.txt"), ("/etc", "/app/dirlink"), ("/etc/passwd", "/app/link"),
               ("log", "/app/sub/notes.log"), ("#!/bin/sh\n", "/app/sub/tool"))


def test_a_directory_is_staged_relative_to_add(root: Path, tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    collected = collect_import(root, imp("/app"), staging)
    assert collected.files == 5
    assert not collected.add_is_file
    assert collected.checksum == werf_checksum(*APP_ENTRIES)
    assert (staging / "a.txt").read_text() == "alpha"
    assert stat.S_IMODE((staging / "sub/tool").stat().st_mode) == 0o755
    assert stat.S_IMODE((staging / "a.txt").stat().st_mode) == 0o644
    assert (staging / "empty").is_dir()  # a fully selected directory keeps its empty subdirectories
    assert os.readlink(staging / "link") == "/etc/passwd"
    assert os.readlink(staging / "dirlink") == "/etc"  # a symlink to a directory stays a symlink
    assert import_checksum(root, imp("/app")) == collected.checksum


def test_the_checksum_is_pinned_to_werfs_format(tmp_path: Path) -> None:
    write(tmp_path / "app/keep.txt", "keep")
    write(tmp_path / "app/skip.log", "skip")
    # printf '%s  /app/keep.txt\n' "$(printf keep | md5sum | cut -d' ' -f1)" | md5sum
    assert import_checksum(tmp_path, imp("/app", include=("*.txt",))) == "277c2db65caa43288dcfd3f5b18c6cf6"
    assert import_checksum(tmp_path, imp("/app", exclude=("*.log",))) == "277c2db65caa43288dcfd3f5b18c6cf6"


def test_lines_are_sorted_by_path_bytes_not_walk_order(tmp_path: Path) -> None:
    write(tmp_path / "app/a/b", "1")
    write(tmp_path / "app/a-c", "2")  # "-" sorts before "/": /app/a-c comes first
    expected = werf_checksum(("2", "/app/a-c"), ("1", "/app/a/b"))
    assert import_checksum(tmp_path, imp("/app")) == expected


def test_a_single_file_is_staged_under_the_basename_of_to(root: Path, tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    collected = collect_import(root, imp("/app/sub/tool", to="/usr/local/bin/renamed"), staging)
    assert collected.add_is_file
    assert collected.files == 1
    assert sorted(os.listdir(staging)) == ["renamed"]
    assert (staging / "renamed").read_text() == "#!/bin/sh\n"
    assert stat.S_IMODE((staging / "renamed").stat().st_mode) == 0o755
    assert collected.checksum == werf_checksum(("#!/bin/sh\n", "/app/sub/tool"))


def test_include_and_exclude_globs_are_relative_to_add(root: Path, tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    collected = collect_import(root, imp("/app", include=("sub",), exclude=("**/*.log",)), staging)
    assert collected.files == 1
    assert collected.checksum == werf_checksum(("#!/bin/sh\n", "/app/sub/tool"))
    assert sorted(str(path.relative_to(staging)) for path in staging.rglob("*")) == ["sub", "sub/tool"]
    excluded = import_checksum(root, imp("/app", exclude=("sub", "*link")))
    assert excluded == werf_checksum(("alpha", "/app/a.txt"))


def test_add_root_with_include_paths(root: Path) -> None:
    checksum = import_checksum(root, imp("/", include=("app/sub/tool",)))
    assert checksum == werf_checksum(("#!/bin/sh\n", "/app/sub/tool"))


def test_an_empty_selection_has_the_empty_checksum(root: Path, tmp_path: Path) -> None:
    collected = collect_import(root, imp("/app", include=("nothing-*",)), tmp_path / "staging")
    assert collected.files == 0
    assert collected.checksum == EMPTY_IMPORT_CHECKSUM == md5(b"")
    assert import_checksum(root, imp("/app/empty")) == EMPTY_IMPORT_CHECKSUM


def test_the_checksum_follows_selected_files_only(root: Path) -> None:
    item = imp("/app", exclude=("*.log", "**/*.log"))
    before = import_checksum(root, item)
    (root / "app/sub/notes.log").write_text("changed, but not selected")
    write(root / "elsewhere.txt", "outside add")
    assert import_checksum(root, item) == before
    (root / "app/a.txt").write_text("changed")
    assert import_checksum(root, item) != before
    changed_mode_only = import_checksum(root, item)
    (root / "app/a.txt").chmod(0o600)
    assert import_checksum(root, item) == changed_mode_only  # werf hashes content and paths, not modes


def test_symlinks_are_never_followed_out_of_the_image(tmp_path: Path) -> None:
    image = tmp_path / "rootfs"
    (image / "usr/bin").mkdir(parents=True)
    write(image / "usr/bin/tool", "tool")
    os.symlink("/usr/bin", image / "bin")  # usrmerge: resolved inside the image, keyed by the configured add
    os.symlink("../../../etc", image / "escape")  # would reach the host's /etc if followed from the host
    assert import_checksum(image, imp("/bin/tool")) == werf_checksum(("tool", "/bin/tool"))
    with pytest.raises(ImportSourceError):
        import_checksum(image, imp("/escape/passwd"))  # clamped to the image root: no /etc/passwd there


def test_an_add_that_is_a_symlink_is_one_symlink_entry(tmp_path: Path) -> None:
    image = tmp_path / "rootfs"
    write(image / "usr/bin/tool", "tool")
    os.symlink("/usr/bin", image / "bin")
    staging = tmp_path / "staging"
    collected = collect_import(image, imp("/bin", to="/opt/bin"), staging)
    assert collected.add_is_file
    assert collected.checksum == werf_checksum(("/usr/bin", "/bin"))
    assert os.readlink(staging / "bin") == "/usr/bin"


def test_read_only_directories_are_staged_with_their_modes(tmp_path: Path) -> None:
    image = tmp_path / "rootfs"
    write(image / "app/ro/file", "x", 0o444)
    (image / "app/ro").chmod(0o555)
    staging = tmp_path / "staging"
    try:
        collected = collect_import(image, imp("/app"), staging)
        assert collected.files == 1
        assert stat.S_IMODE((staging / "ro").stat().st_mode) == 0o555
        assert (staging / "ro/file").read_text() == "x"
    finally:
        (image / "app/ro").chmod(0o755)
        if (staging / "ro").exists():
            (staging / "ro").chmod(0o755)


def test_a_missing_add_is_a_user_error(root: Path, tmp_path: Path) -> None:
    with pytest.raises(ImportSourceError, match="no such path"):
        collect_import(root, imp("/nope"), tmp_path / "staging")
