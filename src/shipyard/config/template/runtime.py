"""What one execution shares and how its errors are located: the Lookup (templates, functions and the render's
budget), the Output buffer, the NO_ARG sentinel and the break/continue signals, and Go's error context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .limits import Budget
from .nodes import BranchNode, Node
from .signature import GoFunc
from .tokenstream import Tree


class _NoArg:
    def __repr__(self) -> str:
        return "NO_ARG"


NO_ARG: Final = _NoArg()
"""Go's ``missingVal``: no piped-in final argument."""


class Break(Exception):
    pass


class Continue(Exception):
    pass


class Lookup:
    """What the executor needs from the template set: templates and functions by name, and the budget of
    the render in progress."""

    def __init__(
        self,
        trees: Mapping[str, Tree],
        functions: Mapping[str, GoFunc],
        builtins: Mapping[str, GoFunc],
        budget: Budget,
    ) -> None:
        self.trees = trees
        self.functions = functions
        self.builtins = builtins
        self.budget = budget


class Output(list[str]):
    """The pieces one execution writes, with their total length (checked against MAX_OUTPUT_SIZE)."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        super().__init__()
        self.size = 0


def error_context(tree: Tree, node: Node) -> tuple[str, str]:
    """Go's Tree.ErrorContext: ``NAME:LINE:COL`` (COL in bytes from the line start) and the node's text."""
    return error_location(tree, node), str(node)


def error_location(tree: Tree, node: Node) -> str:
    before = tree.text[: node.pos]
    newline = before.rfind("\n")
    column = len(before[newline + 1 :].encode("utf-8", "surrogateescape"))
    return f"{tree.parse_name}:{before.count(chr(10)) + 1}:{column}"


def short_context(node: Node) -> str:
    """The node's text for limit errors: a block by its opening action, anything else cut at 80 characters."""
    text = "{{" + node.keyword + " " + str(node.pipe) + "}}" if isinstance(node, BranchNode) else str(node)
    return text if len(text) <= 80 else text[:77] + "..."
