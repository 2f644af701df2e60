"""Remote repositories of git mappings: bare clones under the cache directory, fetched once per process.

werf clones every remote `git:` url into its home (`~/.werf/local_cache/git_repos`) and fetches it before a
build. Here the clone lives at `<cache_dir>/<sha256(url)[:16]>`, is made by libgit2 (`clone_repository`,
bare), and is fetched (all branches and tags) the first time a process needs it. Threads building images in
parallel share one fetch (a lock per url); processes sharing the cache directory take a file lock.

A mapping pinned to a `commit` the clone already has needs no fetch (a commit never changes): a cache hit
then touches no network for it. A branch, a tag or the default branch is always fetched.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import FetchPrune

from shipyard.config.model import GitBasicAuth, GitMapping
from shipyard.errors import GitError

__all__ = ["RemoteClone", "RemoteClones", "clone_path"]

_REFSPECS = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
_REMOTE = "origin"
_ACCESS_HINT = ("check the url, that the repository is reachable from this host, and the mapping's basicAuth "
                "credentials")


@dataclass(frozen=True)
class RemoteClone:
    """A fetched bare clone: its repository and the branch the remote's HEAD names ("" when unknown)."""

    url: str
    path: Path
    repository: pygit2.Repository
    default_branch: str
    fetched: bool = True  # False: opened offline for a pinned commit it already had

    def has_commit(self, commit: str) -> bool:
        try:
            return isinstance(self.repository.revparse_single(commit), pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            return False

    def branch_commit(self, branch: str) -> str | None:
        return _reference_commit(self.repository, f"refs/remotes/{_REMOTE}/{branch}")

    def tag_commit(self, tag: str) -> str | None:
        return _reference_commit(self.repository, f"refs/tags/{tag}")

    def branches(self) -> list[str]:
        prefix = f"refs/remotes/{_REMOTE}/"
        return sorted(name.removeprefix(prefix) for name in self.repository.references
                      if name.startswith(prefix) and name != f"{prefix}HEAD")


def clone_path(cache_dir: Path, url: str) -> Path:
    """Where the clone of `url` lives: `<cache_dir>/<first 16 hex digits of sha256(url)>`."""
    return cache_dir / hashlib.sha256(url.encode()).hexdigest()[:16]


class RemoteClones:
    """The remote repositories of one build: each url cloned or fetched once, thread-safe."""

    def __init__(self, cache_dir: Path) -> None:
        self._cache_dir = cache_dir
        self._guard = threading.Lock()
        self._url_locks: dict[str, threading.Lock] = {}
        self._clones: dict[str, RemoteClone] = {}

    def get(self, mapping: GitMapping) -> RemoteClone:
        """The clone of the mapping's url, fetched in this process (the first call clones or fetches)."""
        url = mapping.url
        with self._guard:
            url_lock = self._url_locks.setdefault(url, threading.Lock())
        with url_lock:
            with self._guard:
                clone = self._clones.get(url)
            if clone is None and mapping.commit:
                clone = self._offline(url, mapping.commit)
            if clone is None or not (clone.fetched or (mapping.commit and clone.has_commit(mapping.commit))):
                clone = self._prepare(url, mapping.basic_auth)
            with self._guard:
                self._clones[url] = clone
        return clone

    def _offline(self, url: str, commit: str) -> RemoteClone | None:
        """The existing clone, unfetched, when it already has `commit`; None otherwise."""
        path = clone_path(self._cache_dir, url)
        if not path.exists():
            return None
        with _file_lock(path.with_name(path.name + ".lock")):
            clone = RemoteClone(url, path, _open(path, url), "", fetched=False)
            return clone if clone.has_commit(commit) else None

    def _prepare(self, url: str, auth: GitBasicAuth | None) -> RemoteClone:
        path = clone_path(self._cache_dir, url)
        callbacks = _callbacks(url, auth)
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(path.with_name(path.name + ".lock")):
            repository = _open(path, url) if path.exists() else _clone(path, url, callbacks)
            remote = _origin(repository, url)
            try:
                remote.fetch(_REFSPECS, callbacks=callbacks, prune=FetchPrune.PRUNE)
                heads = remote.list_heads(connect=False)
            except pygit2.GitError as error:
                raise GitError(f"cannot fetch git repository {url}: {error}", hint=_ACCESS_HINT) from None
        default = next((head.symref_target or "" for head in heads if head.name == "HEAD"), "")
        if not default and not repository.head_is_unborn:
            default = repository.head.name  # no symref advertised: the branch the clone checked out
        return RemoteClone(url, path, repository, default.removeprefix("refs/heads/"))


def _callbacks(url: str, auth: GitBasicAuth | None) -> pygit2.RemoteCallbacks | None:
    if auth is None:
        return None
    return pygit2.RemoteCallbacks(credentials=pygit2.UserPass(auth.username, _password(url, auth)))


def _password(url: str, auth: GitBasicAuth) -> str:
    """basicAuth.password from `env`, `file` or `value` (werf: one of them)."""
    if auth.password_env:
        password = os.environ.get(auth.password_env)
        if password is None:
            raise GitError(f"git mapping {url}: basicAuth password variable ${auth.password_env} is not set",
                           hint=f"export {auth.password_env}=… before the build")
        return password
    if auth.password_file:
        try:
            return Path(auth.password_file).read_text().rstrip("\n")
        except OSError as error:
            raise GitError(f"git mapping {url}: cannot read the basicAuth password file: {error}",
                           hint="check basicAuth.password.file in werf.yaml") from None
    return auth.password_value


def _clone(path: Path, url: str, callbacks: pygit2.RemoteCallbacks | None) -> pygit2.Repository:
    """Clone into a temporary sibling, then rename: an interrupted clone never leaves a broken cache."""
    for stale in path.parent.glob(f"{path.name}.partial-*"):  # an interrupted clone; we hold the lock
        shutil.rmtree(stale, ignore_errors=True)
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}-{threading.get_ident()}")
    try:
        pygit2.clone_repository(url, str(partial), bare=True, callbacks=callbacks)
    except (pygit2.GitError, ValueError, KeyError) as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise GitError(f"cannot clone git repository {url}: {error}", hint=_ACCESS_HINT) from None
    os.rename(partial, path)
    return _open(path, url)


def _open(path: Path, url: str) -> pygit2.Repository:
    try:
        return pygit2.Repository(str(path))
    except pygit2.GitError as error:
        raise GitError(f"the cached clone of {url} at {path} is broken: {error}",
                       hint=f"remove {path}; the next build clones the repository again") from None


def _origin(repository: pygit2.Repository, url: str) -> pygit2.Remote:
    try:
        remote = repository.remotes[_REMOTE]
    except KeyError:
        return repository.remotes.create(_REMOTE, url)
    if remote.url != url:
        repository.remotes.set_url(_REMOTE, url)
        remote = repository.remotes[_REMOTE]
    return remote


def _reference_commit(repository: pygit2.Repository, name: str) -> str | None:
    try:
        return str(repository.references[name].peel(pygit2.Commit).id)
    except (KeyError, ValueError, pygit2.GitError):
        return None


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive flock: another process cloning or fetching the same url waits for it."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
