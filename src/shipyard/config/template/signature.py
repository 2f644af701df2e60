"""Go function signatures for Python callables.

Go's executor converts constants and checks every argument against the function's parameter types (``expected
integer; found "x"``, ``wrong type for value; expected string; got int``). Template functions are plain Python
callables; their annotations say which Go type each parameter has: ``str`` → string, ``int`` → int, ``Int64``
→ int64, ``float`` → float64, ``bool`` → bool, ``Map`` → ``map[string]interface {}``, ``GoTime`` → time.Time,
``Value`` → a raw value (missing values stay MISSING, like reflect.Value), anything else → interface{}. A
``*args`` parameter makes the function variadic."""

from __future__ import annotations

import contextlib
import inspect
import typing
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from .gotypes import Int64


@dataclass(frozen=True, slots=True)
class GoType:
    """A parameter type: its Go name, which constants convert to it, and whether nil fits."""

    name: str
    literal: str  # "any", "string", "int", "float", "bool" or "none" (no constant converts)
    nilable: bool
    accepts: Callable[[object], bool]


ANY = GoType("interface {}", "any", True, lambda v: True)
VALUE = GoType("reflect.Value", "any", True, lambda v: True)
STRING = GoType("string", "string", False, lambda v: type(v) is str)
INT = GoType("int", "int", False, lambda v: type(v) is int)
INT64 = GoType("int64", "int", False, lambda v: type(v) is Int64)
FLOAT64 = GoType("float64", "float", False, lambda v: type(v) is float)
BOOL = GoType("bool", "bool", False, lambda v: type(v) is bool)
MAP = GoType("map[string]interface {}", "none", True, lambda v: type(v) is dict)
TIME = GoType("time.Time", "none", False, lambda v: type(v).__name__ == "GoTime")

Map = dict[str, Any]
VALUE_MARKER = "reflect.Value"
Value = Annotated[object, VALUE_MARKER]
"""Annotation for builtins that take reflect.Value (they see MISSING rather than nil)."""

_BY_ANNOTATION: dict[object, GoType] = {
    str: STRING,
    int: INT,
    Int64: INT64,
    float: FLOAT64,
    bool: BOOL,
    Map: MAP,
}


def _go_type(annotation: object) -> GoType:
    if VALUE_MARKER in getattr(annotation, "__metadata__", ()):
        return VALUE
    if annotation in _BY_ANNOTATION:
        return _BY_ANNOTATION[annotation]
    if getattr(annotation, "__name__", "") == "GoTime":
        return TIME
    if typing.get_origin(annotation) is dict:
        return MAP
    return ANY


@dataclass(frozen=True, slots=True)
class GoFunc:
    """A callable with the Go signature the executor checks calls against."""

    fn: Callable[..., object]
    params: tuple[GoType, ...]
    variadic: GoType | None

    @property
    def fixed(self) -> int:
        return len(self.params)

    def param_type(self, index: int) -> GoType:
        if index < len(self.params):
            return self.params[index]
        assert self.variadic is not None
        return self.variadic


def _hints(fn: Callable[..., object]) -> dict[str, object]:
    target = getattr(fn, "__func__", fn)
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:  # unresolvable annotations: treat every parameter as interface{}
        return {}


_CACHE: weakref.WeakKeyDictionary[object, GoFunc] = weakref.WeakKeyDictionary()


def go_func(fn: Callable[..., object]) -> GoFunc:
    """The Go signature of ``fn`` (cached per underlying function)."""
    key = getattr(fn, "__func__", fn)
    try:
        cached = _CACHE.get(key)
    except TypeError:  # not weakly referenceable (a builtin): compute every time
        cached = None
    if cached is not None:
        return cached if cached.fn is fn else GoFunc(fn, cached.params, cached.variadic)
    hints = _hints(fn)
    params: list[GoType] = []
    variadic: GoType | None = None
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
        variadic = ANY
    for p in parameters:
        if p.kind == p.VAR_POSITIONAL:
            variadic = _go_type(hints.get(p.name, object))
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            params.append(_go_type(hints.get(p.name, object)))
    result = GoFunc(fn, tuple(params), variadic)
    with contextlib.suppress(TypeError):  # not weakly referenceable: not cached
        _CACHE[key] = result
    return result
