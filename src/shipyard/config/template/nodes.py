"""Parse-tree nodes (Go's text/template/parse/node.go). ``str(node)`` is Go's ``String()``, which error
messages quote as the context ``at <…>``."""

from __future__ import annotations

from dataclasses import dataclass, field

from .literals import parse_float, parse_int, unquote_char


class Node:
    __slots__ = ("pos",)
    pos: int


@dataclass(slots=True, eq=False)
class TextNode(Node):
    pos: int
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(slots=True, eq=False)
class CommentNode(Node):
    pos: int
    text: str

    def __str__(self) -> str:
        return "{{" + self.text + "}}"


@dataclass(slots=True, eq=False)
class ListNode(Node):
    pos: int
    nodes: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


@dataclass(slots=True, eq=False)
class IdentifierNode(Node):
    pos: int
    ident: str

    def __str__(self) -> str:
        return self.ident


@dataclass(slots=True, eq=False)
class VariableNode(Node):
    pos: int
    ident: list[str]

    def __str__(self) -> str:
        return ".".join(self.ident)


@dataclass(slots=True, eq=False)
class DotNode(Node):
    pos: int

    def __str__(self) -> str:
        return "."


@dataclass(slots=True, eq=False)
class NilNode(Node):
    pos: int

    def __str__(self) -> str:
        return "nil"


@dataclass(slots=True, eq=False)
class FieldNode(Node):
    pos: int
    ident: list[str]

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass(slots=True, eq=False)
class ChainNode(Node):
    pos: int
    node: Node
    field: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return head + "".join("." + f for f in self.field)


@dataclass(slots=True, eq=False)
class BoolNode(Node):
    pos: int
    true: bool

    def __str__(self) -> str:
        return "true" if self.true else "false"


@dataclass(slots=True, eq=False)
class StringNode(Node):
    pos: int
    quoted: str
    text: str

    def __str__(self) -> str:
        return self.quoted


@dataclass(slots=True, eq=False)
class NumberNode(Node):
    """A numeric constant with every interpretation Go's newNumber accepts (a rune is int, uint and float)."""

    pos: int
    text: str
    is_int: bool = False
    is_uint: bool = False
    is_float: bool = False
    is_complex: bool = False
    int64: int = 0
    uint64: int = 0
    float64: float = 0.0
    complex128: complex = 0j

    def __str__(self) -> str:
        return self.text


@dataclass(slots=True, eq=False)
class CommandNode(Node):
    pos: int
    args: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, PipeNode) else str(a) for a in self.args)


@dataclass(slots=True, eq=False)
class PipeNode(Node):
    pos: int
    line: int
    is_assign: bool = False
    decl: list[VariableNode] = field(default_factory=list)
    cmds: list[CommandNode] = field(default_factory=list)

    def __str__(self) -> str:
        # Go prints ":=" even for assignments.
        head = ", ".join(str(v) for v in self.decl) + " := " if self.decl else ""
        return head + " | ".join(str(c) for c in self.cmds)


@dataclass(slots=True, eq=False)
class ActionNode(Node):
    pos: int
    line: int
    pipe: PipeNode

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass(slots=True, eq=False)
class BranchNode(Node):
    """if / range / with: ``keyword`` names which."""

    keyword: str
    pos: int
    line: int
    pipe: PipeNode
    list: ListNode
    else_list: ListNode | None

    def __str__(self) -> str:
        text = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            text += "{{else}}" + str(self.else_list)
        return text + "{{end}}"


@dataclass(slots=True, eq=False)
class BreakNode(Node):
    pos: int
    line: int

    def __str__(self) -> str:
        return "{{break}}"


@dataclass(slots=True, eq=False)
class ContinueNode(Node):
    pos: int
    line: int

    def __str__(self) -> str:
        return "{{continue}}"


@dataclass(slots=True, eq=False)
class TemplateNode(Node):
    pos: int
    line: int
    name: str
    pipe: PipeNode | None

    def __str__(self) -> str:
        from .gofmt import go_quote

        tail = " " + str(self.pipe) if self.pipe is not None else ""
        return "{{template " + go_quote(self.name) + tail + "}}"


@dataclass(slots=True, eq=False)
class EndNode(Node):
    """Parse-internal: an ``{{end}}``."""

    pos: int

    def __str__(self) -> str:
        return "{{end}}"


@dataclass(slots=True, eq=False)
class ElseNode(Node):
    """Parse-internal: an ``{{else}}``."""

    pos: int
    line: int

    def __str__(self) -> str:
        return "{{else}}"


def new_number(pos: int, text: str, is_char: bool, is_complex_item: bool) -> NumberNode:
    """Go's Tree.newNumber: raises ValueError with Go's message for bad constants."""
    node = NumberNode(pos, text)
    if is_char:
        return _char_number(node, text)
    if is_complex_item:
        return _complex_number(node, text)
    if text.endswith("i"):
        imag = parse_float(text[:-1])
        if imag is not None:
            node.is_complex = True
            node.complex128 = complex(0, imag)
            _simplify_complex(node)
            return node
    _fill_number(node, text)
    if not (node.is_int or node.is_uint or node.is_float):
        raise ValueError(f"illegal number syntax: {_go_quote(text)}")
    return node


def _go_quote(text: str) -> str:
    from .gofmt import go_quote

    return go_quote(text)


def _char_number(node: NumberNode, text: str) -> NumberNode:
    try:
        rune, tail = unquote_char(text[1:], text[0])
    except ValueError:
        raise ValueError("invalid syntax") from None
    if tail != "'":
        raise ValueError(f"malformed character constant: {text}")
    code = ord(rune)
    node.is_int = node.is_uint = node.is_float = True
    node.int64 = node.uint64 = code
    node.float64 = float(code)
    return node


def _complex_number(node: NumberNode, text: str) -> NumberNode:
    split = max(text.rfind("+"), text.rfind("-"))
    real = parse_float(text[:split]) if split > 0 else None
    imag = parse_float(text[split:-1]) if split > 0 else None
    if real is None or imag is None:
        raise ValueError("expected integer")
    node.is_complex = True
    node.complex128 = complex(real, imag)
    _simplify_complex(node)
    return node


def _simplify_complex(node: NumberNode) -> None:
    node.is_float = node.complex128.imag == 0
    if node.is_float:
        node.float64 = node.complex128.real
        node.is_int = node.float64.is_integer() and -(2**63) <= node.float64 < 2**63
        if node.is_int:
            node.int64 = int(node.float64)
        node.is_uint = node.float64.is_integer() and 0 <= node.float64 < 2**64
        if node.is_uint:
            node.uint64 = int(node.float64)


def _fill_number(node: NumberNode, text: str) -> None:
    unsigned = parse_int(text, signed=False)
    if unsigned is not None:
        node.is_uint, node.uint64 = True, unsigned
    signed = parse_int(text)
    if signed is not None:
        node.is_int, node.int64 = True, signed
        if signed == 0:  # in case of -0
            node.is_uint, node.uint64 = True, 0
    if node.is_int:
        node.is_float, node.float64 = True, float(node.int64)
    elif node.is_uint:
        node.is_float, node.float64 = True, float(node.uint64)
    else:
        value = parse_float(text)
        if value is None:
            return
        if not any(c in text for c in ".eEpP"):
            raise ValueError(f"integer overflow: {_go_quote(text)}")
        node.is_float, node.float64 = True, value
        if value.is_integer() and -(2**63) <= value < 2**63:
            node.is_int, node.int64 = True, int(value)
        if value.is_integer() and 0 <= value < 2**64:
            node.is_uint, node.uint64 = True, int(value)
