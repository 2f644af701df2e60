"""The executor: the walking half of Go's text/template/exec.go (actions, if/with, range, template)."""

from __future__ import annotations

import inspect

from .evaluate import MAX_EXEC_DEPTH, NO_ARG, Break, Continue, Evaluator, Lookup
from .gofmt import format_value, go_quote, sort_map_keys
from .gotypes import MISSING, AnyKeyMap, is_int, truth, type_name
from .nodes import (
    ActionNode,
    BranchNode,
    BreakNode,
    CommentNode,
    ContinueNode,
    ListNode,
    Node,
    TemplateNode,
    TextNode,
)

__all__ = ["Lookup", "State"]


class State(Evaluator):
    """One execution of one template (Go's ``state``); template calls run in a fresh State."""

    # --- walking ------------------------------------------------------------------------------------------

    def walk(self, dot: object, node: Node) -> None:
        self.node = node
        kind = type(node)
        if kind is TextNode:
            assert isinstance(node, TextNode)
            self.out.append(node.text)
        elif kind is ActionNode:
            assert isinstance(node, ActionNode)
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, value)
        elif kind is ListNode:
            assert isinstance(node, ListNode)
            for child in node.nodes:
                self.walk(dot, child)
        elif kind is BranchNode:
            assert isinstance(node, BranchNode)
            if node.keyword == "range":
                self.walk_range(dot, node)
            else:
                self.walk_if_or_with(dot, node)
        elif kind is TemplateNode:
            assert isinstance(node, TemplateNode)
            self.walk_template(dot, node)
        elif kind is BreakNode:
            raise Break
        elif kind is ContinueNode:
            raise Continue
        elif kind is not CommentNode:
            raise self.errorf(f"unknown node: {node}")

    def print_value(self, node: Node, value: object) -> None:
        self.node = node
        if value is MISSING:
            self.out.append("<no value>")
        elif isinstance(value, str):
            self.out.append(value)
        elif inspect.isroutine(value):
            raise self.errorf(f"can't print {node} of type {type_name(value)}")
        else:
            self.out.append(format_value(value))

    def walk_if_or_with(self, dot: object, node: BranchNode) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if truth(value) and node.keyword == "with":
                saved, self.boxed_dot = self.boxed_dot, NO_ARG  # with's dot is a pipeline value: unwrapped
                try:
                    self.walk(value, node.list)
                finally:
                    self.boxed_dot = saved
            elif truth(value):
                self.walk(dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: object, node: BranchNode) -> None:
        self.node = node
        outer = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            items = self._range_items(node, value)
            if items:
                self._iterate(node, items, type(value) in (list, tuple, dict, AnyKeyMap))
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        except Break:
            pass
        finally:
            del self.vars[outer:]

    def _range_items(self, node: BranchNode, value: object) -> list[tuple[object, object]]:
        if value is MISSING or value is None:
            return []
        if isinstance(value, list | tuple):
            return list(enumerate(value))
        if isinstance(value, dict):
            return [(k, value[k]) for k in sort_map_keys(list(value))]
        if is_int(value):
            # Go 1.22: ranging over an integer n yields 0..n-1, and only one variable may be declared.
            if len(node.pipe.decl) > 1:
                raise self.errorf(f"can't use {format_value(value)} to iterate over more than one variable")
            return [(i, i) for i in range(int(value))]
        raise self.errorf(f"range can't iterate over {format_value(value)}")

    def _iterate(self, node: BranchNode, items: list[tuple[object, object]], boxed: bool) -> None:
        decl = node.pipe.decl
        mark = len(self.vars)
        saved_boxed_dot = self.boxed_dot
        for index, elem in items:
            self.boxed_dot = elem if boxed else NO_ARG
            if decl:
                self._set_range_vars(node, index, elem, boxed)
            try:
                self.walk(elem, node.list)
            except Continue:
                pass
            finally:
                del self.vars[mark:]
                self.boxed_dot = saved_boxed_dot

    def _set_range_vars(self, node: BranchNode, index: object, elem: object, boxed: bool) -> None:
        """With two variables the index comes first; with one, it gets the element (Go's oneIteration)."""
        decl = node.pipe.decl
        if node.pipe.is_assign:
            if len(decl) > 1:
                self.set_var(decl[0].ident[0], index)
                self.set_var(decl[1].ident[0], elem, boxed)
            else:
                self.set_var(decl[0].ident[0], elem, boxed)
            return
        self.vars[-1][1:] = [elem, boxed]
        if len(decl) > 1:
            self.vars[-2][1:] = [index, False]

    def walk_template(self, dot: object, node: TemplateNode) -> None:
        self.node = node
        tree = self.lookup.trees.get(node.name)
        if tree is None or tree.root is None:
            raise self.errorf(f"template {go_quote(node.name)} not defined")
        if self.depth == MAX_EXEC_DEPTH:
            raise self.errorf(f"exceeded maximum template depth ({MAX_EXEC_DEPTH})")
        value = self.eval_pipeline(dot, node.pipe)
        State(self.lookup, tree, self.out, value, self.depth + 1).walk(value, tree.root)
