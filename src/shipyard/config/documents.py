"""Split rendered werf.yaml into documents and parse each into a tree that remembers file line numbers.

werf splits on its own (not YAML's) document markers: a line that starts with `---`, optionally followed by
spaces/tabs and/or a `#` comment (`pkg/config/parser.go: splitContent`). Each piece is then read with yaml.v2
`UnmarshalStrict`, so scalars resolve as YAML 1.1 and a key repeated in one mapping is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from shipyard.errors import ConfigError, Location

_SEPARATOR = re.compile(r"---[ \t\r]*(#.*)?")
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_C_LOADER_MAX_NESTING = 2000

# yaml.v2 also reads these plain scalars as booleans (PyYAML does not).
_GO_EXTRA_BOOLS = {"y": True, "Y": True, "n": False, "N": False}
# Go's ParseFloat accepts exponents without a dot, which PyYAML's YAML 1.1 resolver leaves as strings.
_GO_FLOAT = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+")
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"

ScalarValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Scalar:
    value: ScalarValue  # resolved like yaml.v2 does for an interface{} target
    text: str  # the scalar as written: yaml.v2 stores this in string fields whatever the resolved type
    line: int  # 1-based line in the whole rendered file


@dataclass(frozen=True, slots=True)
class Seq:
    items: tuple[Node, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Map:
    entries: tuple[tuple[Scalar, Node], ...]  # (key, value) in document order, keys unique
    line: int

    def get(self, key: str) -> Node | None:
        for entry_key, value in self.entries:
            if entry_key.text == key:
                return value
        return None

    def key(self, key: str) -> Scalar | None:
        for entry_key, _ in self.entries:
            if entry_key.text == key:
                return entry_key
        return None

    def keys(self) -> tuple[str, ...]:
        return tuple(entry_key.text for entry_key, _ in self.entries)


Node = Scalar | Seq | Map


@dataclass(frozen=True, slots=True)
class Document:
    root: Node | None  # None for a document holding only `~`/nothing after comments are stripped
    first_line: int  # 1-based line of the document's first line in the rendered file


def split_documents(text: str) -> list[tuple[int, str]]:
    """(first line, content) of every non-empty document, in file order."""
    pieces: list[tuple[int, str]] = []
    current: list[str] = []
    start = 1
    for number, line in enumerate(text.split("\n"), start=1):
        if _SEPARATOR.fullmatch(line):
            pieces.append((start, "\n".join(current)))
            current, start = [], number + 1
        else:
            current.append(line)
    pieces.append((start, "\n".join(current)))
    return [(line, content) for line, content in pieces if not _only_comments(content)]


def _only_comments(content: str) -> bool:
    return all(not line.strip() or line.strip().startswith("#") for line in content.split("\n"))


def parse_documents(text: str, filename: str = "werf.yaml") -> list[Document]:
    return [parse_document(content, first_line, filename) for first_line, content in split_documents(text)]


def parse_document(content: str, first_line: int, filename: str) -> Document:
    where = Location(filename, first_line)
    try:
        node = _first_node(content)
        root = None if node is None else _Converter(first_line, filename).convert(node)
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, first_line, filename) from None
    except yaml.reader.ReaderError as error:  # control characters
        where = Location(filename, first_line + _newlines_before(content, error.position))
        raise ConfigError(f"invalid character U+{error.character:04X} in YAML", location=where,
                          hint="YAML text cannot contain control characters; remove it") from None
    except UnicodeEncodeError:
        raise ConfigError("the text is not valid Unicode (it contains a lone surrogate)", location=where,
                          hint="save the file as UTF-8") from None
    except RecursionError:
        raise ConfigError("this section is nested too deeply to read", location=where,
                          hint="flatten the structure; werf.yaml never needs deep nesting") from None
    return Document(root, first_line)


def _newlines_before(content: str, position: int) -> int:
    """The C reader reports a byte offset, the pure-Python one a character offset."""
    if _loader_for(content) is yaml.SafeLoader:
        return content[:position].count("\n")
    return content.encode(errors="surrogatepass")[:position].count(b"\n")


def _first_node(content: str) -> yaml.Node | None:
    """yaml.v2 Unmarshal reads only the first YAML document of its input."""
    documents: Iterator[yaml.Node] = iter(yaml.compose_all(content, Loader=_loader_for(content)))
    return next(documents, None)


def _loader_for(content: str) -> type[yaml.SafeLoader]:
    """libyaml crashes the process on very deep nesting; the Python loader raises RecursionError instead.

    Nesting can only come from flow brackets, `- `/`? ` indicators and new lines, so their count bounds it."""
    bound = sum(content.count(mark) for mark in ("[", "{", "- ", "? ", "\n"))
    return _Loader if bound < _C_LOADER_MAX_NESTING else yaml.SafeLoader


def _syntax_error(error: yaml.MarkedYAMLError, first_line: int, filename: str) -> ConfigError:
    mark = error.problem_mark or error.context_mark
    line = first_line + mark.line if mark is not None else first_line
    problem = error.problem or "invalid YAML"
    context = f" ({error.context})" if error.context else ""
    hint = "check indentation, `key: value` spacing and quoting on this line and the one above"
    if "alias" in problem:
        hint = "an alias (`*name`) needs an anchor (`&name`) earlier in the same `---` section"
    return ConfigError(
        f"YAML syntax error: {problem}{context}",
        hint=hint,
        location=Location(filename, line),
    )


class _Converter:
    """Turns composed PyYAML nodes into our located tree; shared (aliased) nodes are converted once."""

    def __init__(self, first_line: int, filename: str) -> None:
        self._offset = first_line
        self._filename = filename
        self._done: dict[int, Node] = {}
        self._constructor = yaml.constructor.SafeConstructor()

    def convert(self, node: yaml.Node) -> Node:
        known = self._done.get(id(node))
        if known is not None:
            return known
        converted: Node
        if isinstance(node, yaml.ScalarNode):
            converted = self._scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            converted = Seq(tuple(self.convert(item) for item in node.value), self._line(node))
        elif isinstance(node, yaml.MappingNode):
            converted = self._mapping(node)
        else:  # pragma: no cover - the composer only produces the three node kinds
            raise TypeError(node)
        self._done[id(node)] = converted
        return converted

    def _line(self, node: yaml.Node) -> int:
        return self._offset + node.start_mark.line

    def _scalar(self, node: yaml.ScalarNode) -> Scalar:
        return Scalar(self._resolve(node), node.value, self._line(node))

    def _resolve(self, node: yaml.ScalarNode) -> ScalarValue:
        plain = not node.style  # the C loader reports plain scalars as '' (the Python one as None)
        text: str = node.value
        if node.tag in (_INT_TAG, _FLOAT_TAG) and ":" in text:
            return text  # YAML 1.1 sexagesimal numbers, which yaml.v2 keeps as strings
        if node.tag in (_INT_TAG, _FLOAT_TAG, _BOOL_TAG, _NULL_TAG):
            value: ScalarValue = self._constructor.construct_object(node)
            return value
        if plain and text in _GO_EXTRA_BOOLS:
            return _GO_EXTRA_BOOLS[text]
        if plain and _GO_FLOAT.fullmatch(text):
            return float(text)
        return text  # strings, timestamps (yaml.v2 keeps them as text) and custom tags

    def _mapping(self, node: yaml.MappingNode) -> Map:
        merged: dict[str, tuple[Scalar, Node]] = {}
        own: dict[str, tuple[Scalar, Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._merge_into(merged, value_node)
                continue
            key = self._key(key_node)
            if key.text in own:
                raise self._duplicate(key, own[key.text][0])
            own[key.text] = (key, self.convert(value_node))
        return Map(tuple({**merged, **own}.values()), self._line(node))

    def _merge_into(self, merged: dict[str, tuple[Scalar, Node]], value_node: yaml.Node) -> None:
        """`<<: *anchor` (or a list of anchors): earlier sources win, the mapping's own keys win over all."""
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            converted = self.convert(source)
            if not isinstance(converted, Map):
                raise ConfigError(
                    "`<<` merge expects a mapping or a list of mappings",
                    hint="merge an anchored mapping: `<<: *common` (or `<<: [*a, *b]`)",
                    location=Location(self._filename, converted.line),
                )
            for key, value in converted.entries:
                merged.setdefault(key.text, (key, value))

    def _key(self, node: yaml.Node) -> Scalar:
        if not isinstance(node, yaml.ScalarNode):
            raise ConfigError(
                "a mapping key must be a plain value, not a list or a mapping",
                hint="quote the key or restructure this mapping",
                location=Location(self._filename, self._line(node)),
            )
        return self._scalar(node)

    def _duplicate(self, key: Scalar, first: Scalar) -> ConfigError:
        return ConfigError(
            f"duplicate key `{key.text}` in one mapping",
            hint=f"`{key.text}` is already set on line {first.line}; keep only one of them",
            location=Location(self._filename, key.line),
        )


def kind_name(node: Node | None) -> str:
    """How a value reads to a user: 'a string', 'a list', … (for type errors)."""
    if node is None:
        return "nothing"
    if isinstance(node, Seq):
        return "a list"
    if isinstance(node, Map):
        return "a mapping"
    value = node.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string"
