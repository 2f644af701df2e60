"""Python stand-ins for the data of Go's text/template exec_test.go (``tVal`` of type ``*T``).

Go structs become objects whose public attributes are fields and whose methods have Go names; maps with
non-string keys, pointers, channels and complex numbers have no equivalent and their cases are not ported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shipyard.config.template import GoError


@dataclass
class U:
    V: str

    def TrueFalse(self, b: bool) -> str:
        return "true" if b else ""

    def go_string(self) -> str:
        return "{" + self.V + "}"


@dataclass
class V:
    j: int

    def String(self) -> str:
        return f"<{self.j}>"

    def go_string(self) -> str:
        return self.String()


@dataclass
class T:
    """Go's exec_test.go T, restricted to what the Python value model can express."""

    True_: bool = True
    I: int = 17  # noqa: E741 - Go's field name
    U16: int = 16
    X: str = "x"
    S: str = "xyz"
    FloatZero: float = 0.0
    U: Any = field(default_factory=lambda: U("v"))
    V0: Any = field(default_factory=lambda: V(6666))
    V1: Any = field(default_factory=lambda: V(7777))
    SI: list[int] = field(default_factory=lambda: [3, 4, 5])
    SICap: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])
    SIEmpty: list[int] = field(default_factory=list)
    SB: list[bool] = field(default_factory=lambda: [True, False])
    AI: list[int] = field(default_factory=lambda: [3, 4, 5])
    MSI: dict[str, int] = field(default_factory=lambda: {"one": 1, "two": 2, "three": 3})
    MSIone: dict[str, int] = field(default_factory=lambda: {"one": 1})
    MSIEmpty: dict[str, int] = field(default_factory=dict)
    SMSI: list[dict[str, int]] = field(
        default_factory=lambda: [{"one": 1, "two": 2}, {"eleven": 11, "twelve": 12}]
    )
    Empty0: Any = None
    Empty1: Any = 3
    Empty2: Any = "empty2"
    Empty3: Any = field(default_factory=lambda: [7, 8])
    Empty4: Any = field(default_factory=lambda: U("UinEmpty"))

    def __getattr__(self, name: str) -> Any:
        if name == "True":
            return self.True_
        raise AttributeError(name)

    def Method0(self) -> str:
        return "M0"

    def Method1(self, a: int) -> int:
        return a

    def Method2(self, a: int, b: str) -> str:
        return f"Method2: {a} {b}"

    def Method3(self, v: object) -> str:
        from shipyard.config.template.gofmt import format_value

        return f"Method3: {format_value(v)}"

    def Copy(self) -> T:
        return T(X=self.X)

    def MAdd(self, a: int, b: object) -> list[int]:
        assert isinstance(b, list)
        return [a + x for x in b]

    def MyError(self, error: bool) -> bool:
        if error:
            raise GoError("myerror")
        return False

    def GetU(self) -> U:
        return self.U

    BinaryFunc: Any = field(default_factory=lambda: _binary_func)
    VariadicFunc: Any = field(default_factory=lambda: _variadic_func)
    VariadicFuncInt: Any = field(default_factory=lambda: _variadic_func_int)
    ErrFunc: Any = field(default_factory=lambda: _err_func)
    NilOKFunc: Any = field(default_factory=lambda: _nil_ok_func)


def _binary_func(a: str, b: str) -> str:
    return f"[{a}={b}]"


def _variadic_func(*s: str) -> str:
    return "<" + "+".join(s) + ">"


def _variadic_func_int(a: int, *s: str) -> str:
    return f"{a}=<" + "+".join(s) + ">"


def _err_func() -> str:
    return "bla"


def _nil_ok_func(s: object) -> bool:
    return s is None


def _count(n: int) -> list[str]:
    return list("abcdefghijklmnop"[:n])


def _makemap(*args: str) -> dict[str, str]:
    if len(args) % 2:
        raise GoError("bad makemap")
    return dict(zip(args[::2], args[1::2], strict=True))


def _die() -> bool:
    raise GoError("die")


def _add(*args: int) -> int:
    return sum(args)


def _dddarg(a: int, *b: str) -> str:
    return f"{a} [{' '.join(b)}]\n"


def _zero_args() -> str:
    return "zeroArgs"


def _one_arg(a: str) -> str:
    return "oneArg=" + a


def _two_args(a: str, b: str) -> str:
    return "twoArgs=" + a + b


def _value_string(v: str) -> str:
    return "value is ignored"


def _return_int() -> int:
    return 7


def _echo(arg: object) -> object:
    return arg


def _map_of_three() -> object:
    return {"three": 3}


def _vfunc(a: object, b: object) -> str:
    return "vfunc"


def _type_of(arg: object) -> str:
    from shipyard.config.template.gotypes import type_name

    return type_name(arg)


FUNCS = {
    "add": _add,
    "count": _count,
    "dddArg": _dddarg,
    "die": _die,
    "echo": _echo,
    "makemap": _makemap,
    "mapOfThree": _map_of_three,
    "oneArg": _one_arg,
    "returnInt": _return_int,
    "twoArgs": _two_args,
    "typeOf": _type_of,
    "valueString": _value_string,
    "vfunc": _vfunc,
    "zeroArgs": _zero_args,
}


DATA: dict[str, Any] = {
    "tVal": T(),
    "nil": None,
    "0": 0,
    "13": 13,
    "15.1": 15.1,
    "true": True,
    '"hello"': "hello",
    'map[string]int{"two": 22}': {"two": 22},
    "123": 123,
    "`It'd be nice.`": "It'd be nice.",
    'map[string]string{"cause": "neglect"}': {"cause": "neglect"},
    "'.'": ord("."),
    "'e'": ord("e"),
    "'P'": ord("P"),
}
