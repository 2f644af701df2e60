"""Removing paths inside a root filesystem without ever leaving it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shipyard.backends.rootfs import clear_directories, remove_paths, resolve_inside


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "app" / "a" / "b").mkdir(parents=True)
    (root / "app" / "a" / "b" / "f").write_text("f")
    (root / "app" / "a" / "other").write_text("o")
    (root / "real").mkdir()
    (root / "real" / "x").write_text("x")
    os.symlink("/real", root / "app" / "abs")  # absolute: inside the image, /real
    os.symlink("../real", root / "app" / "rel")
    os.symlink("/../../../..", root / "app" / "up")
    os.symlink("loop", root / "app" / "loop")
    return root


def test_symlinks_resolve_inside_the_root(root: Path) -> None:
    assert resolve_inside(root, "/app/abs/x") == ["real", "x"]
    assert resolve_inside(root, "/app/rel/x") == ["real", "x"]
    assert resolve_inside(root, "/app/up/etc/passwd") == ["etc", "passwd"]
    assert resolve_inside(root, "/../../app/./a") == ["app", "a"]
    assert resolve_inside(root, "/app/abs", follow_last=False) == ["app", "abs"]
    with pytest.raises(OSError, match="too many levels"):
        resolve_inside(root, "/app/loop/x")


def test_removal_follows_links_inside_the_root_and_removes_a_last_link_as_a_link(root: Path) -> None:
    remove_paths(root, "/app", ["abs/x", "rel"])
    assert not (root / "real" / "x").exists()
    assert not os.path.lexists(root / "app" / "rel")
    assert (root / "real").is_dir()  # /real is outside `to`: never pruned


def test_emptied_directories_go_up_to_but_not_including_to(root: Path) -> None:
    remove_paths(root, "/app/a", ["b/f"])
    assert not (root / "app" / "a" / "b").exists()
    assert (root / "app" / "a").is_dir()
    remove_paths(root, "/app", ["a/other"])
    assert not (root / "app" / "a").exists()
    assert (root / "app").is_dir()


def test_missing_paths_and_the_root_itself_are_fine(root: Path) -> None:
    remove_paths(root, "/app", ["nothing/here", "a/other/below-a-file", ".."])
    assert (root / "app" / "a" / "other").is_file()
    assert (root / "real" / "x").is_file()


def test_a_directory_is_removed_with_its_tree_without_following_links_in_it(
        root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("k")
    os.symlink(outside, root / "app" / "a" / "b" / "escape")
    remove_paths(root, "/app", ["a"])
    assert not (root / "app" / "a").exists()
    assert (outside / "keep").read_text() == "k"


def test_clear_directories_keeps_the_directory(root: Path) -> None:
    clear_directories(root, ["/app/a", "/missing", "/app/a/other"])
    assert (root / "app" / "a").is_dir()
    assert list((root / "app" / "a").iterdir()) == []
