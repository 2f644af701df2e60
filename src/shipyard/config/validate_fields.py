"""Typed, located reads of werf.yaml values with yaml.v2 UnmarshalStrict semantics and user-facing errors.

yaml.v2 puts a scalar's text into a string field whatever YAML type it resolves to (`cacheVersion: 1` is "1"),
but a bool/int field needs a real bool/int, and werf's "string or list of strings" directives
(`InterfaceToStringArray`) need real strings.
"""

from __future__ import annotations

import difflib
import math
import posixpath
from collections.abc import Collection

from shipyard.config.documents import Map, Node, Scalar, Seq, kind_name
from shipyard.config.model import FrozenMap, RawValue
from shipyard.errors import ConfigError, Location


class Fields:
    """Reads values out of one file's mappings; every error carries `file:line`."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def error(self, message: str, line: int | None, hint: str | None = None) -> ConfigError:
        return ConfigError(message, hint=hint, location=Location(self.filename, line))

    def check_keys(
        self, mapping: Map, allowed: Collection[str], section: str, suggest: Collection[str] = ()
    ) -> None:
        """yaml.v2 UnmarshalStrict: a key the section does not define is an error (first in file order).

        `suggest` widens the did-you-mean candidates (a typo in `dockerfile` makes a section Stapel)."""
        for key, _ in mapping.entries:
            if key.text not in allowed:
                typo = closest(key.text, {*allowed, *suggest})
                hint = f"did you mean `{typo}`?" if typo else known_keys(allowed)
                raise self.error(f"unknown key `{key.text}` in {section}", key.line, hint=hint)

    def string(self, mapping: Map, key: str) -> str:
        node = mapping.get(key)
        if node is None:
            return ""
        if not isinstance(node, Scalar):
            raise self._type_error(key, "a string", node)
        return "" if node.value is None else node.text

    def boolean(self, mapping: Map, key: str) -> bool | None:
        node = mapping.get(key)
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return None
        if not isinstance(node, Scalar) or not isinstance(node.value, bool):
            raise self._type_error(key, "a boolean (true or false)", node)
        return node.value

    def flag(self, mapping: Map, key: str) -> bool:
        return self.boolean(mapping, key) or False

    def integer(self, mapping: Map, key: str) -> int | None:
        node = mapping.get(key)
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return None
        if isinstance(node, Scalar) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, Scalar) and isinstance(node.value, float) and node.value.is_integer():
            return int(node.value)  # yaml.v2 accepts integral floats for int fields
        raise self._type_error(key, "a whole number", node)

    def mapping(self, mapping: Map, key: str) -> Map | None:
        node = mapping.get(key)
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return None
        if not isinstance(node, Map):
            raise self._type_error(key, "a mapping (`key: value` lines)", node)
        return node

    def sequence(self, mapping: Map, key: str) -> tuple[Node, ...]:
        node = mapping.get(key)
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return ()
        if not isinstance(node, Seq):
            raise self._type_error(key, "a list", node)
        return node.items

    def maps(self, mapping: Map, key: str) -> tuple[Map, ...]:
        """A list of mappings (`secrets`, `dependencies`, `git`, …); a `~` item reads as an empty mapping."""
        result: list[Map] = []
        for item in self.sequence(mapping, key):
            if isinstance(item, Scalar) and item.value is None:
                result.append(Map((), item.line))
            elif isinstance(item, Map):
                result.append(item)
            else:
                raise self.error(
                    f"each `{key}` entry must be a mapping (`key: value` lines), got {kind_name(item)}",
                    item.line,
                    hint="start each entry with `- ` and write its `name: value` lines below it",
                )
        return tuple(result)

    def string_list(self, mapping: Map, key: str) -> tuple[str, ...]:
        """A Go []string: every item is a scalar and keeps its text."""
        result: list[str] = []
        for item in self.sequence(mapping, key):
            if not isinstance(item, Scalar):
                raise self.error(f"`{key}` must be a list of strings, got {kind_name(item)} in it", item.line,
                                 hint="quote an item that contains `: ` or starts with `[`/`{`")
            result.append("" if item.value is None else item.text)
        return tuple(result)

    def strings(self, mapping: Map, key: str) -> tuple[str, ...]:
        """werf's InterfaceToStringArray: a string or a list of strings (real strings, not numbers)."""
        node = mapping.get(key)
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return ()
        items = node.items if isinstance(node, Seq) else (node,)
        for item in items:
            if not isinstance(item, Scalar) or not isinstance(item.value, str):
                raise self.error(
                    f"`{key}` must be a string or a list of strings, got {kind_name(item)}",
                    item.line,
                    hint="quote values that YAML would read as numbers or booleans",
                )
        return tuple(item.text for item in items if isinstance(item, Scalar))

    def string_map(self, mapping: Map, key: str) -> FrozenMap[str]:
        """A Go map[string]string: scalar values keep their text."""
        node = self.mapping(mapping, key)
        if node is None:
            return FrozenMap()
        result: dict[str, str] = {}
        for entry_key, value in node.entries:
            if not isinstance(value, Scalar):
                message = f"`{key}.{entry_key.text}` must be a string, got {kind_name(value)}"
                raise self.error(message, value.line, hint="quote the value to keep it as text")
            result[entry_key.text] = "" if value.value is None else value.text
        return FrozenMap(result)

    def _type_error(self, key: str, expected: str, node: Node) -> ConfigError:
        return self.error(
            f"`{key}` must be {expected}, got {kind_name(node)}",
            node.line,
            hint=_type_hint(key, expected, node),
        )

    def line_of(self, mapping: Map, key: str) -> int:
        """The line of a key's value (or of the mapping when the key is absent), for semantic errors."""
        node = mapping.get(key)
        return node.line if node is not None else mapping.line


def _type_hint(key: str, expected: str, node: Node) -> str:
    quoted = isinstance(node, Scalar) and isinstance(node.value, str)
    if expected.startswith("a boolean"):
        return "write true or false without quotes" if quoted else f"e.g. `{key}: true`"
    if expected == "a whole number":
        return "write the number without quotes" if quoted else f"e.g. `{key}: 1`"
    if expected == "a list":
        shown = node.text if isinstance(node, Scalar) else "VALUE"
        return f"write it as a list: `{key}: [{shown}]`, or one `- {shown}` item per line below `{key}:`"
    if expected.startswith("a mapping"):
        return f"write `name: value` lines indented below `{key}:`"
    return f'quote the value: `{key}: "…"`'


def closest(word: str, candidates: Collection[str]) -> str | None:
    """The candidate a typo most likely meant (difflib ratio ≥ 0.6), if any."""
    close = difflib.get_close_matches(word, sorted(set(candidates) - {word}), n=1, cutoff=0.6)
    return close[0] if close else None


def known_keys(allowed: Collection[str]) -> str:
    return "known keys here: " + ", ".join(f"`{name}`" for name in sorted(allowed))


def raw_value(node: Node | None) -> RawValue:
    """Plain immutable data for sections kept uninterpreted (deploy, cleanup keepPolicies, ansible)."""
    if node is None:
        return None
    if isinstance(node, Scalar):
        return node.value
    if isinstance(node, Seq):
        return tuple(raw_value(item) for item in node.items)
    return FrozenMap({key.text: raw_value(value) for key, value in node.entries})


def go_format(node: Node) -> str:
    """Go's fmt %v of the value yaml.v2 decodes into interface{} (werf passes Dockerfile `args` this way)."""
    if isinstance(node, Seq):
        return "[" + " ".join(go_format(item) for item in node.items) + "]"
    if isinstance(node, Map):
        pairs = sorted((key.text, go_format(value)) for key, value in node.entries)
        return "map[" + " ".join(f"{key}:{value}" for key, value in pairs) + "]"
    value = node.value
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value) if isinstance(value, int) else node.text


def go_float(value: float) -> str:
    """strconv.FormatFloat(v, 'g', -1, 64) as %v prints it: shortest digits, exponent from 1e+06, < 1e-04."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest_digits(abs(value))
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    whole, fraction = digits[: exponent + 1], digits[exponent + 1 :]
    return sign + whole.ljust(exponent + 1, "0") + ("." + fraction if fraction else "")


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip significant digits of a positive float and the decimal exponent of the first."""
    mantissa, _, exponent_text = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    significant = digits.lstrip("0")
    point = len(whole) + int(exponent_text or 0) - (len(digits) - len(significant))
    return significant.rstrip("0") or "0", point - 1


def clean_path(path: str) -> str:
    """Go path.Clean: slash form, no `.`/`..`/duplicate slashes ("" becomes ".")."""
    cleaned = posixpath.normpath(path) if path else "."
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def is_absolute(path: str) -> bool:
    return path.startswith("/")


def is_relative(path: str) -> bool:
    """werf's isRelativePath: not absolute and does not climb out of the directory it is relative to."""
    if is_absolute(path):
        return False
    inside = posixpath.normpath(posixpath.join("dir", path))
    return inside == "dir" or inside.startswith("dir/")
