"""werf's own pkg/path_matcher tests (include, exclude, base_path, multi, dockerfile_ignore, factory,
common, true/false), common-go path tests, doublestar's match table and moby's dockerignore rules."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipyard.pathmatch import (
    BadPatternError,
    BasePathMatcher,
    DockerignorePathMatcher,
    ExcludePathMatcher,
    FalsePathMatcher,
    IncludePathMatcher,
    MultiPathMatcher,
    PathMatcher,
    TruePathMatcher,
    format_path,
    is_path_matched_by_glob,
    new_path_matcher,
    normalize_copy_add_sources,
    parse_dockerignore,
)
from shipyard.pathmatch.dockerignore import IgnorePatterns
from shipyard.pathmatch.globs import (
    _interpret,
    go_clean,
    path_match,
    safe_trim_globs_and_slashes,
    split_filepath,
)


def expect(matcher: PathMatcher, path: str, matched: bool, go_through: bool, dir_matched: bool) -> None:
    assert matcher.is_path_matched(path) is matched, "is_path_matched"
    assert matcher.should_go_through(path) is go_through, "should_go_through"
    assert matcher.is_dir_or_submodule_path_matched(path) is dir_matched, "is_dir_or_submodule_path_matched"


# include_test.go: (globs, path, isPathMatched, shouldGoThrough, isDirOrSubmodulePathMatched)
INCLUDE = [
    ((), "", True, False, True),
    (("",), "", True, False, True),
    (("dir",), "", False, True, True),
    (("dir",), "dir", True, False, True),
    (("dir",), "dir/any", True, False, True),
    (("dir1",), "dir2", False, False, False),
    (("dir/file",), "dir", False, True, True),
    (("a",), "a/b/c/d", True, False, True),
    (("a/*/*/**/*",), "a/d/c/d", True, False, True),
]


@pytest.mark.parametrize(("globs", "path", "matched", "go_through", "dir_matched"), INCLUDE)
def test_include(globs: tuple[str, ...], path: str, matched: bool, go_through: bool,
                 dir_matched: bool) -> None:
    expect(IncludePathMatcher.of(globs), path, matched, go_through, dir_matched)


# exclude_test.go
EXCLUDE = [
    ((), "", True, False, True),
    (("",), "", False, False, False),
    (("dir",), "", True, True, True),
    (("dir1",), "dir2", True, False, True),
    (("dir/file",), "dir", True, True, True),
    (("dir",), "dir", False, False, False),
    (("dir",), "dir/any", False, False, False),
    (("a",), "a/b/c/d", False, False, False),
    (("a/*/*/**/*",), "a/d/c/d", False, False, False),
]


@pytest.mark.parametrize(("globs", "path", "matched", "go_through", "dir_matched"), EXCLUDE)
def test_exclude(globs: tuple[str, ...], path: str, matched: bool, go_through: bool,
                 dir_matched: bool) -> None:
    expect(ExcludePathMatcher.of(globs), path, matched, go_through, dir_matched)


# base_path_test.go
BASE_PATH = [
    ("", "", True, False, True),
    ("", "path", True, False, True),
    ("dir", "path", False, False, False),
    ("path", "", False, True, True),
    ("path", "path", True, False, True),
    ("path", "path/sub-path", True, False, True),
]


@pytest.mark.parametrize(("base", "path", "matched", "go_through", "dir_matched"), BASE_PATH)
def test_base_path(base: str, path: str, matched: bool, go_through: bool, dir_matched: bool) -> None:
    expect(BasePathMatcher.of(base), path, matched, go_through, dir_matched)


def test_base_path_with_true_and_false_matchers() -> None:
    expect(BasePathMatcher.of("", TruePathMatcher()), "any", True, False, True)
    expect(BasePathMatcher.of("", FalsePathMatcher()), "any", False, False, False)


# true_test.go / false_test.go
def test_true_and_false() -> None:
    expect(TruePathMatcher(), "any", True, False, True)
    expect(FalsePathMatcher(), "any", False, False, False)


# multi_test.go
def test_multi_is_false_if_one_matcher_is_false() -> None:
    expect(MultiPathMatcher.of(TruePathMatcher(), FalsePathMatcher()), "any", False, False, False)
    expect(MultiPathMatcher.of(FalsePathMatcher(), FalsePathMatcher()), "any", False, False, False)


def test_multi_is_true_if_all_matchers_are_true() -> None:
    expect(MultiPathMatcher.of(TruePathMatcher(), TruePathMatcher()), "any", True, False, True)


MULTI_NESTED_BASES = [
    ("", False, True, True),
    ("file", False, False, False),
    ("dir", False, True, True),
    ("dir/sub-dir", True, False, True),
    ("dir/sub-dir/file", True, False, True),
]


@pytest.mark.parametrize(("path", "matched", "go_through", "dir_matched"), MULTI_NESTED_BASES)
def test_multi_should_go_through(path: str, matched: bool, go_through: bool, dir_matched: bool) -> None:
    matcher = MultiPathMatcher.of(BasePathMatcher.of("dir"), BasePathMatcher.of("dir/sub-dir"))
    expect(matcher, path, matched, go_through, dir_matched)


# dockerfile_ignore_test.go (current werf: patterns relative to the context, no base path of its own)
DOCKERIGNORE = [
    ((), "", True, False, True),
    ((), "any", True, False, True),
    (("*",), "", False, True, True),
    (("any",), "", True, True, True),
    (("dir1",), "dir2", True, False, True),
    (("dir", "!dir/file"), "dir/file", True, False, True),
    (("dir",), "dir", False, False, False),
    (("dir",), "dir/file", False, False, False),
    (("dir", "!dir/file"), "dir", False, True, True),
]


@pytest.mark.parametrize(("patterns", "path", "matched", "go_through", "dir_matched"), DOCKERIGNORE)
def test_dockerignore(patterns: tuple[str, ...], path: str, matched: bool, go_through: bool,
                      dir_matched: bool) -> None:
    expect(DockerignorePathMatcher.of(patterns), path, matched, go_through, dir_matched)


# The older werf dockerfile_ignore_test.go cases (base path a/b/c), expressed with today's base-path matcher.
LEGACY_DOCKERIGNORE_MATCHED = [
    (("d",), ["a/b/c/de"], ["a/b/c/d", "a/b/c/d/e", "a/b/d", "b", "a"]),
    (("d", "!d/e"), ["a/b/c/d/e"], ["a/b/c/d", "a/b/d", "b", "a"]),
]
LEGACY_DOCKERIGNORE_GO_THROUGH = [
    (("d",), ["a/b/c", "a"], ["a/b/c/d", "a/b/c/d/e", "a/b/d", "b"]),
    (("d", "!d/e"), ["a/b/c/d", "a/b/c", "a"], ["a/b/d", "b"]),
]


@pytest.mark.parametrize(("patterns", "matched", "not_matched"), LEGACY_DOCKERIGNORE_MATCHED)
def test_dockerignore_under_base_path_matched(patterns: tuple[str, ...], matched: list[str],
                                              not_matched: list[str]) -> None:
    matcher = new_path_matcher(base_path="a/b/c", dockerignore_patterns=patterns)
    assert [path for path in matched + not_matched if matcher.is_path_matched(path)] == matched


@pytest.mark.parametrize(("patterns", "go_through", "not_go_through"), LEGACY_DOCKERIGNORE_GO_THROUGH)
def test_dockerignore_under_base_path_go_through(patterns: tuple[str, ...], go_through: list[str],
                                                 not_go_through: list[str]) -> None:
    matcher = new_path_matcher(base_path="a/b/c", dockerignore_patterns=patterns)
    assert [path for path in go_through + not_go_through if matcher.should_go_through(path)] == go_through


# factory_test.go
FACTORY_SIMPLE = [
    ({"base_path": "dir"}, "", False, True, True),
    ({"base_path": "dir"}, "dir", True, False, True),
    ({"include_globs": ["dir"]}, "", False, True, True),
    ({"exclude_globs": ["dir1"]}, "dir1", False, False, False),
    ({"exclude_globs": ["dir1"]}, "dir2", True, False, True),
    ({"dockerignore_patterns": ["dir"]}, "dir1", True, False, True),
    ({"matchers": [TruePathMatcher()]}, "any", True, False, True),
]
COMPLEX_1 = {"base_path": "dir", "include_globs": ["sub-dir"], "exclude_globs": ["sub-dir/file1"],
             "dockerignore_patterns": ["*.tmp"]}
COMPLEX_2 = {"base_path": "dir",
             "matchers": [BasePathMatcher.of("sub-dir"), IncludePathMatcher.of(["sub-dir/*.go"])]}
FACTORY_COMPLEX = [
    (COMPLEX_1, "", False, True, True),
    (COMPLEX_1, "sub-dir", False, False, False),
    (COMPLEX_1, "dir/sub-dir", True, True, True),
    (COMPLEX_1, "dir/sub-dir/file1", False, False, False),
    (COMPLEX_1, "dir/sub-dir/file2", True, False, True),
    ({**COMPLEX_1, "dockerignore_patterns": ["sub-dir/*.tmp"]}, "dir/sub-dir/file.tmp", False, False, False),
    (COMPLEX_2, "dir", False, True, True),
    (COMPLEX_2, "dir/sub-dir/file", False, False, False),
    (COMPLEX_2, "dir/sub-dir/file.go", True, False, True),
]


@pytest.mark.parametrize(("options", "path", "matched", "go_through", "dir_matched"),
                         FACTORY_SIMPLE + FACTORY_COMPLEX)
def test_factory(options: dict[str, object], path: str, matched: bool, go_through: bool,
                 dir_matched: bool) -> None:
    expect(new_path_matcher(**options), path, matched, go_through, dir_matched)  # type: ignore[arg-type]


# common_test.go
GLOB_MATCHES = [
    ("usr/bin/[", "usr/bin/\\[", True),
    ("usr/bin/falco", "usr/bin/**", True),
    ("etc/falco", "usr/bin/*", False),
    ("usr/share/falco/plugins/libcontainer.so", "usr/share/**", True),
    ("lib64", "lib64", True),
    ("usr/bin/falco", "usr/bin", True),
    ("images/img/Dockerfile", "images/*/{Dockerfile,werf.inc.yaml}", True),
]


@pytest.mark.parametrize(("path", "glob", "expected"), GLOB_MATCHES)
def test_is_path_matched_by_glob(path: str, glob: str, expected: bool) -> None:
    assert is_path_matched_by_glob(path, glob) is expected


@pytest.mark.parametrize(("path", "expected"), [("", ""), (".", ""), ("/", ""), ("a/./b/", "a/b")])
def test_format_path(path: str, expected: str) -> None:
    assert format_path(path) == expected


# common-go path_unix_test.go (SplitFilepath) plus the escaping and trimming rules
@pytest.mark.parametrize(("path", "parts"), [
    ("/", []), ("/mydir/", ["mydir"]), ("////", []), ("", []),
    ("/path/to/dir/or/file", ["path", "to", "dir", "or", "file"]),
    ("path/to/dir/or/file", ["path", "to", "dir", "or", "file"]),
    ("a\\/b/c", ["a\\/b", "c"]),
])
def test_split_filepath(path: str, parts: list[str]) -> None:
    assert split_filepath(path) == parts


@pytest.mark.parametrize(("glob", "trimmed"), [
    ("path/*/dir/**/*", "path/*/dir"), ("path/*/dir/**", "path/*/dir"), ("path/*/dir/*/*/**", "path/*/dir"),
    ("**/*", ""), ("*", ""), ("src/*.go", "src/*.go"), ("", ""),
])
def test_safe_trim_globs(glob: str, trimmed: str) -> None:
    assert safe_trim_globs_and_slashes(glob) == trimmed


@pytest.mark.parametrize(("path", "cleaned"), [
    ("", "."), ("a//b/./c/..", "a/b"), ("/../a", "/a"), ("../../a", "../../a"), ("//a/", "/a"), ("a/..", "."),
])
def test_go_clean(path: str, cleaned: str) -> None:
    assert go_clean(path) == cleaned


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", ".", "..", "/", "//", ".a"]), max_size=8).map("".join))
def test_go_clean_equals_normpath(path: str) -> None:
    expected = posixpath.normpath(path)  # which keeps a leading "//", unlike Go
    if expected.startswith("//"):
        expected = "/" + expected.lstrip("/")
    assert go_clean(path) == expected


# doublestar v4 match behaviour (doublestar_test.go rows, with v4's "a/** matches a")
DOUBLESTAR = [
    ("abc", "abc", True), ("*", "abc", True), ("*c", "abc", True), ("a*", "a", True), ("a*", "abc", True),
    ("a*", "ab/c", False), ("a*/b", "abc/b", True), ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True), ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False), ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True), ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True), ("ab[b-d]", "abc", True), ("ab[e-g]", "abc", False), ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False), ("ab[^e-g]", "abc", True), ("a\\*b", "ab", False), ("a?b", "a☺b", True),
    ("a[^a]b", "a☺b", True), ("a???b", "a☺b", False), ("a[^a][^a][^a]b", "a☺b", False), ("[a-ζ]*", "α", True),
    ("*[a-ζ]", "A", False), ("a?b", "a/b", False), ("a*b", "a/b", False), ("[\\]a]", "]", True),
    ("[\\-]", "-", True), ("[x\\-]", "x", True), ("[x\\-]", "-", True), ("[x\\-]", "z", False),
    ("[\\-x]", "x", True), ("[\\-x]", "-", True), ("[\\-x]", "a", False), ("*x", "xxx", True),
    ("a/**", "a", True), ("a/**", "a/b", True), ("a/**", "a/b/c", True), ("**/c", "c", True),
    ("**/c", "b/c", True), ("**/c", "a/b/c", True), ("**/c", "a/b", False), ("**/c", "abcd", False),
    ("**/c", "a/abc", False), ("a/**/b", "a/b", True), ("a/**/c", "a/b/c", True), ("a/**/d", "a/b/c/d", True),
    ("a/\\**", "a/b/c", False), ("ab{c,d}", "abc", True), ("ab{c,d,*}", "abcde", True),
    ("abc**", "abc", True), ("**abc", "abc", True), ("**/*", "", False), ("**/*", "a", True),
    ("a*/**", "a", False), ("**", "", True),
]
# v1's path.Match-style rejections of "[-]", "[x-]", "[-x]" and "[a-b-c]" are gone in v4 (werf's version).
DOUBLESTAR_BAD = [("[]a]", "]"), ("\\", "a"), ("[", "a"), ("[^", "a"), ("[^bc", "a"), ("a[", "a"),
                  ("a[", "ab"), ("ab{c,d}[", "abcd")]


@pytest.mark.parametrize(("pattern", "name", "expected"), DOUBLESTAR)
def test_doublestar(pattern: str, name: str, expected: bool) -> None:
    assert path_match(pattern, name) is expected
    assert _interpret(pattern, name) is expected


@pytest.mark.parametrize(("pattern", "name"), DOUBLESTAR_BAD)
def test_doublestar_bad_pattern(pattern: str, name: str) -> None:
    with pytest.raises(BadPatternError):
        path_match(pattern, name)


_PATTERN_ALPHABET = st.sampled_from(["a", "b", "/", "*", "?", "**", "/**", "/**/*"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PATTERN_ALPHABET, max_size=6).map("".join), st.text(alphabet="ab/", max_size=7))
def test_regex_fast_path_equals_the_interpreter(pattern: str, name: str) -> None:
    assert path_match(pattern, name) is _interpret(pattern, name)


# moby patternmatcher semantics (Matches, as werf calls it) and buildkit's ReadAll
IGNORE = [
    (["*.md"], "README.md", True), (["*.md"], "docs/README.md", False),
    (["**/*.md"], "docs/x/README.md", True), (["docs"], "docs/a/b", True),
    (["docs", "!docs/keep"], "docs/keep", False), (["docs/*/b"], "docs/a/b/c", True),
    (["docs/*/b"], "docs/b", False),
    (["a/b"], "a/b/c/d", True), (["**"], "x", True), (["a/**"], "a/b", True), (["!a"], "a", False),
    (["*", "!important.txt"], "important.txt", False), (["te?t"], "test", True), (["te[a-z]t"], "test", True),
    (["a.b"], "axb", False), (["**/foo"], "foo", True), (["**/foo"], "x/foo", True),
]


@pytest.mark.parametrize(("patterns", "path", "ignored"), IGNORE)
def test_ignore_patterns(patterns: list[str], path: str, ignored: bool) -> None:
    assert IgnorePatterns(patterns).matches(path) is ignored


def test_bad_ignore_patterns() -> None:
    for bad in (["!"], ["a\\"], ["[]"], ["[a-]"]):
        with pytest.raises(BadPatternError):
            IgnorePatterns(bad)


def test_parse_dockerignore() -> None:
    text = "\ufeff# comment\n\n  node_modules/  \n!/keep//me\r\n/abs/path\n #not-a-comment\n!\n/\n"
    assert parse_dockerignore(text) == ["node_modules", "!keep/me", "abs/path", "#not-a-comment", "!", "/"]


@pytest.mark.parametrize(("sources", "normalized"), [
    (["."], ["."]), (["/"], ["."]), (["./src/"], ["src"]), (["/app/*.json"], ["app/*.json"]),
    (["a//b/.."], ["a"]),
])
def test_normalize_copy_add_sources(sources: list[str], normalized: list[str]) -> None:
    assert normalize_copy_add_sources(sources) == normalized
