"""YAML the way Go's gopkg.in/yaml.v2 reads and writes it, on top of PyYAML.

Reading (werf's ``fromYaml``): yaml.v2's implicit typing (``y``/``n`` are booleans, ``1e3`` is a float, dates
stay strings, no sexagesimal numbers); nested mappings become ``map[interface {}]interface {}``. Writing
(``toYaml``, Helm/sigs.k8s.io style): the value goes through Go's JSON encoding first, then yaml.v2's emitter
rules: keys in yaml.v2's natural order, strings quoted only when yaml.v2 would read them back as something
else."""

from __future__ import annotations

import json
import math
import re
from functools import cmp_to_key
from typing import Any

import yaml

from .gofmt import format_float
from .gotypes import AnyKeyMap

_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUES = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_FALSES = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_HINTED_STARTS = frozenset("+-0123456789yYnNtTfFoO~.")
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_TIMESTAMP = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[Tt ]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[+-]\d{1,2}(?::\d{2})?)?)?"
)
_BASE60_FLOAT = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


def _parse_go_int(text: str) -> int | None:
    from .literals import parse_int

    value = parse_int(text)
    if value is None:
        value = parse_int(text, signed=False)
    return value


def resolve_plain(text: str) -> tuple[str, object]:
    """yaml.v2's resolve("", text): the tag ("null", "bool", "int", "float", "timestamp", "merge", "str")."""
    if text in _NULLS:
        return "null", None
    if text in _TRUES:
        return "bool", True
    if text in _FALSES:
        return "bool", False
    if text in _SPECIAL_FLOATS:
        return "float", _SPECIAL_FLOATS[text]
    first = text[:1]
    if first and first not in _HINTED_STARTS:
        return "str", text  # yaml.v2 only looks values up when the first character can start one
    if text == "<<":
        return "merge", text
    if first == ".":
        return _resolve_dot(text)
    if first and (first in "+-" or first.isdigit()):
        return _resolve_number(text)
    return "str", text


def _resolve_dot(text: str) -> tuple[str, object]:
    if _YAML_FLOAT.fullmatch(text):
        return "float", float(text)
    return "str", text


def _resolve_number(text: str) -> tuple[str, object]:
    if _TIMESTAMP.fullmatch(text):
        return "timestamp", text
    plain = text.replace("_", "")
    value = _parse_go_int(plain) if "__" not in plain else None
    if value is not None:
        return "int", value
    if _YAML_FLOAT.fullmatch(plain):
        return "float", float(plain)
    for prefix, sign in (("0b", 1), ("-0b", -1)):
        if plain.startswith(prefix) and plain[len(prefix) :] and set(plain[len(prefix) :]) <= {"0", "1"}:
            return "int", sign * int(plain[len(prefix) :], 2)
    return "str", text


# --- reading
# ---------------------------------------------------------------------------------------------------


class _GoLoader(yaml.SafeLoader):
    """SafeLoader with yaml.v2's implicit resolution of plain scalars."""


_GoLoader.yaml_implicit_resolvers = {}
_GoLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_scalar(loader: _GoLoader, node: yaml.ScalarNode) -> object:
    if node.style is not None:  # quoted or block: always a string
        return node.value
    tag, value = resolve_plain(node.value)
    return node.value if tag in ("timestamp", "merge") else value


def _construct_mapping(loader: _GoLoader, node: yaml.MappingNode) -> AnyKeyMap:
    loader.flatten_mapping(node)
    result = AnyKeyMap()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict):
            raise yaml.constructor.ConstructorError(None, None, "invalid map key", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_GoLoader.add_constructor("tag:yaml.org,2002:str", _construct_scalar)
_GoLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


_LIBYAML_PROBLEMS = (
    ("expected the node content", "did not find expected node content"),
    ("expected <block end>", "did not find expected key"),
    ("mapping values are not allowed here", "mapping values are not allowed in this context"),
    ("could not find expected ':'", "could not find expected ':'"),
    ("that cannot start any token", "found character that cannot start any token"),
    ("expected ',' or ']'", "did not find expected ',' or ']'"),
    ("expected ',' or '}'", "did not find expected ',' or '}'"),
    ("found unexpected end of stream", "found unexpected end of stream"),
    ("found unknown escape character", "found unknown escape character"),
)


def _error_line(err: yaml.YAMLError, text: str) -> int:
    """yaml.v2's choice of line: a scanner error's problem line + 1, a parser error's 0-based problem line
    (libyaml moves the stream end to a new line), else the context line; 0 means none."""
    mark = getattr(err, "problem_mark", None)
    context = getattr(err, "context_mark", None)
    line = 0
    if mark is not None:
        line = mark.line
        if isinstance(err, yaml.scanner.ScannerError):
            line = line + 1 if line != 0 else 0
        elif mark.index >= len(text) and mark.column != 0:
            line += 1
    if line == 0 and context is not None:
        line = context.line
    return line


def _go_yaml_error(err: yaml.YAMLError, text: str) -> str:
    """PyYAML's error in libyaml's words (yaml.v2 wraps libyaml): ``yaml: line N: problem``."""
    problem = getattr(err, "problem", None) or str(err)
    for pyyaml_text, libyaml_text in _LIBYAML_PROBLEMS:
        if pyyaml_text in problem:
            problem = libyaml_text
            break
    line = _error_line(err, text)
    return f"yaml: line {line}: {problem}" if line else f"yaml: {problem}"


def from_yaml_map(text: str) -> dict[str, object]:
    """werf's fromYaml: yaml.v2 Unmarshal into map[string]interface{} (ValueError with yaml.v2-like text)."""
    try:
        document = yaml.load(text, Loader=_GoLoader)
    except yaml.YAMLError as err:
        raise ValueError(_go_yaml_error(err, text)) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        problem = f"cannot unmarshal {_describe(document)} into map[string]interface {{}}"
        raise ValueError(f"yaml: unmarshal errors:\n  line 1: {problem}")
    return {_key_string(k): v for k, v in document.items()}


def _describe(value: object) -> str:
    """yaml.v2's "!!tag `value`" (sequences have no value shown; long values are cut to 7 chars + "...")."""
    if isinstance(value, list):
        return "!!seq"
    tag = {bool: "!!bool", int: "!!int", float: "!!float"}.get(type(value), "!!str")
    text = value if isinstance(value, str) else json.dumps(value)
    return f"{tag} `{text if len(text) <= 10 else text[:7] + '...'}`"


def _key_string(key: object) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return format_float(key)
    return "" if key is None else str(key)


# --- writing
# ---------------------------------------------------------------------------------------------------


def _is_letter(ch: str) -> bool:
    return ch.isalpha()


def _digits_at(text: str, start: int) -> tuple[int, int]:
    end = start
    while end < len(text) and text[end].isdecimal():
        end += 1
    return (int(text[start:end]) if end > start else 0), end


def _natural_less(a: str, b: str) -> bool:
    """yaml.v2's keyList.Less for two string keys: letters by code point, digit runs by value."""
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            continue
        a_letter, b_letter = _is_letter(a[i]), _is_letter(b[i])
        if a_letter and b_letter:
            return a[i] < b[i]
        if a_letter or b_letter:
            return b_letter
        an, ai = _digits_at(a, i)
        bn, bi = _digits_at(b, i)
        if (a[i] == "0" or b[i] == "0") and any(c != "0" for c in _leading_digits(a, i)):
            an, bn = int("1" + a[i:ai] or "1"), int("1" + b[i:bi] or "1")
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return a[i] < b[i]
    return len(a) < len(b)


def _leading_digits(text: str, end: int) -> str:
    start = end
    while start > 0 and text[start - 1].isdecimal():
        start -= 1
    return text[start:end]


def _compare_keys(a: str, b: str) -> int:
    return -1 if _natural_less(a, b) else 1 if _natural_less(b, a) else 0


class _GoDumper(yaml.SafeDumper):
    """Emitter settings of yaml.v2: 2-space indent, 80-column folding, unicode kept, yaml.v2 scalar styles."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: _GoDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        style: str | None = "|"
    elif resolve_plain(value)[0] == "str" and not _BASE60_FLOAT.fullmatch(value):
        style = None
    else:
        style = '"'
    return yaml.ScalarNode("tag:yaml.org,2002:str", value, style=style)


def _represent_float(dumper: _GoDumper, value: float) -> yaml.ScalarNode:
    text = {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(format_float(value), format_float(value))
    return yaml.ScalarNode("tag:yaml.org,2002:float", text)


def _represent_dict(dumper: _GoDumper, value: dict[str, object]) -> yaml.MappingNode:
    keys = sorted(value, key=cmp_to_key(_compare_keys))
    return dumper.represent_mapping("tag:yaml.org,2002:map", [(k, value[k]) for k in keys])


_GoDumper.add_representer(str, _represent_str)
_GoDumper.add_representer(float, _represent_float)
_GoDumper.add_representer(dict, _represent_dict)


def _resolve_for_dump(self: _GoDumper, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
    """The tag yaml.v2 gives a plain scalar; PyYAML quotes strings whose plain form resolves otherwise."""
    if kind is yaml.ScalarNode and implicit[0]:
        return "tag:yaml.org,2002:" + resolve_plain(value)[0]
    tag: str = yaml.SafeDumper.resolve(self, kind, value, implicit)  # type: ignore[no-untyped-call]
    return tag


_GoDumper.resolve = _resolve_for_dump  # type: ignore[method-assign,assignment]


def to_yaml(value: object) -> str:
    """Helm's toYaml: Go JSON, then yaml.v2 Marshal, without the trailing newline; "" if JSON fails."""
    from .gojson import JsonError, encode

    try:
        document = json.loads(encode(value, escape_html=False))
    except JsonError:
        return ""
    text = yaml.dump(document, Dumper=_GoDumper, allow_unicode=True, default_flow_style=False, width=80)
    text = text.removesuffix("...\n")
    return text.removesuffix("\n")
