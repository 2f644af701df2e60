"""The parser's token stream (Go's Tree.next/backup/peek with a three-token buffer) and its error reporting,
plus the parse result type."""

from __future__ import annotations

from .errors import TemplateError
from .lexer import lex_stream
from .nodes import CommentNode, ListNode, Node, TextNode
from .tokens import Item, ItemType


class Tree:
    """One parsed template: its name, the name of the file it came from (for messages) and its root list."""

    def __init__(self, name: str, parse_name: str, text: str) -> None:
        self.name = name
        self.parse_name = parse_name
        self.text = text
        self.root: ListNode | None = None


def is_empty_tree(node: Node | None) -> bool:
    """Go's IsEmptyTree: only whitespace text and comments."""
    if node is None or isinstance(node, CommentNode):
        return True
    if isinstance(node, ListNode):
        return all(is_empty_tree(n) for n in node.nodes)
    if isinstance(node, TextNode):
        return node.text.strip(" \t\n\r\v\f\x85\xa0") == ""
    return False


_SPACE = ItemType.SPACE


class TokenStream:
    """Reads lexed items with up to three items of lookahead; errors name the most recently lexed line."""

    def __init__(self, name: str, text: str, *, break_ok: bool, continue_ok: bool) -> None:
        self.parse_name = name
        self.text = text
        self._items = lex_stream(text, break_ok=break_ok, continue_ok=continue_ok)
        start = Item(ItemType.EOF, 0, "", 1)  # replaced by the first token before any use
        self.token: list[Item] = [start, start, start]
        self.peek_count = 0
        self.action_line = 0

    # --- token stream (Go's next/backup/peek with a three-token buffer) ------------------------------------

    def _fetch(self) -> Item:
        return next(self._items)

    def next(self) -> Item:
        if self.peek_count > 0:
            self.peek_count -= 1
            return self.token[self.peek_count]
        token = self.token[0] = next(self._items)
        return token

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: Item) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: Item, t1: Item) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def peek(self) -> Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self._fetch()
        return self.token[0]

    def next_non_space(self) -> Item:
        # next() inlined: this is the parser's innermost loop.
        while True:
            if self.peek_count > 0:
                self.peek_count -= 1
                token = self.token[self.peek_count]
            else:
                token = self.token[0] = next(self._items)
            if token.typ != _SPACE:
                return token

    def peek_non_space(self) -> Item:
        token = self.next_non_space()
        self.backup()
        return token

    # --- errors ---------------------------------------------------------------------------------------------

    def errorf(self, message: str) -> TemplateError:
        # Go reports the line of the most recently lexed token.
        return TemplateError(f"template: {self.parse_name}:{self.token[0].line}: {message}")

    def expect(self, expected: int, context: str) -> Item:
        token = self.next_non_space()
        if token.typ != expected:
            raise self.unexpected(token, context)
        return token

    def expect_one_of(self, first: int, second: int, context: str) -> Item:
        token = self.next_non_space()
        if token.typ not in (first, second):
            raise self.unexpected(token, context)
        return token

    def unexpected(self, token: Item, context: str) -> TemplateError:
        if token.typ == ItemType.ERROR:
            extra = ""
            if self.action_line not in (0, token.line):
                extra = f" in action started at {self.parse_name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action") :]  # avoid "action in action"
            return self.errorf(f"{token}{extra}")
        return self.errorf(f"unexpected {token} in {context}")
