"""`IMAGE…` arguments: filepath.Match patterns, `!exclusions`, dependencies pulled in, werf.yaml order."""

from __future__ import annotations

import pytest

from shipyard.config.selection import go_path_match, select_images
from shipyard.config.validate import parse_werf_config
from shipyard.errors import UsageError

CONFIG = parse_werf_config("""\
project: demo
configVersion: 1
---
image: base
from: alpine:3.20
---
image: backend
dockerfile: Dockerfile
dependencies:
- image: base
  imports:
  - type: ImageName
    targetBuildArg: BASE
---
image: frontend
from: base
---
image: frontend/assets
dockerfile: Dockerfile
---
image: tools
from: alpine:3.20
import:
- image: backend
  add: /bin/server
  after: install
""")


@pytest.mark.parametrize(
    ("patterns", "selected"),
    [
        ((), ("base", "backend", "frontend", "frontend/assets", "tools")),
        (("frontend",), ("base", "frontend")),
        (("front*",), ("base", "frontend")),  # `*` does not cross `/`
        (("frontend/*",), ("frontend/assets",)),
        (("tools",), ("base", "backend", "tools")),  # transitive: tools → backend → base
        (
            ("*", "!front*"),
            ("base", "backend", "tools"),
        ),  # `*` skips frontend/assets; base is needed by backend
        (
            ("*/*", "*", "!base"),
            ("base", "backend", "frontend", "frontend/assets", "tools"),
        ),  # base is needed
        (("frontend", "!frontend"), ("base", "frontend")),  # named literally: werf keeps it
        (("?ools", "b[a-z]se"), ("base", "backend", "tools")),
    ],
)
def test_selection(patterns: tuple[str, ...], selected: tuple[str, ...]) -> None:
    assert select_images(CONFIG, patterns) == selected


def test_a_pattern_matching_nothing_is_an_error_listing_the_images() -> None:
    with pytest.raises(UsageError) as caught:
        select_images(CONFIG, ("backend", "nope*"))
    assert caught.value.message == "no image matches pattern 'nope*'"
    assert caught.value.hint == "images in werf.yaml: base, backend, frontend, frontend/assets, tools"


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("a/**", "recursive glob (**) not supported"),
        ("x" * 101, "pattern too long"),
        ("a$b", "special characters not allowed"),
        ("[a", "syntax error in pattern"),
        ("a\\", "syntax error in pattern"),
        ("[]a]", "syntax error in pattern"),
    ],
)
def test_invalid_patterns(pattern: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        select_images(CONFIG, (pattern,))


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("a*", "abc", True),
        ("a*", "a/b", False),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("[^a]bc", "xbc", True),
        ("[^a]bc", "abc", False),
        ("[a-c]x", "bx", True),
        ("\\*", "*", True),
        ("\\*", "x", False),
        ("a.b", "a.b", True),
        ("a.b", "axb", False),
        ("[\\]]", "]", True),
    ],
)
def test_go_path_match(pattern: str, name: str, matches: bool) -> None:
    assert go_path_match(pattern, name) is matches
