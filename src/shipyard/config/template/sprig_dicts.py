"""sprig's dictionary functions (dict.go), with imdario/mergo's merge rules for merge / mergeOverwrite."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .errors import GoError
from .gostrings import strval
from .gotypes import MISSING, StrList, type_name
from .signature import Map

_NIL_MAP_WRITE = "assignment to entry in nil map"


def dict_(*values: object) -> dict[str, object]:
    result: dict[str, object] = {}
    for i in range(0, len(values), 2):
        key = strval(values[i]) if values[i] is not None else "<nil>"
        result[key] = values[i + 1] if i + 1 < len(values) else ""
    return result


def get(d: Map, key: str) -> object:
    if d is None:
        return ""
    return d.get(key, "")


def set_(d: Map, key: str, value: object) -> dict[str, Any]:
    if d is None:
        raise GoError(_NIL_MAP_WRITE)
    d[key] = value
    return d


def unset(d: Map, key: str) -> dict[str, Any]:
    if d is not None:
        d.pop(key, None)
    return d if d is not None else {}


def has_key(d: Map, key: str) -> bool:
    return d is not None and key in d


def pluck(key: str, *dicts: Map) -> list[object]:
    return [d[key] for d in dicts if d is not None and key in d]


def keys(*dicts: Map) -> StrList:
    return StrList(k for d in dicts if d is not None for k in d)


def pick(d: Map, *names: str) -> dict[str, object]:
    source = d or {}
    return {k: source[k] for k in names if k in source}


def omit(d: Map, *names: str) -> dict[str, object]:
    return {k: v for k, v in (d or {}).items() if k not in names}


def values(d: Map) -> list[object]:
    return list((d or {}).values())


def _is_empty_value(value: object) -> bool:
    """mergo's isEmptyValue: zero values and nil count as empty (so merge may fill them)."""
    if value is None or value is MISSING:
        return True
    if isinstance(value, bool | int | float | str | list | tuple | dict):
        return not value
    return False


def _merge_into(dst: dict[Any, Any], src: dict[Any, Any], overwrite: bool) -> None:
    """mergo's deepMerge for two maps of interface{} values."""
    for key, src_value in src.items():
        present = key in dst
        dst_value = dst.get(key)
        if src_value is None:
            if overwrite:
                dst[key] = None
            continue
        if isinstance(src_value, dict) and isinstance(dst_value, dict):
            _merge_into(dst_value, src_value, overwrite)
        elif isinstance(src_value, list | tuple) and (overwrite or not dst):
            dst[key] = src_value  # mergo replaces slices when overwriting (or filling an empty map)
        if present and not _is_empty_value(dst_value) and isinstance(src_value, dict | list | tuple):
            continue
        if overwrite or not present or _is_empty_value(dst_value):
            dst[key] = src_value


def _merge(dst: Map, sources: tuple[Map, ...], overwrite: bool) -> object:
    if dst is None:  # mergo fills a nil destination map
        dst = {}
    for src in sources:
        if src is not None:
            _merge_into(dst, src, overwrite)
    return dst


def merge(dst: Map, *sources: Map) -> object:
    return _merge(dst, sources, overwrite=False)


def merge_overwrite(dst: Map, *sources: Map) -> object:
    return _merge(dst, sources, overwrite=True)


def deep_copy(value: object) -> object:
    if value is None or value is MISSING:
        raise GoError("reflect: call of reflect.Value.Type on zero Value")
    return copy.deepcopy(value)


def _dynamic_type(value: object) -> str:
    return "nil" if value is None or value is MISSING else type_name(value)


def _assert_map(value: object) -> dict[str, object]:
    """Go's ``value.(map[string]interface{})`` type assertion."""
    if type(value) is not dict:
        raise GoError(
            f"interface conversion: interface {{}} is {_dynamic_type(value)}, not map[string]interface {{}}"
        )
    return value


def dig(*args: object) -> object:
    """sprig's dig KEY… DEFAULT DICT (the type assertions happen before any lookup, as in sprig)."""
    if len(args) < 3:
        raise GoError("dig needs at least three arguments")
    current = _assert_map(args[-1])
    keys = args[:-2]
    for key in keys:
        if not isinstance(key, str):
            raise GoError(f"interface conversion: interface {{}} is {_dynamic_type(key)}, not string")
    for position, key in enumerate(keys):
        assert isinstance(key, str)
        if key not in current:
            return args[-2]
        if position == len(keys) - 1:
            return current[key]
        current = _assert_map(current[key])
    return current


FUNCTIONS: dict[str, Callable[..., object]] = {
    "dict": dict_,
    "get": get,
    "set": set_,
    "unset": unset,
    "hasKey": has_key,
    "pluck": pluck,
    "keys": keys,
    "pick": pick,
    "omit": omit,
    "merge": merge,
    "mergeOverwrite": merge_overwrite,
    "mustMerge": merge,
    "mustMergeOverwrite": merge_overwrite,
    "values": values,
    "deepCopy": deep_copy,
    "mustDeepCopy": deep_copy,
    "dig": dig,
}
