"""buildkit's lexer tests (`frontend/dockerfile/shell/lex_test.go`, `envVarTest`, `wordsTest`) on our port."""

from __future__ import annotations

import pytest

from shipyard.stages.shellword import (
    ShellWordError,
    _reverse_pattern,
    _shell_pattern_regex,
    process_word,
    process_words,
)

# envVarTest: `platform|source|expected` (A = all, U = unix; W lines are Windows-only and left out)
ENV_VAR_TEST = r"""
A|hello                    |     hello
A|he'll'o                  |     hello
A|he'llo                   |     error
A|he\'llo                  |     he'llo
A|he\\'llo                 |     error
A|abc\tdef                 |     abctdef
A|"abc\tdef"               |     abc\tdef
A|"abc\\tdef"              |     abc\tdef
A|'abc\tdef'               |     abc\tdef
A|hello\                   |     hello
A|hello\\                  |     hello\
A|"hello                   |     error
A|"hello\"                 |     error
A|"hel'lo"                 |     hel'lo
A|'hello                   |     error
A|'hello\'                 |     hello\
A|'hello\there'            |     hello\there
A|'hello\\there'           |     hello\\there
A|"''"                     |     ''
A|$.                       |     $.
A|he$1x                    |     hex
A|he$.x                    |     he$.x
U|he$pwd.                  |     he.
A|he$PWD                   |     he/home
A|he\$PWD                  |     he$PWD
A|he\\$PWD                 |     he\/home
A|"he\$PWD"                |     he$PWD
A|"he\\$PWD"               |     he\/home
A|\${}                     |     ${}
A|\${}aaa                  |     ${}aaa
A|he\${}                   |     he${}
A|he\${}xx                 |     he${}xx
A|${}                      |     error
A|${}aaa                   |     error
A|he${}                    |     error
A|he${}xx                  |     error
A|he${hi}                  |     he
A|he${hi}xx                |     hexx
A|he${PWD}                 |     he/home
A|he${.}                   |     error
A|he${XXX:-000}xx          |     he000xx
A|he${PWD:-000}xx          |     he/homexx
A|he${XXX:-$PWD}xx         |     he/homexx
A|he${XXX:-${PWD:-yyy}}xx  |     he/homexx
A|he${XXX:-${YYY:-yyy}}xx  |     heyyyxx
A|he${XXX:YYY}             |     error
A|he${XXX:+${PWD}}xx       |     hexx
A|he${PWD:+${XXX}}xx       |     hexx
A|he${PWD:+${SHELL}}xx     |     hebashxx
A|he${XXX:+000}xx          |     hexx
A|he${PWD:+000}xx          |     he000xx
A|'he${XX}'                |     he${XX}
A|"he${PWD}"               |     he/home
A|"he'$PWD'"               |     he'/home'
A|"$PWD"                   |     /home
A|'$PWD'                   |     $PWD
A|'\$PWD'                  |     \$PWD
A|'"hello"'                |     "hello"
A|he\$PWD                  |     he$PWD
A|"he\$PWD"                |     he$PWD
A|'he\$PWD'                |     he\$PWD
A|he${PWD                  |     error
A|he${PWD:=000}xx          |     error
A|he${PWD:+${PWD}:}xx      |     he/home:xx
A|he${XXX:-\$PWD:}xx       |     he$PWD:xx
A|he${XXX:-\${PWD}z}xx     |     he${PWDz}xx
A|안녕하세요                 |     안녕하세요
A|안'녕'하세요               |     안녕하세요
A|안'녕하세요                |     error
A|안녕\'하세요               |     안녕'하세요
A|안\\'녕하세요              |     error
A|안녕\t하세요               |     안녕t하세요
A|"안녕\t하세요"             |     안녕\t하세요
A|'안녕\t하세요              |     error
A|안녕하세요\                |     안녕하세요
A|안녕하세요\\               |     안녕하세요\
A|"안녕하세요                |     error
A|"안녕하세요\"              |     error
A|"안녕'하세요"              |     안녕'하세요
A|'안녕하세요                |     error
A|'안녕하세요\'              |     안녕하세요\
A|안녕$1x                    |     안녕x
A|안녕$.x                    |     안녕$.x
U|안녕$pwd.                  |     안녕.
A|안녕$PWD                   |     안녕/home
A|안녕\$PWD                  |     안녕$PWD
A|안녕\\$PWD                 |     안녕\/home
A|안녕\${}                   |     안녕${}
A|안녕\${}xx                 |     안녕${}xx
A|안녕${}                    |     error
A|안녕${}xx                  |     error
A|안녕${hi}                  |     안녕
A|안녕${hi}xx                |     안녕xx
A|안녕${PWD}                 |     안녕/home
A|안녕${.}                   |     error
A|안녕${XXX:-000}xx          |     안녕000xx
A|안녕${PWD:-000}xx          |     안녕/homexx
A|안녕${XXX:-$PWD}xx         |     안녕/homexx
A|안녕${XXX:-${PWD:-yyy}}xx  |     안녕/homexx
A|안녕${XXX:-${YYY:-yyy}}xx  |     안녕yyyxx
A|안녕${XXX:YYY}             |     error
A|안녕${XXX:+${PWD}}xx       |     안녕xx
A|안녕${PWD:+${XXX}}xx       |     안녕xx
A|안녕${PWD:+${SHELL}}xx     |     안녕bashxx
A|안녕${XXX:+000}xx          |     안녕xx
A|안녕${PWD:+000}xx          |     안녕000xx
A|'안녕${XX}'                |     안녕${XX}
A|"안녕${PWD}"               |     안녕/home
A|"안녕'$PWD'"               |     안녕'/home'
A|'"안녕"'                   |     "안녕"
A|안녕\$PWD                  |     안녕$PWD
A|"안녕\$PWD"                |     안녕$PWD
A|'안녕\$PWD'                |     안녕\$PWD
A|안녕${PWD                  |     error
A|안녕${PWD:=000}xx          |     error
A|안녕${PWD:+${PWD}:}xx      |     안녕/home:xx
A|안녕${XXX:-\$PWD:}xx       |     안녕$PWD:xx
A|안녕${XXX:-\${PWD}z}xx     |     안녕${PWDz}xx
A|$KOREAN                    |     한국어
A|안녕$KOREAN                |     안녕한국어
A|${{aaa}                   |     error
A|${aaa}}                   |     }
A|${aaa                     |     error
A|${{aaa:-bbb}              |     error
A|${aaa:-bbb}}              |     bbb}
A|${aaa:-bbb                |     error
A|${aaa:-bbb}               |     bbb
A|${aaa:-${bbb:-ccc}}       |     ccc
A|${aaa:-bbb ${foo}         |     error
A|${aaa:-bbb {foo}          |     bbb {foo
A|${:}                      |     error
A|${:-bbb}                  |     error
A|${:+bbb}                  |     error
"""
ENV_VAR_TEST_ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


def _env_var_cases() -> list[tuple[str, str]]:
    cases = []
    for line in ENV_VAR_TEST.strip().splitlines():
        _platform, source, expected = line.split("|")
        cases.append((source.strip(), expected.strip()))
    cases.append(("$1", ""))  # the `A|$1 |` line, whose expectation is the empty string
    return cases


@pytest.mark.parametrize(("source", "expected"), _env_var_cases())
def test_env_var_test_file(source: str, expected: str) -> None:
    if expected == "error":
        with pytest.raises(ShellWordError):
            process_word(source, ENV_VAR_TEST_ENV)
    else:
        assert process_word(source, ENV_VAR_TEST_ENV) == expected


# wordsTest: each group runs with the ENV lines above it (buildkit reads them cumulatively)
WORDS_TEST: list[tuple[dict[str, str], str, list[str] | None]] = [
    ({}, "hello", ["hello"]),
    ({}, "hello${hi}bye", ["hellobye"]),
    ({"hi": "hi"}, "hello${hi}bye", ["hellohibye"]),
    ({"space": "abc  def"}, "hello${space}bye", ["helloabc", "defbye"]),
    ({"space": "abc  def"}, 'hello"${space}"bye', ["helloabc  defbye"]),
    ({"space": "abc  def"}, 'hello "${space}"bye', ["hello", "abc  defbye"]),
    ({"leading": "  ab c"}, "hello${leading}def", ["hello", "ab", "cdef"]),
    ({"leading": "  ab c"}, 'hello"${leading}" def', ["hello  ab c", "def"]),
    ({"leading": "  ab c"}, 'hello"${leading}"', ["hello  ab c"]),
    ({"leading": "  ab c"}, "hello${leading}", ["hello", "ab", "c"]),
    ({"trailing": "ab c   "}, "hello${trailing}", ["helloab", "c"]),
    ({"trailing": "ab c   "}, "hello${trailing}d", ["helloab", "c", "d"]),
    ({"trailing": "ab c   "}, 'hello"${trailing}"d', ["helloab c   d"]),
    ({"trailing": "ab c   "}, 'hel"lo${trailing}"', ["helloab c   "]),
    ({}, 'hello" there  "', ["hello there  "]),
    ({}, "hello there", ["hello", "there"]),
    ({}, "hello\\ there", ["hello there"]),
    ({}, 'hello" there', None),  # unterminated quote: an error in buildkit v0.13
    ({}, 'hello\\" there', ['hello"', "there"]),
]


@pytest.mark.parametrize(("env", "source", "expected"), WORDS_TEST)
def test_words_test_file(env: dict[str, str], source: str, expected: list[str] | None) -> None:
    if expected is None:
        with pytest.raises(ShellWordError):
            process_words(source, env)
    else:
        assert process_words(source, env) == expected


def test_mandatory_env_vars() -> None:
    set_env, empty_env, unset_env = {"VAR": "plain", "ARG": "x"}, {"VAR": "", "ARG": "x"}, {"ARG": "x"}
    no_empty, no_unset = "${VAR:?message here$ARG}", "${VAR?message here$ARG}"
    assert process_word(no_empty, set_env) == "plain"
    for env in (empty_env, unset_env):
        with pytest.raises(ShellWordError, match="message herex"):
            process_word(no_empty, env)
    assert process_word(no_unset, set_env) == "plain"
    assert process_word(no_unset, empty_env) == ""
    with pytest.raises(ShellWordError, match="message herex"):
        process_word(no_unset, unset_env)


# TestProcessWithMatches: (input, env, expected or None for an error)
MATCHES_CASES: list[tuple[str, dict[str, str], str | None]] = [
    ("x", {"DUMMY": "dummy"}, "x"),
    ("x ${UNUSED}", {"DUMMY": "dummy"}, "x "),
    ("x ${FOO}", {"FOO": "y"}, "x y"),
    ("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx  ccc"),
    ("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx bbb ccc"),
    ("${FOO:-}", {"FOO": "xxx", "BAR": ""}, "xxx"),
    ("${FOO:-}", {}, ""),
    ("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa bbb "),
    ("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa  "),
    ("${FOO?aaa}", {"FOO": "xxx", "BAR": ""}, "xxx"),
    ("${BAR?bbb}", {"FOO": "xxx", "BAR": ""}, ""),
    ("${BAZ?ccc}", {"FOO": "xxx", "BAR": ""}, None),
    ("${FOO:?aaa}", {"FOO": "xxx", "BAR": ""}, "xxx"),
    ("${BAR:?bbb}", {"FOO": "xxx", "BAR": ""}, None),
    ("${BAZ:?ccc}", {"FOO": "xxx", "BAR": ""}, None),
    ("${BAZ:?}", {"FOO": "xxx", "BAR": ""}, None),
    ("${FOO=aaa}", {"FOO": "xxx", "BAR": ""}, None),
    ("${FOO=:aaa}", {"FOO": "xxx", "BAR": ""}, None),
    ("${FOO=}", {}, None),
    ("${FOO#()[]{\\}^$.\\*\\?|\\\\}", {"FOO": "()[]{}^$.*?|\\x"}, "x"),
    ("${FOO%%\\**}", {"FOO": "xx**"}, "xx"),
    ("${FOO#*x*y}", {"FOO": "xxyy"}, "y"),
    ("${FOO#*}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": "x"}, "xyy"),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy"),
    ("${FOO#}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO##*x}", {"FOO": "xxyy"}, "yy"),
    ("${FOO##}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO#?\\?}", {"FOO": "???y"}, "?y"),
    ("${ABC:-.}${FOO%x}${ABC:-.}", {"FOO": "xxyy"}, ".xxyy."),
    ("${FOO%%\\**\\*}", {"FOO": "a***yy*"}, "a"),
    ("${FOO%}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO%%$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy"),
    (
        "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
        {"FOO": "/foo*/*/*.txt", "NEEDLE": "\\*/"},
        "/foo.*/*.txt - /foo..*.txt",
    ),
    (
        "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
        {"FOO": "/tmp/tmp/bar.txt", "NEEDLE": "/tmp"},
        "/tmp/bar.txt - /bar.txt",
    ),
    (
        "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
        {"FOO": "/a/foo/b/c.txt", "NEEDLE": "/?/", "REPLACEMENT": "/"},
        "/foo/b/c.txt - /foo/c.txt",
    ),
    (
        "${FOO/$NEEDLE/$REPLACEMENT}",
        {"FOO": "http://google.de", "NEEDLE": "http://", "REPLACEMENT": "https://"},
        "https://google.de",
    ),
    ("${FOO//\\//\\/}", {"FOO": "/tmp/foo.txt"}, "\\/tmp\\/foo.txt"),
    ("${FOO/$BAR/ww}", {"FOO": "xxyy", "BAR": ""}, "wwxxyy"),
    ("${FOO//ww}", {"FOO": "xxyy"}, None),
    ("${FOO//}", {"FOO": "xxyy"}, None),
    ("${FOO///}", {"FOO": "xxyy"}, "xxyy"),
    ("${FOO///}", {}, ""),
]


@pytest.mark.parametrize(("source", "env", "expected"), MATCHES_CASES)
def test_process_with_matches_cases(source: str, env: dict[str, str], expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ShellWordError):
            process_word(source, env)
    else:
        assert process_word(source, env) == expected


@pytest.mark.parametrize(
    ("arch", "variant", "expected"),
    [
        ("arm", "v7", "something-v1.2.3.linux-arm-v7.tar.gz"),
        ("arm64", "", "something-v1.2.3.linux-arm64.tar.gz"),
        ("arm64", None, "something-v1.2.3.linux-arm64.tar.gz"),
    ],
)
def test_platform_release_name(arch: str, variant: str | None, expected: str) -> None:
    release = "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz"
    env = {"VERSION": "v1.2.3", "TARGETOS": "linux", "TARGETARCH": arch}
    if variant is not None:
        env["TARGETVARIANT"] = variant
    assert process_word(release, env) == expected


@pytest.mark.parametrize(
    ("pattern", "regex"),
    [
        ("*", "^.*"),
        ("?", "^."),
        ("\\*", "^\\*"),
        ("(()[]{\\}^$.\\*\\?|\\\\", "^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\"),
    ],
)
def test_shell_pattern_to_regex(pattern: str, regex: str) -> None:
    assert _shell_pattern_regex(pattern, greedy=True, anchored=True).pattern == regex


@pytest.mark.parametrize("pattern", ["\\", "\\x", "\\\\\\"])
def test_invalid_shell_patterns(pattern: str) -> None:
    with pytest.raises(ShellWordError, match="invalid escape"):
        _shell_pattern_regex(pattern, greedy=True, anchored=True)


@pytest.mark.parametrize(
    ("pattern", "reversed_pattern"),
    [
        ("a\\*c", "c\\*a"),
        ("\\\\\\ab", "b\\a\\\\"),
        ("ab\\", "\\ba"),
        ("👽\\🚀🖖", "🖖\\🚀👽"),
        ("\\\\b", "b\\\\"),
    ],
)
def test_reverse_pattern(pattern: str, reversed_pattern: str) -> None:
    assert _reverse_pattern(pattern) == reversed_pattern


def test_skip_unset_env_keeps_references() -> None:
    assert process_word("a $X ${Y} ${Z:-d}", {}, skip_unset_env=True) == "a $X ${Y} ${Z:-d}"
    assert process_word("a $X", {"X": "1"}, skip_unset_env=True) == "a 1"


def test_replace_all_follows_go_semantics() -> None:
    # Go skips an empty match right after a match (Python's re.sub would produce "xx")
    assert process_word("${FOO//*/x}", {"FOO": "abc"}) == "x"
    # ReplaceAllString expands $0 in the replacement to the whole match
    assert process_word("${FOO//b/[$R]}", {"FOO": "abc", "R": "$0"}) == "a[b]c"


def test_error_names_the_word() -> None:
    with pytest.raises(ShellWordError, match=r'failed to process "he\$\{PWD:-x": syntax error: missing'):
        process_word("he${PWD:-x", {"PWD": "/home"})
