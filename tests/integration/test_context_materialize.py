"""Snapshot.export and materialize_context on real repositories: the build context holds exactly the
committed files of the context minus .dockerignore, plus contextAddFiles, with modes and symlinks kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from shipyard import context
from shipyard.errors import ConfigError
from shipyard.gitrepo import GitRepo, Mode, Snapshot
from shipyard.pathmatch import new_path_matcher
from support.gitrepo import commit_all, git, init_repo, write_files

FILES = {
    "Dockerfile": "FROM base\nCOPY . /app\n",
    ".dockerignore": "secret.txt\nlogs/\n**/*.tmp\n",
    "app/main.sh": "#!/bin/sh\necho main\n",
    "app/data.txt": "data\n",
    "app/cache.tmp": "tmp\n",
    "secret.txt": "do not ship\n",
    "logs/a.log": "log\n",
    "ctx/Dockerfile": "FROM base\nCOPY . /ctx\n",
    "ctx/.dockerignore": "ignored/\n",
    "ctx/kept.txt": "kept\n",
    "ctx/ignored/x.txt": "x\n",
    "ctx/deep/er/file.txt": "deep\n",
    "outside.txt": "not in ctx\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = init_repo(tmp_path / "project", FILES, commit=False)
    os.chmod(path / "app/main.sh", 0o755)
    os.symlink("main.sh", path / "app/run")
    os.symlink("../outside.txt", path / "ctx/link-out")
    commit_all(path, "initial")
    return path


def snapshot_of(repo: Path, mode: Mode = "strict") -> Snapshot:
    return GitRepo.discover(repo).snapshot(mode)


def tree_listing(root: Path) -> dict[str, str]:
    """Every file and symlink below root: path → "link:<target>", "exec:<content>" or its content."""
    listing = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            listing[relative] = "link:" + os.readlink(path)
        elif path.is_file():
            executable = os.stat(path).st_mode & stat.S_IXUSR
            listing[relative] = ("exec:" if executable else "") + path.read_text()
    return listing


def materialize(repo: Path, destination: Path, *, mode: Mode = "strict", context_dir: str = "",
                add_files: tuple[str, ...] = (), dockerfile: bytes = b"FROM base\n") -> tuple[Path, Path]:
    snapshot = snapshot_of(repo, mode)
    ignore, _ = context.dockerignore_matcher(snapshot, context_dir, "Dockerfile")
    return context.materialize_context(
        snapshot, context_dir=context_dir, dockerignore=ignore, context_add_files=add_files,
        work_tree_root=None, dockerfile_content=dockerfile, destination=destination)


def test_export_writes_the_matched_committed_files_with_modes_and_links(repo: Path, tmp_path: Path) -> None:
    matcher = new_path_matcher(exclude_globs=["ctx", "logs"])
    count = snapshot_of(repo).export("", matcher, tmp_path / "out")
    listing = tree_listing(tmp_path / "out")
    assert listing == {
        ".dockerignore": FILES[".dockerignore"], "Dockerfile": FILES["Dockerfile"],
        "app/cache.tmp": "tmp\n", "app/data.txt": "data\n", "app/main.sh": "exec:" + FILES["app/main.sh"],
        "app/run": "link:main.sh", "outside.txt": "not in ctx\n", "secret.txt": "do not ship\n",
    }
    assert count == len(listing)
    assert stat.S_IMODE(os.stat(tmp_path / "out/app/data.txt").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tmp_path / "out/app").st_mode) == 0o755


def test_export_under_a_scope_is_relative_to_it(repo: Path, tmp_path: Path) -> None:
    count = snapshot_of(repo).export("ctx", new_path_matcher(), tmp_path / "out")
    expected_paths = git(repo, "ls-tree", "-r", "--name-only", "HEAD", "ctx/").splitlines()
    expected = sorted(path.removeprefix("ctx/") for path in expected_paths)
    assert sorted(tree_listing(tmp_path / "out")) == expected
    assert count == len(expected_paths)


def test_the_context_is_the_commit_minus_dockerignore(repo: Path, tmp_path: Path) -> None:
    write_files(repo, {"app/data.txt": "changed, not committed\n", "untracked.txt": "new\n"})
    context_dir, dockerfile = materialize(repo, tmp_path / "build", dockerfile=b"FROM base\nRUN true\n")
    assert context_dir == tmp_path / "build/context"
    assert dockerfile == tmp_path / "build/Dockerfile" and context_dir not in dockerfile.parents
    assert dockerfile.read_bytes() == b"FROM base\nRUN true\n"
    listing = tree_listing(context_dir)
    assert sorted(listing) == [".dockerignore", "Dockerfile", "app/data.txt", "app/main.sh", "app/run",
                               "ctx/.dockerignore", "ctx/Dockerfile", "ctx/deep/er/file.txt",
                               "ctx/ignored/x.txt", "ctx/kept.txt", "ctx/link-out", "outside.txt"]
    assert listing["app/data.txt"] == "data\n"  # the committed bytes, not the work tree's


def test_loose_mode_takes_the_work_tree(repo: Path, tmp_path: Path) -> None:
    write_files(repo, {"app/data.txt": "changed\n", "untracked.txt": "new\n"})
    listing = tree_listing(materialize(repo, tmp_path / "build", mode="loose")[0])
    assert listing["app/data.txt"] == "changed\n" and listing["untracked.txt"] == "new\n"


def test_a_context_directory_with_its_own_dockerignore(repo: Path, tmp_path: Path) -> None:
    context_dir, _ = materialize(repo, tmp_path / "build", context_dir="ctx")
    assert sorted(tree_listing(context_dir)) == [
        ".dockerignore", "Dockerfile", "deep/er/file.txt", "kept.txt", "link-out"]


def test_context_add_files_come_from_the_work_tree(repo: Path, tmp_path: Path) -> None:
    write_files(repo, {"generated/config.json": "{}\n", "app/data.txt": "work tree\n", "secret.txt": "s2\n"})
    os.chmod(repo / "generated/config.json", 0o600)
    context_dir, _ = materialize(repo, tmp_path / "build",
                                 add_files=("generated", "app/data.txt", "secret.txt"))
    listing = tree_listing(context_dir)
    assert listing["generated/config.json"] == "{}\n"
    assert stat.S_IMODE(os.stat(context_dir / "generated/config.json").st_mode) == 0o644
    assert listing["app/data.txt"] == "work tree\n"  # replaces the committed file
    assert listing["secret.txt"] == "s2\n"  # listed on purpose: .dockerignore does not apply


def test_a_context_add_file_may_not_go_through_a_committed_symlink(repo: Path, tmp_path: Path) -> None:
    os.symlink("/tmp", repo / "escape")
    commit_all(repo, "a symlink to a directory outside")
    os.unlink(repo / "escape")
    write_files(repo, {"escape/file.txt": "x\n"})
    with pytest.raises(ConfigError, match="symlink"):
        materialize(repo, tmp_path / "build", add_files=("escape/file.txt",))
    assert not Path("/tmp/file.txt").exists() or Path("/tmp/file.txt").read_text() != "x\n"


def test_the_destination_must_be_empty(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "build/leftover").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        materialize(repo, tmp_path / "build")


def test_submodule_files_are_exported_at_the_recorded_commit(tmp_path: Path) -> None:
    library = init_repo(tmp_path / "library", {"lib.txt": "v1\n", "sub/inner.txt": "inner\n"})
    main = init_repo(tmp_path / "main", {"app.txt": "app\n"})
    git(main, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "vendor/library")
    commit_all(main, "add submodule")
    write_files(main / "vendor/library", {"lib.txt": "v2, not recorded\n"})
    count = snapshot_of(main).export("", new_path_matcher(exclude_globs=[".gitmodules"]), tmp_path / "out")
    assert tree_listing(tmp_path / "out") == {
        "app.txt": "app\n", "vendor/library/lib.txt": "v1\n", "vendor/library/sub/inner.txt": "inner\n"}
    assert count == 3
