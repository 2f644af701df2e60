"""How Go values are represented in Python, and the Go names of their types.

Data is plain Python: dict (``map[string]interface {}``), list (``[]interface {}``), str, int, float, bool and
None (a nil interface). A few subclasses keep the Go type of values that sprig functions return, because Go's
type checks (``expected int; got int64``) and ``typeOf`` depend on it. ``MISSING`` is Go's invalid
``reflect.Value``: what a missing map key or a nil pipeline result evaluates to (it prints ``<no value>``).
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Final, TypeGuard


class _Missing:
    """Go's zero reflect.Value: no value at all (distinct from a nil interface, which is None)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


class Int64(int):
    """An int64 (sprig's math functions return int64, which Go will not pass where an int is expected)."""

    __slots__ = ()


class Uint8(int):
    """A byte, as ``index "abc" 0`` returns."""

    __slots__ = ()


class StrList(list[str]):
    """A ``[]string`` (splitList, keys, sortAlpha, regexFindAll, …)."""


class IntList(list[int]):
    """A ``[]int`` (until, untilStep)."""


class StrMap(dict[str, str]):
    """A ``map[string]string`` (split, splitn)."""


class AnyKeyMap(dict[object, object]):
    """A ``map[interface {}]interface {}``: what yaml.v2 decodes nested mappings into."""


_SCALAR_NAMES: Final = {
    bool: "bool",
    int: "int",
    Int64: "int64",
    Uint8: "uint8",
    float: "float64",
    complex: "complex128",
    str: "string",
    list: "[]interface {}",
    tuple: "[]interface {}",
    dict: "map[string]interface {}",
    StrList: "[]string",
    IntList: "[]int",
    StrMap: "map[string]string",
    AnyKeyMap: "map[interface {}]interface {}",
}

_KIND_NAMES: Final = {
    bool: "bool",
    int: "int",
    Int64: "int64",
    Uint8: "uint8",
    float: "float64",
    complex: "complex128",
    str: "string",
    list: "slice",
    tuple: "slice",
    dict: "map",
    StrList: "slice",
    IntList: "slice",
    StrMap: "map",
    AnyKeyMap: "map",
}


def type_name(value: object) -> str:
    """The Go type name, as ``%T`` and error messages print it."""
    name = _SCALAR_NAMES.get(type(value))
    if name is not None:
        return name
    if value is None:
        return "<nil>"
    go_name = getattr(value, "go_type_name", None)
    if isinstance(go_name, str):
        return go_name
    if callable(value):
        return "func"
    return f"*{type(value).__module__}.{type(value).__qualname__}"


def kind_name(value: object) -> str:
    """The reflect.Kind name (``kindOf``): ``invalid`` for nil."""
    if value is None or value is MISSING:
        return "invalid"
    kind = _KIND_NAMES.get(type(value))
    if kind is not None:
        return kind
    if callable(value):
        return "func"
    go_kind = getattr(value, "go_kind_name", None)
    return go_kind if isinstance(go_kind, str) else "ptr"


def is_int(value: object) -> TypeGuard[int]:
    """Any Go integer (int, int64, uint8), never a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_struct(value: object) -> bool:
    """A Python object that stands for a Go struct (its public attributes and methods are Go
    fields/methods)."""
    return (
        not isinstance(value, str | int | float | complex | list | tuple | dict | _Missing)
        and value is not None
    )


def struct_fields(value: object) -> list[object] | None:
    """The field values of a dataclass, for Go's ``{a b}`` struct printing."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]
    return None


def truth(value: object) -> bool:
    """Go's IsTrue: the zero value of a type is false; structs are always true."""
    if value is None or value is MISSING:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | complex | str | list | tuple | dict):
        return bool(value)
    return True


def is_method(receiver: object, name: str) -> bool:
    """A Go method is a function defined on the object's class; a callable stored on the instance is a
    func-valued field (templates call it with ``call``), as in Go."""
    if name in getattr(receiver, "__dict__", ()):
        return False
    attribute = inspect.getattr_static(type(receiver), name, None)
    if isinstance(attribute, staticmethod | classmethod):
        return True
    return inspect.isfunction(attribute) or (inspect.ismethoddescriptor(attribute) and callable(attribute))
