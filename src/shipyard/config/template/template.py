"""A set of templates sharing functions and definitions (Go's *template.Template with its associated
templates)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from .builtins import BUILTINS
from .errors import TemplateError, TemplateLimitError
from .exec import State
from .gofmt import go_quote
from .gotypes import MISSING
from .limits import (
    CHARS_PER_STEP,
    MAX_TEMPLATE_DEPTH,
    RECURSION_EXCEEDED,
    STEPS_EXCEEDED,
    TEMPLATE_DEPTH_EXCEEDED,
    Budget,
    LimitExceeded,
    stack_headroom,
)
from .parser import parse
from .runtime import Lookup, Output
from .signature import GoFunc, go_func
from .tokenstream import Tree, is_empty_tree

_BYTE_ESCAPE = re.compile("[\udc80-\udcff]")


class TemplateSet:
    """Templates by name plus the function map; ``parse`` adds definitions, ``execute`` renders one."""

    def __init__(self, name: str, functions: Mapping[str, Callable[..., object]]) -> None:
        self.name = name
        self._trees: dict[str, Tree] = {}
        self._functions: dict[str, GoFunc] = {}
        self._known: set[str] = set(BUILTINS)
        self._sources: dict[str, str] = {}
        self._budget: Budget | None = None  # while a render runs (include and tpl run inside it)
        self.add_functions(functions)

    def add_functions(self, functions: Mapping[str, Callable[..., object]]) -> None:
        for function_name, fn in functions.items():
            self._functions[function_name] = go_func(fn)
            self._known.add(function_name)

    def has_template(self, name: str) -> bool:
        return name in self._trees

    def source_of(self, name: str) -> str | None:
        """The text most recently parsed under ``name`` (None if never parsed as a file)."""
        return self._sources.get(name)

    def parse(self, name: str, text: str) -> None:
        """Parse ``text`` as template ``name``; its ``define``s join the set (later definitions win, like Go,
        except that an empty body never replaces an existing template)."""
        budget = self._budget
        if budget is None:
            with self._outermost(name):
                trees = parse(name, text, self._known)
        else:  # tpl: parsing is part of the render's work
            budget.steps -= len(text) // CHARS_PER_STEP
            if budget.steps < 0:
                message = f"template: {name}: {STEPS_EXCEEDED}"
                raise TemplateLimitError(message, reason=STEPS_EXCEEDED, located=False)
            trees = parse(name, text, self._known)
        self._sources[name] = text
        for tree_name, tree in trees.items():
            existing = self._trees.get(tree_name)
            if existing is not None and is_empty_tree(tree.root) and existing.root is not None:
                continue
            self._trees[tree_name] = tree

    def execute(self, name: str, data: object) -> str:
        tree = self._trees.get(name)
        if tree is None:
            raise TemplateError(
                f"template: no template {go_quote(name)} associated with template {go_quote(self.name)}"
            )
        dot = MISSING if data is None else data
        budget = self._budget
        if budget is None:
            with self._outermost(name) as budget:
                text = self._run(tree, dot, budget)
            if _BYTE_ESCAPE.search(text):
                # Go strings are bytes: pieces of split UTF-8 rejoin, and what stays invalid becomes U+FFFD.
                text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            return text
        # include or tpl: one more template level (the caller's _safe_call adds the location)
        if budget.depth >= MAX_TEMPLATE_DEPTH:
            message = f"template: {name}: {TEMPLATE_DEPTH_EXCEEDED}"
            raise TemplateLimitError(message, reason=TEMPLATE_DEPTH_EXCEEDED, located=False)
        budget.depth += 1
        try:
            return self._run(tree, dot, budget)
        finally:
            budget.depth -= 1

    def _run(self, tree: Tree, dot: object, budget: Budget) -> str:
        out = Output()
        assert tree.root is not None
        State(Lookup(self._trees, self._functions, BUILTINS, budget), tree, out, dot).walk(dot, tree.root)
        return "".join(out)

    @contextmanager
    def _outermost(self, name: str) -> Iterator[Budget]:
        """A render from the outside: a fresh budget, and the Python stack the limits are sized for."""
        budget = self._budget = Budget()
        try:
            with stack_headroom():
                yield budget
        except RecursionError:  # the limits are sized to prevent this; never a bare RecursionError
            message = f"template: {name}: {RECURSION_EXCEEDED}"
            raise TemplateLimitError(message, reason=RECURSION_EXCEEDED) from None
        except LimitExceeded as err:  # every path turns it into a located error; this is the safety net
            raise TemplateLimitError(f"template: {name}: {err.message}", reason=err.message) from None
        finally:
            self._budget = None
