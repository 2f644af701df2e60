"""A set of templates sharing functions and definitions (Go's *template.Template with its associated
templates)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from .builtins import BUILTINS
from .errors import TemplateError
from .exec import Lookup, State
from .gofmt import go_quote
from .gotypes import MISSING
from .parser import parse
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
        self._running = 0
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
        out: list[str] = []
        dot = MISSING if data is None else data
        lookup = Lookup(self._trees, self._functions, BUILTINS)
        self._running += 1
        try:
            assert tree.root is not None
            State(lookup, tree, out, dot).walk(dot, tree.root)
        except RecursionError:
            if self._running > 1:
                raise
            raise TemplateError(f"template: {name}: exceeded maximum template depth (100000)") from None
        finally:
            self._running -= 1
        text = "".join(out)
        if self._running == 0 and _BYTE_ESCAPE.search(text):
            # Go strings are bytes: pieces of split UTF-8 rejoin, and what stays invalid becomes U+FFFD.
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return text
