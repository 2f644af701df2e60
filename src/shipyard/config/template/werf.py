"""The functions werf adds to sprig for werf.yaml (werf's pkg/config/parser.go): include, tpl, required,
fromYaml, and the ``*_debug`` helpers (which render nothing extra outside werf's debug mode)."""

from __future__ import annotations

import zlib
from collections.abc import Callable

from .errors import GoError
from .goyaml import from_yaml_map
from .template import TemplateSet


def tpl_name(text: str) -> str:
    """werf names every ``tpl`` template after the adler32 checksum of its text."""
    return f"tpl-{zlib.adler32(text.encode('utf-8', 'surrogateescape'))}"


def werf_functions(templates: TemplateSet) -> dict[str, Callable[..., object]]:
    def include(name: str, data: object) -> str:
        return templates.execute(name, data)

    def tpl(text: str, data: object) -> str:
        name = tpl_name(text)
        # werf re-parses on every call; a text without definitions parses to the same tree, so reuse it.
        if not (templates.source_of(name) == text and "define" not in text and "block" not in text):
            templates.parse(name, text)
        return templates.execute(name, data)

    def required(msg: str, val: object) -> object:
        if val is None or (val == "" and isinstance(val, str)):
            raise GoError(msg)
        return val

    def from_yaml(text: str) -> dict[str, object]:
        try:
            return from_yaml_map(text)
        except ValueError as err:
            raise GoError(str(err)) from None

    def printf_debug(fmt: str, *args: object) -> str:
        return ""

    def dump_debug(value: object) -> str:
        return ""

    return {
        "include": include,
        "tpl": tpl,
        "required": required,
        "fromYaml": from_yaml,
        "include_debug": include,
        "tpl_debug": tpl,
        "printf_debug": printf_debug,
        "dump_debug": dump_debug,
    }
