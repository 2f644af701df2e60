"""werf's diff parser: the table of pkg/true_git/diff_parser_test.go plus the path rewriting around it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from shipyard.diffparse import (
    CommitsNotPresentError,
    DiffParseError,
    DiffParser,
    PatchScope,
    go_quote,
    go_unquote,
    parse_diff,
)
from shipyard.pathmatch import new_path_matcher


@dataclass(frozen=True)
class Case:
    """A werf test: lines fed in order, then what the parser collected (contains / does not contain)."""

    lines: tuple[str, ...]
    paths: tuple[str, ...] = ()
    binary: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    not_remove: tuple[str, ...] = ()
    remove_empty: bool = False
    scope: str = ""
    states: dict[int, str] = field(default_factory=dict)  # line index → state after it


WERF_CASES = {
    "short binary delete adds to PathsToRemove": Case(
        ("diff --git a/old/logo.png b/old/logo.png", "deleted file mode 100644", "index abc12345..00000000",
         "Binary files a/old/logo.png and /dev/null differ"),
        paths=("old/logo.png",), binary=("old/logo.png",), remove=("old/logo.png",),
        states={0: "diffBegin", 1: "deleteFileDiff", 2: "deleteFileDiff"}),
    "short binary new file is not removed": Case(
        ("diff --git a/new/logo.png b/new/logo.png", "new file mode 100644", "index 00000000..abc12345",
         "Binary files /dev/null and b/new/logo.png differ"),
        paths=("new/logo.png",), binary=("new/logo.png",), remove_empty=True, states={1: "newFileDiff"}),
    "short binary modify is not removed": Case(
        ("diff --git a/file.png b/file.png", "index abc12345..def45678",
         "Binary files a/file.png and b/file.png differ"),
        paths=("file.png",), binary=("file.png",), remove_empty=True, states={1: "modifyFileDiff"}),
    "GIT binary patch delete adds to PathsToRemove": Case(
        ("diff --git a/old/logo.png b/old/logo.png", "deleted file mode 100644", "index abc12345..00000000",
         "GIT binary patch"),
        paths=("old/logo.png",), binary=("old/logo.png",), remove=("old/logo.png",),
        states={1: "deleteFileDiff"}),
    "GIT binary patch new file is not removed": Case(
        ("diff --git a/new/logo.png b/new/logo.png", "new file mode 100644", "index 00000000..abc12345",
         "GIT binary patch"),
        paths=("new/logo.png",), binary=("new/logo.png",), remove_empty=True, states={1: "newFileDiff"}),
    "binary rename without rename detection (delete + create)": Case(
        ("diff --git a/new/logo.png b/new/logo.png", "new file mode 100644", "index 00000000..abc12345",
         "Binary files /dev/null and b/new/logo.png differ",
         "diff --git a/old/logo.png b/old/logo.png", "deleted file mode 100644", "index abc12345..00000000",
         "Binary files a/old/logo.png and /dev/null differ"),
        paths=("new/logo.png", "old/logo.png"), binary=("new/logo.png", "old/logo.png"),
        remove=("old/logo.png",), not_remove=("new/logo.png",)),
    "text file deletion": Case(
        ("diff --git a/old/file.txt b/old/file.txt", "deleted file mode 100644", "index abc12345..00000000",
         "--- a/old/file.txt"),
        remove=("old/file.txt",), states={1: "deleteFileDiff"}),
    "path scope trims removed paths": Case(
        ("diff --git a/assets/logos/old.png b/assets/logos/old.png", "deleted file mode 100644",
         "index abc12345..00000000", "Binary files a/assets/logos/old.png and /dev/null differ"),
        scope="assets/logos", paths=("old.png",), remove=("old.png",)),
    "rename similarity index 100%": Case(
        ("diff --git a/old/logo.png b/new/logo.png", "similarity index 100%", "rename from old/logo.png",
         "rename to new/logo.png"),
        paths=("old/logo.png", "new/logo.png"), remove=("old/logo.png",), not_remove=("new/logo.png",),
        states={0: "diffBegin", 1: "renameDiff"}),
    "different a/ and b/ with binary content": Case(
        ("diff --git a/old/logo.png b/new/logo.png", "index abc12345..def67890",
         "Binary files a/old/logo.png and b/new/logo.png differ"),
        paths=("old/logo.png", "new/logo.png"), binary=("old/logo.png", "new/logo.png"), remove_empty=True,
        states={1: "modifyFileDiff"}),
    "deep nested rename": Case(
        ("diff --git a/images/icons/app/old_theme/icon.png b/images/icons/app/new_theme/icon.png",
         "similarity index 100%", "rename from images/icons/app/old_theme/icon.png",
         "rename to images/icons/app/new_theme/icon.png"),
        paths=("images/icons/app/old_theme/icon.png", "images/icons/app/new_theme/icon.png"),
        remove=("images/icons/app/old_theme/icon.png",), not_remove=("images/icons/app/new_theme/icon.png",),
        states={0: "diffBegin", 1: "renameDiff"}),
    "rename under a path scope": Case(
        ("diff --git a/images/icons/app/old_theme/icon.png b/images/icons/app/new_theme/icon.png",
         "similarity index 100%", "rename from images/icons/app/old_theme/icon.png"),
        scope="images/icons/app", remove=("old_theme/icon.png",)),
    "multiple renames": Case(
        ("diff --git a/old/logo.png b/new/logo.png", "similarity index 100%", "rename from old/logo.png",
         "rename to new/logo.png", "diff --git a/old/icon.svg b/new/icon.svg", "similarity index 100%",
         "rename from old/icon.svg", "rename to new/icon.svg"),
        remove=("old/logo.png", "old/icon.svg"), not_remove=("new/logo.png", "new/icon.svg")),
    "rename with modification (similarity < 100%)": Case(
        ("diff --git a/old/logo.png b/new/logo.png", "similarity index 95%", "rename from old/logo.png",
         "rename to new/logo.png", "index abc12345..def67890", "GIT binary patch"),
        binary=("old/logo.png", "new/logo.png"), remove=("old/logo.png",),
        states={1: "renameDiff", 4: "modifyFileDiff"}),
}


@pytest.mark.parametrize("case", WERF_CASES.values(), ids=WERF_CASES.keys())
def test_werf_diff_parser_cases(case: Case) -> None:
    parser = DiffParser(PatchScope(case.scope))
    for index, line in enumerate(case.lines):
        parser.handle_line(line)
        if index in case.states:
            assert parser.state == case.states[index], f"after line {index}: {line!r}"
    result = parser.result()
    assert set(case.paths) <= set(result.paths)
    assert set(case.binary) <= set(result.binary_paths)
    assert set(case.remove) <= set(result.paths_to_remove)
    assert not set(case.not_remove) & set(result.paths_to_remove)
    if case.remove_empty:
        assert result.paths_to_remove == []


RAW = b"""diff --git a/app/a.txt b/app/a.txt
index 21bcbf7d5542f0a544e03ebe5cb64c34e041b62b..5c8312aa5b0285160de0566ef11069a42ccba202 100644
--- a/app/a.txt
+++ b/app/a.txt
@@ -1,2 +1,2 @@ head
 one
-two
+TWO
diff --git a/app/del.txt b/app/del.txt
deleted file mode 100644
index abaddc0b9edd523c69166a2c9f3a9e31a4c873e3..0000000000000000000000000000000000000000
--- a/app/del.txt
+++ /dev/null
@@ -1 +0,0 @@
-del
diff --git a/app/mode.sh b/app/mode.sh
old mode 100644
new mode 100755
diff --git a/app/sub/new.txt b/app/sub/new.txt
new file mode 100644
index 0000000000000000000000000000000000000000..3e757656cf36eca53338e520d134963a44f793f8
--- /dev/null
+++ b/app/sub/new.txt
@@ -0,0 +1 @@
+new
diff --git a/app/sp ace.txt b/app/sp ace.txt
index 45b983be36b73c0788dc9cbcb76cbb80fc7bb057..f4acb98e6a2b8cf2fdbc2f38ca078e355774d3c9 100644
--- a/app/sp ace.txt\t
+++ b/app/sp ace.txt\t
@@ -1 +1,2 @@
 hi
+hi2
diff --git "a/app/q\\"t.txt" "b/app/q\\"t.txt"
index bca70f35318f31dd1d1d1d2d2e64c19b880899ff..92812c3e7fc7af86b5e45afcc18c53e927a4ed30 100644
--- "a/app/q\\"t.txt"
+++ "b/app/q\\"t.txt"
@@ -1 +1,2 @@
 q
+q2
diff --git a/app/bin.dat b/app/bin.dat
index d5d0b8b4c4c9e936890870f6799cfbb5ba984470..592620900d3f0d171204d3869de68e3b8312a952 100644
GIT binary patch
literal 4
Lcmb<msA2>F0@(oc

literal 3
Kcmb<ms0083<N)#j

diff --git a/top.txt b/top.txt
index 1fcb1529f8e5e43037c4710ce09da0becd28823a..efcdd467e44bd0b22e39b579c0027c92ec6279d9 100644
--- a/top.txt
+++ b/top.txt
@@ -1 +1 @@
-out
+out2
"""

SCOPED = b"""diff --git a/a.txt b/a.txt
--- a/a.txt
+++ b/a.txt
@@ -1,2 +1,2 @@ head
 one
-two
+TWO
diff --git a/del.txt b/del.txt
deleted file mode 100644
--- a/del.txt
+++ /dev/null
@@ -1 +0,0 @@
-del
diff --git a/mode.sh b/mode.sh
old mode 100644
new mode 100755
diff --git a/sub/new.txt b/sub/new.txt
new file mode 100644
--- /dev/null
+++ b/sub/new.txt
@@ -0,0 +1 @@
+new
diff --git a/sp ace.txt b/sp ace.txt
--- a/sp ace.txt
+++ b/sp ace.txt
@@ -1 +1,2 @@
 hi
+hi2
diff --git "a/q\\"t.txt" "b/q\\"t.txt"
--- a/../--- "a/app/q\\"t.txt"
+++ b/../+++ "b/app/q\\"t.txt"
@@ -1 +1,2 @@
 q
+q2
diff --git a/bin.dat b/bin.dat
GIT binary patch
literal 4
Lcmb<msA2>F0@(oc

literal 3
Kcmb<ms0083<N)#j

"""


def app_scope(*, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> PatchScope:
    return PatchScope("app", new_path_matcher(base_path="app", include_globs=include, exclude_globs=exclude))


def test_paths_become_relative_to_the_scope_and_outside_files_are_dropped() -> None:
    result = parse_diff(RAW, app_scope())
    assert result.patch == SCOPED
    assert result.paths == ["a.txt", "del.txt", "mode.sh", "sub/new.txt", "sp ace.txt", 'q"t.txt', "bin.dat"]
    assert result.paths_to_remove == ["del.txt"]
    assert result.binary_paths == ["bin.dat"]


def test_quoted_file_lines_keep_werf_quirk() -> None:
    """werf trims only an unquoted `--- a/`: a quoted line is taken whole as the path and rewritten."""
    expected = b'--- a/--- "a/app/q\\"t.txt"\n+++ b/+++ "b/app/q\\"t.txt"\n'
    assert expected in parse_diff(RAW, PatchScope()).patch


def test_root_scope_keeps_repository_paths() -> None:
    result = parse_diff(RAW, PatchScope())
    assert b"diff --git a/top.txt b/top.txt\n" in result.patch
    assert b"index " not in result.patch
    assert result.paths[-1] == "top.txt"


def test_include_and_exclude_globs() -> None:
    included = parse_diff(RAW, app_scope(include=("sub",)))
    assert included.paths == ["sub/new.txt"]
    excluded = parse_diff(RAW, app_scope(exclude=("*.txt", "bin.dat")))
    assert excluded.paths == ["mode.sh", "sub/new.txt"]
    assert excluded.patch.startswith(b"diff --git a/mode.sh b/mode.sh\nold mode 100644\nnew mode 100755\n")


def test_single_file_mapping_is_renamed_to_the_basename_of_to() -> None:
    scope = PatchScope("app", new_path_matcher(base_path="app/a.txt"), {"app/a.txt": "config.txt"})
    result = parse_diff(RAW, scope)
    assert result.patch == (b"diff --git a/config.txt b/config.txt\n--- a/config.txt\n+++ b/config.txt\n"
                            b"@@ -1,2 +1,2 @@ head\n one\n-two\n+TWO\n")
    assert result.paths == ["config.txt"]


def test_nothing_matched_gives_an_empty_patch() -> None:
    result = parse_diff(RAW, PatchScope("none", new_path_matcher(base_path="none")))
    assert result.is_empty
    assert result.paths == []


def test_chunked_input_and_unterminated_last_line() -> None:
    chunks = [RAW[offset:offset + 7] for offset in range(0, len(RAW), 7)]
    assert parse_diff(chunks, app_scope()) == parse_diff(RAW, app_scope())
    assert parse_diff(RAW + b"diff --git a/app/x b/app/x", app_scope()).patch == SCOPED


def test_text_before_the_first_diff_is_unrecognized() -> None:
    result = parse_diff(b"warning: something\n" + RAW, PatchScope())
    assert result.unrecognized == b"warning: something\n"


def test_submodule_summaries_are_dropped() -> None:
    raw = (b"Submodule lib 1111111..2222222:\n  > change\n"
           b"diff --git a/top.txt b/top.txt\nindex 1..2 100644\n"
           b"--- a/top.txt\n+++ b/top.txt\n@@ -1 +1 @@\n-a\n+b\n")
    result = parse_diff(raw, PatchScope())
    assert result.patch == (b"diff --git a/top.txt b/top.txt\n"
                            b"--- a/top.txt\n+++ b/top.txt\n@@ -1 +1 @@\n-a\n+b\n")
    assert result.unrecognized == b"  > change\n"


def test_submodule_commits_not_present_is_an_error() -> None:
    with pytest.raises(CommitsNotPresentError):
        parse_diff(b"Submodule lib 1111111...2222222 (commits not present)\n", PatchScope())


@pytest.mark.parametrize("raw", [b"diff --git a/x b/x\n+++ b/x\n", b"diff --git nothing\n",
                                 b"diff --git a/x b/x\ndiff --git a/y b/y\n"])
def test_malformed_diffs(raw: bytes) -> None:
    with pytest.raises(DiffParseError):
        parse_diff(raw, PatchScope())


def test_trailing_tabs_are_trimmed_from_rewritten_paths() -> None:
    raw = b"diff --git a/d/s p b/d/s p\nindex 1..2 100644\n--- a/d/s p\t\n+++ b/d/s p\t\n"
    result = parse_diff(raw, PatchScope("d"))
    assert result.patch == b"diff --git a/s p b/s p\n--- a/s p\n+++ b/s p\n"


def test_non_utf8_paths_survive() -> None:
    raw = b'diff --git "a/d/\\377.bin" "b/d/\\377.bin"\nindex 1..2 100644\nBinary files differ\n'
    result = parse_diff(raw, PatchScope("d"))
    assert result.patch == b'diff --git "a/\\xff.bin" "b/\\xff.bin"\nBinary files differ\n'
    assert result.binary_paths == ["\udcff.bin"]


@pytest.mark.parametrize(("quoted", "text"), [
    ('"a/plain"', "a/plain"),
    ('"a/q\\"t\\\\b"', 'a/q"t\\b'),
    ('"tab\\tnl\\n"', "tab\tnl\n"),
    ('"\\303\\251"', "é"),
    ('"\\x41\\u00e9\\U0001F600"', "Aé😀"),
])
def test_go_unquote(quoted: str, text: str) -> None:
    assert go_unquote(quoted) == text


@pytest.mark.parametrize("bad", ['"open', '"\\q"', '"a"b"', '"\\7"'])
def test_go_unquote_rejects(bad: str) -> None:
    with pytest.raises(DiffParseError):
        go_unquote(bad)


@pytest.mark.parametrize(("text", "quoted"), [
    ('a/q"t', '"a/q\\"t"'),
    ("é ok", '"é ok"'),
    ("\x01\x7f", '"\\x01\\x7f"'),
    ("\u200b", '"\\u200b"'),
])
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted
