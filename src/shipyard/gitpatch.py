"""werf's git patches (pkg/true_git/patch.go) from pygit2, without running `git`.

werf runs `git -c diff.renames=false -c core.quotePath=false [-c diff.context=999999999] diff --full-index
--submodule=log [--binary] FROM TO` and rewrites the output with its diff parser (`shipyard.diffparse`).
Here libgit2 computes the tree diff and the hunks; the parts where libgit2's text differs from git's are
written the git way: the `diff --git`/mode/`index` header (full object ids, git's quoting with quotePath
off), `---`/`+++` lines (only when there are hunks; a tab after names with a space), and binary patches
(zlib level 1 as git's core.compression default, git's choice of delta vs literal). Submodule entries are
left out: with `--submodule=log` git prints `Submodule …` summaries that werf's parser discards.

gitCache measures the rewritten patch with full context and binary data; gitLatestPatch hashes the
rewritten patch with 3 lines of context and `Binary files … differ` (git_mapping.go: PatchSize,
GetPatchContent).
"""

from __future__ import annotations

import base64
import zlib
from pathlib import PurePosixPath

import pygit2
from pygit2.enums import DeltaStatus, DiffOption, FileMode

from shipyard.diffparse import ParsedPatch, PatchScope, parse_diff
from shipyard.errors import GitError
from shipyard.pathmatch import new_path_matcher
from shipyard.pathmatch.globs import go_dir

__all__ = ["ENTIRE_FILE_CONTEXT", "GitPatches", "git_quote"]

ENTIRE_FILE_CONTEXT = 999_999_999  # werf: -c diff.context=999999999
_NULL_ID = "0" * 40
_GITLINK = int(FileMode.COMMIT)
_GIT_ZLIB_LEVEL = 1  # git's zlib_compression_level default (Z_BEST_SPEED) for binary patches
_C_ESCAPES = {7: b"\\a", 8: b"\\b", 9: b"\\t", 10: b"\\n", 11: b"\\v", 12: b"\\f", 13: b"\\r",
              34: b'\\"', 92: b"\\\\"}


class GitPatches:
    """Raw and werf-rewritten patches between two commits of one repository."""

    def __init__(self, repository: pygit2.Repository) -> None:
        self._repository = repository

    @classmethod
    def open(cls, path: str) -> GitPatches:
        try:
            return cls(pygit2.Repository(path))
        except pygit2.GitError as error:
            raise GitError(f"cannot open the git repository at {path}: {error}") from None

    def raw_diff(self, from_commit: str, to_commit: str, *, entire_file_context: bool, binary: bool) -> bytes:
        """The bytes of werf's `git diff` call (before its parser), computed by libgit2."""
        flags = DiffOption.INDENT_HEURISTIC | (DiffOption.SHOW_BINARY if binary else DiffOption.NORMAL)
        context = ENTIRE_FILE_CONTEXT if entire_file_context else 3
        diff = self._tree(from_commit).diff_to_tree(self._tree(to_commit), flags=flags, context_lines=context)
        parts = []
        for patch in diff:
            if patch is None or _GITLINK in (patch.delta.old_file.mode, patch.delta.new_file.mode):
                continue
            parts.append(_file_patch(self._repository, patch, binary=binary))
        return b"".join(parts)

    def patch(self, from_commit: str, to_commit: str, scope: PatchScope, *,
              entire_file_context: bool, binary: bool) -> ParsedPatch:
        """werf true_git.Patch: the raw diff through werf's parser."""
        raw = self.raw_diff(from_commit, to_commit, entire_file_context=entire_file_context, binary=binary)
        return parse_diff(raw, scope)

    def patch_size(self, from_commit: str, to_commit: str, scope: PatchScope) -> int:
        """gitCache's size (GitMapping.PatchSize): bytes of the rewritten full-context binary patch."""
        if from_commit == to_commit:
            return 0
        return len(self.patch(from_commit, to_commit, scope, entire_file_context=True, binary=True).patch)

    def patch_text(self, from_commit: str, to_commit: str, scope: PatchScope) -> bytes:
        """gitLatestPatch's input (GitMapping.GetPatchContent): b"" when the commits are equal."""
        if from_commit == to_commit:
            return b""
        return self.patch(from_commit, to_commit, scope, entire_file_context=False, binary=False).patch

    def mapping_scope(self, commit: str, add: str, to: str, include: tuple[str, ...] = (),
                      exclude: tuple[str, ...] = ()) -> PatchScope:
        """werf makePatchOptions: scope `add` (a directory or submodule) or its directory, renaming a
        single-file `add` to the basename of `to`. `add` is repo-relative ("" for the whole repository)."""
        matcher = new_path_matcher(base_path=add, include_globs=include, exclude_globs=exclude)
        if self._is_directory(commit, add):
            return PatchScope(add, matcher, {})
        renames = {} if _go_base(add) == _go_base(to) else {add: _go_base(to)}
        return PatchScope(go_dir(add), matcher, renames)

    def _is_directory(self, commit: str, path: str) -> bool:
        if path in ("", ".", "/"):
            return True
        try:
            entry = self._tree(commit)[path]
        except KeyError:
            return False
        return entry.filemode in (FileMode.TREE, FileMode.COMMIT)

    def _tree(self, commit: str) -> pygit2.Tree:
        try:
            return self._repository.revparse_single(commit).peel(pygit2.Tree)
        except (KeyError, ValueError, pygit2.GitError) as error:
            raise GitError(f"cannot read commit {commit}: {error}",
                           hint="check that the commit exists in the repository") from None


def _go_base(path: str) -> str:
    stripped = path.rstrip("/")
    return PurePosixPath(stripped).name if stripped else ("/" if path else ".")


# --- git's text for one file -----------------------------------------------------------------------------


def git_quote(name: bytes) -> tuple[bytes, bool]:
    """git quote_c_style with core.quotePath=false: control bytes, `"`, `\\` and DEL escaped."""
    needs = any(byte < 0x20 or byte in (34, 92, 127) for byte in name)
    if not needs:
        return name, False
    out = bytearray()
    for byte in name:
        if byte in _C_ESCAPES:
            out += _C_ESCAPES[byte]
        elif byte < 0x20 or byte == 127:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out), True


def _quote_two(prefix: bytes, name: bytes) -> bytes:
    quoted, needed = git_quote(name)
    return b'"' + prefix + quoted + b'"' if needed else prefix + name


def _file_patch(repository: pygit2.Repository, patch: pygit2.Patch, *, binary: bool) -> bytes:
    delta = patch.delta
    old_name, new_name = delta.old_file.raw_path, delta.new_file.raw_path
    lines = [b"diff --git " + _quote_two(b"a/", old_name) + b" " + _quote_two(b"b/", new_name)]
    lines += _mode_lines(delta)
    labels = (b"/dev/null" if delta.status == DeltaStatus.ADDED else _quote_two(b"a/", old_name),
              b"/dev/null" if delta.status == DeltaStatus.DELETED else _quote_two(b"b/", new_name))
    head = b"".join(line + b"\n" for line in lines)
    if delta.is_binary:
        if not binary:
            return head + b"Binary files " + labels[0] + b" and " + labels[1] + b" differ\n"
        old = _blob_data(repository, delta.old_file.id)
        new = _blob_data(repository, delta.new_file.id)
        return head + b"GIT binary patch\n" + _binary_side(old, new, patch.data, 0) \
            + _binary_side(new, old, patch.data, 1)
    data = patch.data
    start = data.find(b"\n@@ ")
    if start < 0:
        return head  # no hunks: git prints no ---/+++ lines (mode change, empty file)
    tabs = tuple(b"\t" if b" " in name else b"" for name in (old_name, new_name))
    minus = b"--- " + labels[0] + (tabs[0] if labels[0] != b"/dev/null" else b"")
    plus = b"+++ " + labels[1] + (tabs[1] if labels[1] != b"/dev/null" else b"")
    return head + minus + b"\n" + plus + b"\n" + data[start + 1:]


def _mode_lines(delta: pygit2.DiffDelta) -> list[bytes]:
    old_mode, new_mode = delta.old_file.mode, delta.new_file.mode
    old_id, new_id = str(delta.old_file.id), str(delta.new_file.id)
    lines = []
    if delta.status == DeltaStatus.ADDED:
        old_id = _NULL_ID
        lines.append(b"new file mode %06o" % new_mode)
    elif delta.status == DeltaStatus.DELETED:
        new_id = _NULL_ID
        lines.append(b"deleted file mode %06o" % old_mode)
    elif old_mode != new_mode:
        lines += [b"old mode %06o" % old_mode, b"new mode %06o" % new_mode]
    if old_id != new_id:
        suffix = b" %06o" % old_mode if old_mode == new_mode else b""
        lines.append(b"index " + old_id.encode() + b".." + new_id.encode() + suffix)
    return lines


def _blob_data(repository: pygit2.Repository, oid: pygit2.Oid) -> bytes:
    if str(oid) == _NULL_ID:
        return b""
    blob = repository[oid]
    assert isinstance(blob, pygit2.Blob)
    return blob.data


def _binary_side(one: bytes, two: bytes, libgit2_text: bytes, index: int) -> bytes:
    """git emit_binary_diff_body for one direction: the smaller of deflated delta and deflated literal.

    git's delta (diff-delta.c) is not available from pygit2; libgit2 computes the same delta, so it is
    taken from libgit2's own binary patch when libgit2 chose a delta for this direction.
    """
    literal = zlib.compress(two, _GIT_ZLIB_LEVEL)
    delta = _libgit2_delta(libgit2_text, index) if one and two else None
    if delta is not None:
        packed = zlib.compress(delta, _GIT_ZLIB_LEVEL)
        if len(packed) < len(literal):
            return b"delta %d\n" % len(delta) + _base85_lines(packed) + b"\n"
    return b"literal %d\n" % len(two) + _base85_lines(literal) + b"\n"


def _libgit2_delta(text: bytes, index: int) -> bytes | None:
    """The raw delta of libgit2's `index`-th binary hunk (0 forward, 1 reverse), if it is a delta."""
    marker = b"GIT binary patch\n"
    if marker not in text:
        return None
    hunks = text[text.find(marker) + len(marker):].split(b"\n\n")
    if index >= len(hunks):
        return None
    header, *encoded = hunks[index].split(b"\n")
    if not header.startswith(b"delta "):
        return None
    packed = b"".join(_base85_decode(line) for line in encoded if line)
    return zlib.decompress(packed)


def _base85_lines(data: bytes) -> bytes:
    out = []
    for offset in range(0, len(data), 52):
        chunk = data[offset:offset + 52]
        size = len(chunk)
        length = chr(ord("A") + size - 1) if size <= 26 else chr(ord("a") + size - 27)
        out.append(length.encode() + base64.b85encode(chunk, pad=True) + b"\n")
    return b"".join(out)


def _base85_decode(line: bytes) -> bytes:
    marker = chr(line[0])
    size = ord(marker) - ord("A") + 1 if marker <= "Z" else ord(marker) - ord("a") + 27
    return base64.b85decode(line[1:])[:size]
