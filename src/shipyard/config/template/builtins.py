"""Go's predefined template functions (text/template/funcs.go): and, or, not, len, index, slice, comparisons,
print/printf/println, html, js, urlquery and call."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from .errors import GoError
from .gofmt import format_value, sprint, sprintln
from .goprintf import Flags, format_arg, sprintf
from .gotypes import MISSING, AnyKeyMap, StrMap, Uint8, is_int, kind_name, type_name
from .signature import ANY, GoFunc, GoType, Value, go_func


def _and(arg0: Value, *args: Value) -> object:  # evaluated with short-circuit by the executor
    raise AssertionError("unreachable")


def _or(arg0: Value, *args: Value) -> object:
    raise AssertionError("unreachable")


def _not(arg: Value) -> bool:
    from .gotypes import truth

    return not truth(arg)


def _length(item: Value) -> int:
    if item is None:
        raise GoError("len of nil pointer")
    if item is MISSING:
        raise GoError("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(item, str):
        return len(item.encode("utf-8", "surrogateescape"))
    if isinstance(item, list | tuple | dict):
        return len(item)
    raise GoError(f"len of type {type_name(item)}")


def _index_arg(index: object, cap: int) -> int:
    if index is None or index is MISSING:
        raise GoError("cannot index slice/array with nil")
    if not is_int(index):
        raise GoError(f"cannot index slice/array with type {type_name(index)}")
    assert isinstance(index, int)
    if index < 0 or index > cap:
        raise GoError(f"index out of range: {index}")
    return int(index)


def _map_lookup(item: dict[object, object], index: object) -> object:
    if isinstance(item, AnyKeyMap):
        return item.get(None if index is MISSING else index)
    if index is None or index is MISSING:
        raise GoError("value is nil; should be of type string")
    if not isinstance(index, str):
        raise GoError(f"value has type {type_name(index)}; should be string")
    if isinstance(item, StrMap):
        return item.get(index, "")
    return item.get(index)


def _index(item: Value, *indexes: Value) -> object:
    if item is None or item is MISSING:
        raise GoError("index of untyped nil")
    for position, index in enumerate(indexes):
        if item is None and position > 0:
            raise GoError("index of nil pointer")
        if isinstance(item, list | tuple | str):
            data = item.encode("utf-8", "surrogateescape") if isinstance(item, str) else item
            x = _index_arg(index, len(data))
            if x == len(data):
                kind = "string" if isinstance(item, str) else "slice"
                raise GoError(f"reflect: {kind} index out of range")
            item = Uint8(data[x]) if isinstance(data, bytes) else data[x]
        elif isinstance(item, dict):
            item = _map_lookup(item, index)
        else:
            raise GoError(f"can't index item of type {type_name(item)}")
    return item


def _slice(item: Value, *indexes: Value) -> object:
    if item is None or item is MISSING:
        raise GoError("slice of untyped nil")
    if len(indexes) > 3:
        raise GoError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise GoError("cannot 3-index slice a string")
        data: bytes | list[object] | tuple[object, ...] = item.encode("utf-8", "surrogateescape")
    elif isinstance(item, list | tuple):
        data = item
    else:
        raise GoError(f"can't slice item of type {type_name(item)}")
    bounds = [0, len(data), len(data)]
    for i, index in enumerate(indexes):
        bounds[i] = _index_arg(index, len(data))
    if bounds[0] > bounds[1]:
        raise GoError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    if len(indexes) == 3 and bounds[1] > bounds[2]:
        raise GoError(f"invalid slice index: {bounds[1]} > {bounds[2]}")
    part = data[bounds[0] : bounds[1]]
    if isinstance(part, bytes):
        return part.decode("utf-8", "surrogateescape")
    return type(item)(part) if isinstance(item, list) else list(part)


# --- comparisons (Go's basicKind rules) --------------------------------------------------------------------


def _basic_kind(value: object) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Uint8):
        return "uint"
    if is_int(value):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, complex):
        return "complex"
    if isinstance(value, str):
        return "string"
    return None


def _is_nil(value: object) -> bool:
    return value is None or value is MISSING


def _eq_one(arg1: object, k1: str | None, arg: object) -> bool:
    k2 = _basic_kind(arg)
    if k1 != k2:
        if {k1, k2} == {"int", "uint"}:
            return arg1 == arg
        if not _is_nil(arg1) and not _is_nil(arg):
            raise GoError("incompatible types for comparison")
        return False
    if k1 is not None:
        return arg1 == arg
    if _is_nil(arg1) or _is_nil(arg):
        return _is_nil(arg1) and _is_nil(arg)
    if kind_name(arg1) != kind_name(arg):
        first, second = format_arg(arg1, "s", Flags()), format_value(arg)
        raise GoError(f"non-comparable types {first}: {type_name(arg1)}, {type_name(arg)}: {second}")
    if isinstance(arg, list | tuple | dict) or callable(arg):
        raise GoError(f"non-comparable type {format_arg(arg, 's', Flags())}: {type_name(arg)}")
    return arg1 is arg


def _eq(arg1: Value, *arg2: Value) -> bool:
    if not arg2:
        raise GoError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    return any(_eq_one(arg1, k1, arg) for arg in arg2)


def _ne(arg1: Value, arg2: Value) -> bool:
    return not _eq(arg1, arg2)


def _lt(arg1: Value, arg2: Value) -> bool:
    k1, k2 = _basic_kind(arg1), _basic_kind(arg2)
    if k1 is None or k2 is None:
        raise GoError("invalid type for comparison")
    if k1 != k2:
        if {k1, k2} == {"int", "uint"}:
            return bool(arg1 < arg2)  # type: ignore[operator]
        raise GoError("incompatible types for comparison")
    if k1 in ("bool", "complex"):
        raise GoError("invalid type for comparison")
    return bool(arg1 < arg2)  # type: ignore[operator]


def _le(arg1: Value, arg2: Value) -> bool:
    return _lt(arg1, arg2) or _eq(arg1, arg2)


def _gt(arg1: Value, arg2: Value) -> bool:
    return not _le(arg1, arg2)


def _ge(arg1: Value, arg2: Value) -> bool:
    return not _lt(arg1, arg2)


# --- printing and escaping ---------------------------------------------------------------------------------


def _print(*args: object) -> str:
    return sprint(list(args))


def _printf(fmt: str, *args: object) -> str:
    return sprintf(fmt, list(args))


def _println(*args: object) -> str:
    return sprintln(list(args))


def eval_args(args: tuple[object, ...]) -> str:
    """Go's evalArgs: a lone string as is, otherwise fmt.Sprint with nil shown as <no value>."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(["<no value>" if a is None else a for a in args])


_HTML_ESCAPES = {"\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _html(*args: object) -> str:
    return "".join(_HTML_ESCAPES.get(c, c) for c in eval_args(args))


_JS_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def _js_char(ch: str) -> str:
    if ch in _JS_ESCAPES:
        return _JS_ESCAPES[ch]
    code = ord(ch)
    if code < 0x20:
        return f"\\u00{code:02X}"
    if code >= 0x80 and not ch.isprintable():
        return f"\\u{code:04X}"
    return ch


def _js(*args: object) -> str:
    return "".join(_js_char(c) for c in eval_args(args))


def _urlquery(*args: object) -> str:
    return urllib.parse.quote_plus(eval_args(args), safe="-_.~")


def _call(fn: Value, *args: Value) -> object:
    if fn is None or fn is MISSING:
        raise GoError("call of nil")
    if not callable(fn):
        raise GoError(f"non-function of type {type_name(fn)}")
    signature = go_func(fn)
    if signature.variadic is not None and len(args) < signature.fixed:
        raise GoError(f"wrong number of args: got {len(args)} want at least {signature.fixed}")
    if signature.variadic is None and len(args) != signature.fixed:
        raise GoError(f"wrong number of args: got {len(args)} want {signature.fixed}")
    argv = [_prepare_arg(arg, signature.param_type(i), i) for i, arg in enumerate(args)]
    return fn(*argv)


def _prepare_arg(value: object, typ: GoType, position: int) -> object:
    if value is MISSING or value is None:
        if not typ.nilable:
            raise GoError(f"arg {position}: value is nil; should be of type {typ.name}")
        return None
    if typ is ANY or typ.accepts(value) or (is_int(value) and typ.literal == "int"):
        return value
    raise GoError(f"arg {position}: value has type {type_name(value)}; should be {typ.name}")


_BUILTIN_FUNCTIONS: dict[str, Callable[..., object]] = {
    "and": _and,
    "call": _call,
    "html": _html,
    "index": _index,
    "slice": _slice,
    "js": _js,
    "len": _length,
    "not": _not,
    "or": _or,
    "print": _print,
    "printf": _printf,
    "println": _println,
    "urlquery": _urlquery,
    "eq": _eq,
    "ge": _ge,
    "gt": _gt,
    "le": _le,
    "lt": _lt,
    "ne": _ne,
}
BUILTINS: dict[str, GoFunc] = {name: go_func(fn) for name, fn in _BUILTIN_FUNCTIONS.items()}

__all__ = ["BUILTINS", "eval_args", "format_value"]
