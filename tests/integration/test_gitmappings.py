"""MappingGit against real repositories made with the git CLI (remote ones served over file://).

Exports and applied changes are checked against `git archive` of the same commit (an independent path):
a directory that received `export` at the old commit, then the `apply_changes` deletions and files, must
equal the archive of the latest commit.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path
from typing import Any

import pygit2
import pytest

from shipyard.config.model import GitBasicAuth, GitMapping, GitStageDependencies
from shipyard.errors import GitError
from shipyard.gitmappings import DEV_COMMIT_MESSAGE, MappingGit, work_tree_commit
from shipyard.gitmappings_remote import clone_path
from shipyard.gitpatch import GitPatches
from shipyard.gitrepo import GitRepo
from shipyard.stages.stapel_git import GitFacts
from support.gitrepo import commit_all, git, init_repo, ls_tree_checksum, write_files

Tree = dict[str, tuple[str, bytes | str, bool]]  # path → (kind, content or link target, executable)


def snapshot(root: Path) -> Tree:
    """Every file and symlink below `root` with its content and exec bit (directories implied)."""
    found: Tree = {}
    for directory, dirs, files in os.walk(root):
        for name in [*files, *(d for d in dirs if os.path.islink(os.path.join(directory, d)))]:
            path = Path(directory, name)
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[relative] = ("link", os.readlink(path), False)
            else:
                found[relative] = ("file", path.read_bytes(), bool(path.stat().st_mode & 0o100))
    return found


def archive(repo: Path, treeish: str, target: Path) -> Tree:
    """`git archive <treeish>` extracted into `target` (the oracle)."""
    data = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", treeish],
                          check=True, capture_output=True).stdout
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(target, filter="tar")
    return snapshot(target)


def apply(container: Path, destination: Path, removed: list[str]) -> None:
    """What the conveyor does with apply_changes: delete first, then copy `destination` over `to`."""
    for relative in removed:
        target = container / relative
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
    shutil.copytree(destination, container, symlinks=True, dirs_exist_ok=True)


def facts(repo: Path, tmp_path: Path, **options: bool) -> MappingGit:
    project = GitRepo.discover(repo)
    return MappingGit(project, project.head_commit, tmp_path / "cache", **options)


def remote(tmp_path: Path, name: str = "remote") -> tuple[Path, str]:
    repo = init_repo(tmp_path / name, {"README": "remote\n", "lib/a.txt": "a1\n"})
    return repo, f"file://{repo}"


# --- latest commit, remote repositories ---------------------------------------------------------------------


def test_mapping_git_satisfies_the_git_facts_protocol(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "p", {"a.txt": "a\n"})
    git_facts: GitFacts = facts(repo, tmp_path)
    assert git_facts.latest_commit(GitMapping()) == git(repo, "rev-parse", "HEAD")


def test_local_mapping_reads_the_given_tree_commit(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "p", {"a.txt": "a\n"})
    first = git(repo, "rev-parse", "HEAD")
    write_files(repo, {"a.txt": "a2\n"})
    commit_all(repo)
    project = GitRepo.discover(repo)
    mapping_git = MappingGit(project, first, tmp_path / "cache")
    assert mapping_git.latest_commit(GitMapping()) == first
    assert mapping_git.commit_time(GitMapping()) == int(git(repo, "log", "-1", "--format=%ct", first))
    with pytest.raises(GitError, match="there is none"):
        MappingGit(None, "", tmp_path / "cache").latest_commit(GitMapping())


def test_remote_latest_by_default_branch_branch_tag_and_commit(tmp_path: Path) -> None:
    repo, url = remote(tmp_path)
    first = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "v1")
    git(repo, "tag", "-a", "v1-annotated", "-m", "annotated")
    git(repo, "checkout", "-q", "-b", "feature")
    write_files(repo, {"lib/a.txt": "feature\n"})
    feature = commit_all(repo, "feature")
    git(repo, "checkout", "-q", "main")
    write_files(repo, {"lib/a.txt": "a2\n"})
    main = commit_all(repo, "main 2")
    mapping_git = MappingGit(None, "", tmp_path / "cache")
    assert mapping_git.latest_commit(GitMapping(url=url)) == main
    assert mapping_git.latest_commit(GitMapping(url=url, branch="feature")) == feature
    assert mapping_git.latest_commit(GitMapping(url=url, tag="v1")) == first
    assert mapping_git.latest_commit(GitMapping(url=url, tag="v1-annotated")) == first
    assert mapping_git.latest_commit(GitMapping(url=url, commit=first[:12], branch="feature")) == first
    clone = clone_path(tmp_path / "cache", url)
    assert clone.name == hashlib.sha256(url.encode()).hexdigest()[:16]
    assert pygit2.Repository(str(clone)).is_bare


def test_default_branch_is_the_remote_head_not_main(tmp_path: Path) -> None:
    repo, url = remote(tmp_path)
    git(repo, "checkout", "-q", "-b", "trunk")
    trunk = commit_all(repo, "on trunk")
    assert MappingGit(None, "", tmp_path / "cache").latest_commit(GitMapping(url=url)) == trunk


def test_a_later_process_fetches_new_commits_one_process_fetches_once(tmp_path: Path) -> None:
    repo, url = remote(tmp_path)
    first = git(repo, "rev-parse", "HEAD")
    mapping = GitMapping(url=url, branch="main")
    early = MappingGit(None, "", tmp_path / "cache")
    assert early.latest_commit(mapping) == first
    write_files(repo, {"new.txt": "new\n"})
    second = commit_all(repo)
    git(repo, "tag", "v2")
    assert early.latest_commit(mapping) == first  # this process fetched already
    later = MappingGit(None, "", tmp_path / "cache")  # a new build: the existing clone is fetched
    assert later.latest_commit(mapping) == second
    assert later.latest_commit(GitMapping(url=url, tag="v2")) == second
    assert later.has_commit(mapping, second)


def test_a_pinned_commit_already_cloned_needs_no_fetch(tmp_path: Path) -> None:
    repo, url = remote(tmp_path)
    first = git(repo, "rev-parse", "HEAD")
    pinned = GitMapping(url=url, commit=first, add="/lib", to="/lib")
    assert MappingGit(None, "", tmp_path / "cache").latest_commit(pinned) == first  # clones
    shutil.rmtree(repo)  # the remote is unreachable from now on
    offline = MappingGit(None, "", tmp_path / "cache")
    assert offline.latest_commit(pinned) == first  # a cache hit needs no network
    assert offline.export(pinned, tmp_path / "out") > 0
    with pytest.raises(GitError, match="cannot fetch"):
        offline.latest_commit(GitMapping(url=url, branch="main"))  # a branch is always fetched


def test_parallel_threads_share_one_clone(tmp_path: Path) -> None:
    _, url = remote(tmp_path)
    mapping_git = MappingGit(None, "", tmp_path / "cache")
    results: list[str] = []

    def read() -> None:
        results.append(mapping_git.latest_commit(GitMapping(url=url, add="/lib", to="/x")))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert sorted(path.name for path in (tmp_path / "cache").iterdir()) == sorted(
        [clone_path(tmp_path / "cache", url).name, clone_path(tmp_path / "cache", url).name + ".lock"])


@pytest.mark.parametrize(("fields", "message"), [
    ({"branch": "nope"}, "branch 'nope' is not in"),
    ({"tag": "nope"}, "tag 'nope' is not in"),
    ({"commit": "1" * 40}, f"commit {'1' * 40} is not in"),
])
def test_unknown_branch_tag_or_commit_is_a_git_error(tmp_path: Path, fields: dict[str, Any],
                                                     message: str) -> None:
    _, url = remote(tmp_path)
    mapping = GitMapping(add="/lib", to="/srv", url=url, line=7, **fields)
    with pytest.raises(GitError, match=message) as caught:
        MappingGit(None, "", tmp_path / "cache").latest_commit(mapping)
    assert url in caught.value.message and "werf.yaml:7" in caught.value.message
    assert caught.value.hint
    if "branch" in fields:
        assert "main" in caught.value.hint  # the branches the repository does have


def test_unreachable_url_is_a_git_error_with_a_hint(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/missing"
    with pytest.raises(GitError, match="cannot clone git repository") as caught:
        MappingGit(None, "", tmp_path / "cache").latest_commit(GitMapping(url=url))
    assert url in caught.value.message and "reachable" in (caught.value.hint or "")
    assert not clone_path(tmp_path / "cache", url).exists()


def test_basic_auth_password_variable_must_be_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, url = remote(tmp_path)
    monkeypatch.delenv("SHIPYARD_TEST_GIT_PASSWORD", raising=False)
    auth = GitBasicAuth("user", password_env="SHIPYARD_TEST_GIT_PASSWORD")
    with pytest.raises(GitError, match=r"\$SHIPYARD_TEST_GIT_PASSWORD is not set"):
        MappingGit(None, "", tmp_path / "cache").latest_commit(GitMapping(url=url, basic_auth=auth))
    monkeypatch.setenv("SHIPYARD_TEST_GIT_PASSWORD", "secret")  # file:// never asks for credentials
    assert MappingGit(None, "", tmp_path / "c2").latest_commit(GitMapping(url=url, basic_auth=auth))


# --- commits and ancestry -----------------------------------------------------------------------------------


@pytest.fixture
def branches(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = init_repo(tmp_path / "p", {"a.txt": "1\n"})
    commits = {"root": git(repo, "rev-parse", "HEAD")}
    git(repo, "checkout", "-q", "-b", "other")
    write_files(repo, {"a.txt": "other\n"})
    commits["other"] = commit_all(repo, "other")
    git(repo, "checkout", "-q", "main")
    write_files(repo, {"a.txt": "2\n"})
    commits["middle"] = commit_all(repo, "middle")
    write_files(repo, {"a.txt": "3\n"})
    commits["head"] = commit_all(repo, "head")
    return repo, commits


def test_has_commit_wants_an_existing_commit_object(branches: tuple[Path, dict[str, str]],
                                                    tmp_path: Path) -> None:
    repo, commits = branches
    mapping_git, mapping = facts(repo, tmp_path), GitMapping()
    assert mapping_git.has_commit(mapping, commits["root"])
    assert mapping_git.has_commit(mapping, commits["other"])
    assert not mapping_git.has_commit(mapping, "f" * 40)
    assert not mapping_git.has_commit(mapping, git(repo, "rev-parse", "HEAD^{tree}"))  # exists, not a commit
    assert not mapping_git.has_commit(mapping, "not-hex")


def test_is_ancestor_follows_history(branches: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    repo, commits = branches
    mapping_git, mapping = facts(repo, tmp_path), GitMapping()
    assert mapping_git.is_ancestor(mapping, commits["root"])
    assert mapping_git.is_ancestor(mapping, commits["middle"])
    assert mapping_git.is_ancestor(mapping, commits["head"])
    assert not mapping_git.is_ancestor(mapping, commits["other"])  # exists, on an unrelated branch
    assert not mapping_git.is_ancestor(mapping, "f" * 40)
    relaxed = facts(repo, tmp_path, disable_ancestry_check=True)
    assert relaxed.is_ancestor(mapping, commits["other"])
    assert not relaxed.is_ancestor(mapping, "f" * 40)
    older = MappingGit(GitRepo.discover(repo), commits["middle"], tmp_path / "cache")
    assert not older.is_ancestor(mapping, commits["head"])  # a descendant of latest is no ancestor


def test_missing_commit_in_a_shallow_clone_explains_the_fix(branches: tuple[Path, dict[str, str]],
                                                           tmp_path: Path) -> None:
    repo, commits = branches
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)], check=True)
    mapping_git = facts(shallow, tmp_path)
    assert mapping_git.is_ancestor(GitMapping(), commits["head"])
    with pytest.raises(GitError, match="shallow") as caught:
        mapping_git.is_ancestor(GitMapping(), commits["root"])
    assert "git fetch --unshallow" in (caught.value.hint or "")
    assert "fetch-depth: 0" in (caught.value.hint or "")


# --- stageDependencies checksums ----------------------------------------------------------------------------


def test_stage_dependency_checksum_follows_matching_files_only(tmp_path: Path) -> None:
    files = {"app/src/main.go": "package main\n", "app/src/util.go": "package util\n",
             "app/src/vendor/x.go": "vendored\n", "app/README.md": "readme\n", "other/main.go": "x\n"}
    repo = init_repo(tmp_path / "p", files)
    mapping = GitMapping(add="/app", to="/srv", exclude_paths=("src/vendor",),
                         stage_dependencies=GitStageDependencies(install=("**/*.go",)))
    checksum = facts(repo, tmp_path).stage_dependency_checksum(mapping, "**/*.go")
    assert checksum == ls_tree_checksum(repo, ["app/src/main.go", "app/src/util.go"])
    assert facts(repo, tmp_path).stage_dependency_checksum(mapping, "*.txt") == ""

    def after(change: dict[str, str]) -> str:
        write_files(repo, change)
        commit_all(repo)
        return facts(repo, tmp_path).stage_dependency_checksum(mapping, "**/*.go")

    assert after({"app/README.md": "changed\n"}) == checksum
    assert after({"other/main.go": "changed\n"}) == checksum
    assert after({"app/src/vendor/x.go": "changed\n"}) == checksum  # excluded by the mapping
    assert after({"app/src/util.go": "changed\n"}) != checksum


def test_stage_dependency_checksum_of_a_remote_mapping(tmp_path: Path) -> None:
    repo, url = remote(tmp_path)
    mapping = GitMapping(add="/lib", to="/srv", url=url)
    checksum = MappingGit(None, "", tmp_path / "cache").stage_dependency_checksum(mapping, "*.txt")
    assert checksum == ls_tree_checksum(repo, ["lib/a.txt"])


# --- export -------------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "p", {
        "app/main.py": "print()\n", "app/run.sh": "#!/bin/sh\n", "app/docs/guide.md": "guide\n",
        "app/docs/tmp/x.log": "log\n", "app/conf/app.yaml": "a: 1\n", "root.txt": "root\n",
    }, commit=False)
    (repo / "app" / "run.sh").chmod(0o755)
    (repo / "app" / "current").symlink_to("conf/app.yaml")
    (repo / "app" / "dangling").symlink_to("/does/not/exist")
    commit_all(repo, "initial")
    return repo


def test_export_of_a_directory_equals_git_archive(project: Path, tmp_path: Path) -> None:
    mapping_git, mapping = facts(project, tmp_path), GitMapping(add="/app", to="/srv/app")
    destination = tmp_path / "out"
    assert mapping_git.add_kind(mapping) == "directory"
    assert mapping_git.export(mapping, destination) == 7
    expected = archive(project, "HEAD:app", tmp_path / "oracle")
    assert snapshot(destination) == expected
    assert expected["run.sh"][2] and not expected["main.py"][2]
    assert expected["current"] == ("link", "conf/app.yaml", False)


def test_export_of_the_whole_repository(project: Path, tmp_path: Path) -> None:
    destination = tmp_path / "out"
    assert facts(project, tmp_path).export(GitMapping(), destination) == 8
    assert snapshot(destination) == archive(project, "HEAD", tmp_path / "oracle")


def test_export_applies_include_and_exclude_relative_to_add(project: Path, tmp_path: Path) -> None:
    mapping = GitMapping(add="/app", to="/srv", include_paths=("docs", "*.py", "conf/**"),
                         exclude_paths=("docs/tmp",))
    destination = tmp_path / "out"
    facts(project, tmp_path).export(mapping, destination)
    assert sorted(snapshot(destination)) == ["conf/app.yaml", "docs/guide.md", "main.py"]


def test_export_of_a_single_file_takes_the_name_of_to(project: Path, tmp_path: Path) -> None:
    mapping_git = facts(project, tmp_path)
    renamed = GitMapping(add="/app/run.sh", to="/usr/local/bin/entrypoint")
    assert mapping_git.add_kind(renamed) == "file"
    assert mapping_git.export(renamed, tmp_path / "a") == 1
    assert snapshot(tmp_path / "a") == {"entrypoint": ("file", b"#!/bin/sh\n", True)}
    link = GitMapping(add="/app/current", to="/etc/app.yaml")
    assert mapping_git.export(link, tmp_path / "b") == 1
    assert snapshot(tmp_path / "b") == {"app.yaml": ("link", "conf/app.yaml", False)}
    top = GitMapping(add="/root.txt", to="/root.txt")
    mapping_git.export(top, tmp_path / "c")
    assert snapshot(tmp_path / "c") == {"root.txt": ("file", b"root\n", False)}


def test_add_that_names_nothing_is_a_git_error(project: Path, tmp_path: Path) -> None:
    mapping = GitMapping(add="/missing", to="/srv")
    with pytest.raises(GitError, match=r"git mapping add /missing → /srv matches nothing at commit") as error:
        facts(project, tmp_path).export(mapping, tmp_path / "out")
    assert error.value.hint


def test_export_of_a_remote_mapping_at_its_tag(tmp_path: Path) -> None:
    repo, url = remote(tmp_path)
    git(repo, "tag", "v1")
    write_files(repo, {"lib/a.txt": "a2\n", "lib/b.txt": "b\n"})
    commit_all(repo)
    mapping_git = MappingGit(None, "", tmp_path / "cache")
    destination = tmp_path / "out"
    assert mapping_git.export(GitMapping(add="/lib", to="/srv", url=url, tag="v1"), destination) == 1
    assert snapshot(destination) == {"a.txt": ("file", b"a1\n", False)}


# --- applying changes ---------------------------------------------------------------------------------------


def _changed_history(repo: Path) -> None:
    """Every kind of change below app/ in one commit."""
    app = repo / "app"
    write_files(repo, {"app/main.py": "print('changed')\n", "app/new/added.txt": "added\n",
                       "root.txt": "root changed\n"})
    (app / "docs" / "guide.md").rename(app / "docs" / "renamed.md")  # rename = delete + add
    (app / "run.sh").chmod(0o644)  # mode only
    (app / "current").unlink()
    (app / "current").symlink_to("main.py")  # symlink target changes
    (app / "dangling").unlink()
    write_files(repo, {"app/dangling": "a file now\n"})  # symlink → file
    (app / "conf" / "app.yaml").unlink()
    (app / "conf" / "app.yaml").symlink_to("../main.py")  # file → symlink
    shutil.rmtree(app / "docs" / "tmp")
    write_files(repo, {"app/docs/tmp": "directory became a file\n"})  # directory → file
    (app / "main.sh").symlink_to("run.sh")


def test_apply_changes_turns_the_old_export_into_the_new_one(project: Path, tmp_path: Path) -> None:
    old = git(project, "rev-parse", "HEAD")
    _changed_history(project)
    commit_all(project, "changes")
    (project / "app" / "main.py").unlink()
    write_files(project, {"app/main.py/inner.py": "file became a directory\n"})
    commit_all(project, "file to directory")
    mapping_git, mapping = facts(project, tmp_path), GitMapping(add="/app", to="/srv")
    container = tmp_path / "container"
    MappingGit(GitRepo.discover(project), old, tmp_path / "cache").export(mapping, container)
    destination = tmp_path / "changes"
    removed = mapping_git.apply_changes(mapping, old, destination)
    assert removed == ["conf/app.yaml", "current", "dangling", "docs/guide.md", "docs/tmp", "main.py"]
    written = snapshot(destination)
    assert sorted(written) == ["conf/app.yaml", "current", "dangling", "docs/renamed.md", "docs/tmp",
                               "main.py/inner.py", "main.sh", "new/added.txt", "run.sh"]
    apply(container, destination, removed)
    assert snapshot(container) == archive(project, "HEAD:app", tmp_path / "oracle")


def test_apply_changes_respects_include_and_exclude(project: Path, tmp_path: Path) -> None:
    old = git(project, "rev-parse", "HEAD")
    write_files(project, {"app/docs/guide.md": "guide 2\n", "app/docs/tmp/x.log": "log 2\n",
                         "app/main.py": "print(2)\n", "app/docs/new.md": "new\n"})
    (project / "app" / "conf" / "app.yaml").unlink()
    commit_all(project)
    mapping = GitMapping(add="/app", to="/srv", include_paths=("docs", "conf"), exclude_paths=("docs/tmp",))
    destination = tmp_path / "changes"
    removed = facts(project, tmp_path).apply_changes(mapping, old, destination)
    assert removed == ["conf/app.yaml"]
    assert snapshot(destination) == {"docs/guide.md": ("file", b"guide 2\n", False),
                                     "docs/new.md": ("file", b"new\n", False)}


def test_apply_changes_of_a_single_file_uses_the_name_of_to(project: Path, tmp_path: Path) -> None:
    old = git(project, "rev-parse", "HEAD")
    write_files(project, {"app/run.sh": "#!/bin/sh\necho 2\n", "app/main.py": "other file\n"})
    commit_all(project)
    mapping_git = facts(project, tmp_path)
    mapping = GitMapping(add="/app/run.sh", to="/bin/entry")
    assert mapping_git.apply_changes(mapping, old, tmp_path / "a") == []
    assert snapshot(tmp_path / "a") == {"entry": ("file", b"#!/bin/sh\necho 2\n", True)}
    (project / "app" / "run.sh").unlink()
    (project / "app" / "run.sh").symlink_to("main.py")
    commit_all(project)
    assert facts(project, tmp_path).apply_changes(mapping, old, tmp_path / "b") == ["entry"]
    assert snapshot(tmp_path / "b") == {"entry": ("link", "main.py", False)}


def test_apply_changes_from_the_latest_commit_does_nothing(project: Path, tmp_path: Path) -> None:
    head = git(project, "rev-parse", "HEAD")
    destination = tmp_path / "changes"
    assert facts(project, tmp_path).apply_changes(GitMapping(add="/app", to="/srv"), head, destination) == []
    assert snapshot(destination) == {}


def test_apply_changes_from_an_unknown_commit_is_a_git_error(project: Path, tmp_path: Path) -> None:
    with pytest.raises(GitError, match="is not in the repository"):
        facts(project, tmp_path).apply_changes(GitMapping(), "e" * 40, tmp_path / "changes")


# --- patches ------------------------------------------------------------------------------------------------


def test_patch_size_reaches_a_mebibyte_and_patch_text_is_the_short_patch(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "p", {"app/data.txt": "".join(f"row {n:07d}\n" for n in range(100_000)),
                                      "other.txt": "x\n"})
    first = git(repo, "rev-parse", "HEAD")
    write_files(repo, {"app/data.txt": (repo / "app/data.txt").read_text().replace("row 0050000", "row x")})
    second = commit_all(repo)
    mapping_git, mapping = facts(repo, tmp_path), GitMapping(add="/app", to="/srv")
    assert mapping_git.patch_size(mapping, first) >= 1024 * 1024
    text = mapping_git.patch_text(mapping, first)
    assert text.startswith("diff --git a/data.txt b/data.txt\n") and "+row x\n" in text and len(text) < 1024
    scope = GitPatches.open(str(repo)).mapping_scope(second, "app", "/srv")
    assert text.encode() == GitPatches.open(str(repo)).patch_text(first, second, scope)
    assert mapping_git.patch_size(mapping, second) == 0 and mapping_git.patch_text(mapping, second) == ""
    excluded = GitMapping(add="/app", to="/srv", exclude_paths=("*.txt",))
    assert mapping_git.patch_text(excluded, first) == ""


def test_patch_text_keeps_every_byte_of_non_utf8_content(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "p", {"latin1.txt": "caf\xe9\n".encode("latin-1")})
    first = git(repo, "rev-parse", "HEAD")
    write_files(repo, {"latin1.txt": "caf\xe8\n".encode("latin-1")})
    commit_all(repo)
    text = facts(repo, tmp_path).patch_text(GitMapping(), first)
    assert b"-caf\xe9\n+caf\xe8\n" in text.encode("utf-8", "surrogateescape")


# --- dev mode -----------------------------------------------------------------------------------------------


def test_work_tree_commit_is_a_deterministic_child_of_head(project: Path, tmp_path: Path) -> None:
    write_files(project, {"app/main.py": "uncommitted\n", "untracked.txt": "u\n"})
    snapshot_tree = GitRepo.discover(project).snapshot("dev").tree
    refs_before = git(project, "for-each-ref")
    commit = work_tree_commit(GitRepo.discover(project), snapshot_tree)
    assert commit == work_tree_commit(GitRepo.discover(project), str(snapshot_tree.id))
    assert git(project, "for-each-ref") == refs_before  # on no ref
    assert git(project, "rev-parse", f"{commit}^") == git(project, "rev-parse", "HEAD")
    assert git(project, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%ct|%s", commit) == (
        f"shipyard <shipyard@localhost>|shipyard <shipyard@localhost>|"
        f"{git(project, 'log', '-1', '--format=%ct', 'HEAD')}|{DEV_COMMIT_MESSAGE}")
    mapping_git = MappingGit(GitRepo.discover(project), commit, tmp_path / "cache")
    destination = tmp_path / "out"
    mapping_git.export(GitMapping(add="/app", to="/srv"), destination)
    assert (destination / "main.py").read_text() == "uncommitted\n"
    assert mapping_git.patch_text(GitMapping(add="/app", to="/srv"), git(project, "rev-parse", "HEAD")) \
        .endswith("-print()\n+uncommitted\n")


def test_work_tree_commit_of_a_clean_tree_is_head(project: Path) -> None:
    repo = GitRepo.discover(project)
    assert work_tree_commit(repo, repo.snapshot("dev").tree) == repo.head_commit


def test_submodules_are_exported_and_their_changes_applied(tmp_path: Path) -> None:
    library = init_repo(tmp_path / "library", {"lib.txt": "v1\n", "gone.txt": "gone\n"})
    repo = init_repo(tmp_path / "project", {"top.txt": "top\n"})
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "lib")
    old = commit_all(repo, "with submodule")
    container = tmp_path / "container"
    assert facts(repo, tmp_path).export(GitMapping(), container) == 4  # .gitmodules, top.txt, lib/*
    write_files(library, {"lib.txt": "v2\n"})
    (library / "gone.txt").unlink()
    commit_all(library, "v2")
    git(repo / "lib", "-c", "protocol.file.allow=always", "pull", "-q", "origin", "main")
    commit_all(repo, "library v2")
    destination = tmp_path / "changes"
    removed = facts(repo, tmp_path).apply_changes(GitMapping(), old, destination)
    assert removed == ["lib/gone.txt"]
    assert snapshot(destination) == {"lib/lib.txt": ("file", b"v2\n", False)}
    apply(container, destination, removed)
    assert sorted(snapshot(container)) == [".gitmodules", "lib/lib.txt", "top.txt"]
    git(repo, "rm", "-q", "lib")
    gone = commit_all(repo, "no submodule")
    removed = MappingGit(GitRepo.discover(repo), gone, tmp_path / "cache").apply_changes(
        GitMapping(), old, tmp_path / "changes2")
    assert removed == ["lib"]  # the submodule's directory goes as a whole (.gitmodules only changes)
    assert sorted(snapshot(tmp_path / "changes2")) == [".gitmodules"]


def test_add_that_turned_from_a_file_into_a_directory_replaces_to(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "p", {"conf": "a file\n"})
    old = git(repo, "rev-parse", "HEAD")
    (repo / "conf").unlink()
    write_files(repo, {"conf/app.yaml": "a: 1\n"})
    commit_all(repo)
    destination = tmp_path / "changes"
    mapping = GitMapping(add="/conf", to="/etc/conf")
    assert facts(repo, tmp_path).apply_changes(mapping, old, destination) == ["."]
    assert snapshot(destination) == {"app.yaml": ("file", b"a: 1\n", False)}
