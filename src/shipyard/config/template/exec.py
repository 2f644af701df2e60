"""The executor: the walking half of Go's text/template/exec.go (actions, if/with, range, template)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from .evaluate import Evaluator
from .gofmt import format_value, go_quote, sort_map_keys
from .gotypes import MISSING, AnyKeyMap, is_int, truth, type_name
from .limits import (
    MAX_NESTING_DEPTH,
    MAX_OUTPUT_SIZE,
    MAX_TEMPLATE_DEPTH,
    NESTING_EXCEEDED,
    OUTPUT_EXCEEDED,
    STEPS_EXCEEDED,
    TEMPLATE_DEPTH_EXCEEDED,
    LimitExceeded,
)
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
from .runtime import NO_ARG, Break, Continue

__all__ = ["State"]


class State(Evaluator):
    """One execution of one template (Go's ``state``); template calls run in a fresh State."""

    # --- walking ------------------------------------------------------------------------------------------

    def walk(self, dot: object, node: Node) -> None:
        kind = type(node)
        if kind is ListNode:  # a list is no step of its own: its nodes are
            assert isinstance(node, ListNode)
            for child in node.nodes:
                self.walk(dot, child)
            return
        self.node = node
        budget = self.budget
        budget.steps -= 1
        if budget.steps < 0:
            raise self.limit_error(STEPS_EXCEEDED)
        if kind is TextNode:
            assert isinstance(node, TextNode)
            out = self.out
            out.append(node.text)
            out.size += len(node.text)
            if out.size > MAX_OUTPUT_SIZE:
                raise self.limit_error(OUTPUT_EXCEEDED)
        elif kind is ActionNode:
            assert isinstance(node, ActionNode)
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, value)
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
            text = "<no value>"
        elif isinstance(value, str):
            text = value
        elif not isinstance(value, int | float | list | dict) and inspect.isroutine(value):
            raise self.errorf(f"can't print {node} of type {type_name(value)}")
        else:
            try:
                text = format_value(value)
            except LimitExceeded as err:
                raise self.limit_error(err.message) from None
        out = self.out  # write(text), inlined: this runs for every action
        out.append(text)
        out.size += len(text)
        if out.size > MAX_OUTPUT_SIZE:
            raise self.limit_error(OUTPUT_EXCEEDED)

    def enter_block(self) -> None:
        """One more level of if/with/range nesting (the caller leaves it with ``budget.nesting -= 1``)."""
        if self.budget.nesting >= MAX_NESTING_DEPTH:
            raise self.limit_error(NESTING_EXCEEDED)
        self.budget.nesting += 1

    def walk_if_or_with(self, dot: object, node: BranchNode) -> None:
        self.enter_block()
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
            self.budget.nesting -= 1
            del self.vars[mark:]

    def walk_range(self, dot: object, node: BranchNode) -> None:
        self.node = node
        self.enter_block()
        outer = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            count, items = self._range_items(node, value)
            if count > 0:
                self._iterate(node, items, type(value) in (list, tuple, dict, AnyKeyMap))
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        except Break:
            pass
        finally:
            self.budget.nesting -= 1
            del self.vars[outer:]

    def _range_items(self, node: BranchNode, value: object) -> tuple[int, Iterable[tuple[object, object]]]:
        """How many iterations, and the (index or key, element) pairs (lazy for an integer, which may be
        huge: the step budget stops the loop)."""
        if value is MISSING or value is None:
            return 0, ()
        if isinstance(value, list | tuple):
            return len(value), list(enumerate(value))
        if isinstance(value, dict):
            return len(value), [(k, value[k]) for k in sort_map_keys(list(value))]
        if is_int(value):
            # Go 1.22: ranging over an integer n yields 0..n-1, and only one variable may be declared.
            if len(node.pipe.decl) > 1:
                raise self.errorf(f"can't use {format_value(value)} to iterate over more than one variable")
            numbers = range(int(value))
            return len(numbers), zip(numbers, numbers, strict=True)
        raise self.errorf(f"range can't iterate over {format_value(value)}")

    def _iterate(self, node: BranchNode, items: Iterable[tuple[object, object]], boxed: bool) -> None:
        decl = node.pipe.decl
        mark = len(self.vars)
        saved_boxed_dot = self.boxed_dot
        budget = self.budget
        for index, elem in items:
            budget.steps -= 1
            if budget.steps < 0:
                self.node = node
                raise self.limit_error(STEPS_EXCEEDED)
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
        budget = self.budget
        if budget.depth >= MAX_TEMPLATE_DEPTH:
            raise self.limit_error(TEMPLATE_DEPTH_EXCEEDED)
        value = self.eval_pipeline(dot, node.pipe)
        budget.depth += 1
        try:
            State(self.lookup, tree, self.out, value).walk(value, tree.root)
        finally:
            budget.depth -= 1
