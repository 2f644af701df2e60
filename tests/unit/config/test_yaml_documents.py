"""werf's document splitting and the located YAML tree."""

from __future__ import annotations

import pytest

from shipyard.config.documents import Map, Scalar, Seq, parse_document, parse_documents, split_documents
from shipyard.config.validate_fields import clean_path, go_float, is_relative
from shipyard.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\n---\nb: 2\n", [(1, "a: 1"), (3, "b: 2\n")]),
        ("---\na: 1\n", [(2, "a: 1\n")]),
        ("a: 1\n--- # images\nb: 2", [(1, "a: 1"), (3, "b: 2")]),
        ("a: 1\n---#x\nb: 2", [(1, "a: 1"), (3, "b: 2")]),
        ("a: 1\n---  \t\r\nb: 2", [(1, "a: 1"), (3, "b: 2")]),
        ("a: 1\n----\nb: 2", [(1, "a: 1\n----\nb: 2")]),  # four dashes: not a separator
        ("a: 1\n--- b\n", [(1, "a: 1\n--- b\n")]),  # text after the dashes: not a separator
        ("a: 1\n ---\nb: 2", [(1, "a: 1\n ---\nb: 2")]),  # must start the line
        ("# c\n---\n  # only comments\n\n---\nb: 2\n---\n", [(6, "b: 2")]),
        ("", []),
    ],
)
def test_split_documents_like_werf(text: str, expected: list[tuple[int, str]]) -> None:
    assert split_documents(text) == expected


def test_nodes_carry_file_lines() -> None:
    (document,) = parse_documents("# head\n---\nimage: app\nargs:\n  A: 1\nlist:\n- x\n- y\n")
    root = document.root
    assert isinstance(root, Map) and root.line == 3 and document.first_line == 3
    assert root.keys() == ("image", "args", "list")
    key = root.key("args")
    args = root.get("args")
    assert key is not None and key.line == 4 and isinstance(args, Map) and args.line == 5
    items = root.get("list")
    assert isinstance(items, Seq) and [item.line for item in items.items] == [7, 8]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("1.5", 1.5),
        ("true", True),
        ("yes", True),
        ("Y", True),
        ("n", False),
        ("off", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("'yes'", "yes"),
        ("1e3", 1000.0),
        ("1:20", "1:20"),
        ("0x10", 16),
        ("2001-12-14", "2001-12-14"),
        ("!custom x", "x"),
        ("|\n  y\n", "y\n"),
    ],
)
def test_scalars_resolve_like_yaml_v2(text: str, value: object) -> None:
    root = parse_document(f"v: {text}", 1, "f.yaml").root
    assert isinstance(root, Map)
    node = root.get("v")
    assert isinstance(node, Scalar) and node.value == value and type(node.value) is type(value)


def test_duplicate_keys_are_rejected_at_the_second_one() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_document("a: 1\nb:\n  c: 1\n  c: 2\n", 10, "werf.yaml")
    assert caught.value.render() == (
        "werf.yaml:13: duplicate key `c` in one mapping\n"
        "  hint: `c` is already set on line 12; keep only one of them"
    )


def test_syntax_errors_point_at_the_file_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_document("a: 1\nb: [1, 2\n", 5, "werf.yaml")
    assert caught.value.location is not None and caught.value.location.line in (6, 7)
    assert "YAML syntax error" in caught.value.message


def test_complex_keys_are_rejected() -> None:
    with pytest.raises(ConfigError, match="mapping key must be a plain value"):
        parse_document("? [a, b]\n: 1\n", 1, "werf.yaml")


def test_aliases_are_shared_not_copied() -> None:
    root = parse_document("a: &x [1, 2]\nb: *x\n", 1, "f.yaml").root
    assert isinstance(root, Map) and root.get("a") is root.get("b")


def test_only_the_first_yaml_document_of_a_section_is_read() -> None:
    root = parse_document("a: 1\n...\n--- !x\nb: 2\n", 1, "f.yaml").root
    assert isinstance(root, Map) and root.keys() == ("a",)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.1, "0.1"),
        (100000.0, "100000"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001234, "1.234e-05"),
        (-2.5, "-2.5"),
        (1e21, "1e+21"),
        (float("inf"), "+Inf"),
        (float("nan"), "NaN"),
        (-0.0, "-0"),
    ],
)
def test_go_float_formatting(value: float, text: str) -> None:
    assert go_float(value) == text


@pytest.mark.parametrize(
    ("path", "relative"),
    [
        ("", True),
        (".", True),
        ("a/b", True),
        ("a/../b", True),
        ("./a", True),
        ("..", False),
        ("../a", False),
        ("a/../../b", False),
        ("/abs", False),
    ],
)
def test_relative_paths_like_werf(path: str, relative: bool) -> None:
    assert is_relative(path) is relative


@pytest.mark.parametrize(
    ("path", "clean"),
    [
        ("", "."),
        ("a//b/", "a/b"),
        ("./a/./b", "a/b"),
        ("/a/../b", "/b"),
        ("//x", "/x"),
        ("/", "/"),
    ],
)
def test_clean_path_like_go(path: str, clean: str) -> None:
    assert clean_path(path) == clean
