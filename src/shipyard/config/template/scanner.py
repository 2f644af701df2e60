"""The lexer's cursor over the input (Go's lexer struct: next/peek/backup/emit/accept) and the character
classes and sub-scanners (numbers, quoted text) the state functions in lexer.py use."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .tokens import Item, ItemType

LEFT_DELIM = "{{"
RIGHT_DELIM = "}}"
LEFT_COMMENT = "/*"
RIGHT_COMMENT = "*/"
SPACE_CHARS = " \t\r\n"
TRIM_MARKER_LEN = 2  # the marker plus the space before or after it
_new_tuple = tuple.__new__
_DELIM_STARTS = frozenset(" \t\r\n}")  # a right delimiter starts with "}" or " -}}"


def is_space(ch: str) -> bool:
    return ch in SPACE_CHARS and ch != ""


def is_alphanumeric(ch: str) -> bool:
    """Go's unicode.IsLetter || unicode.IsDigit (categories L* and Nd) or underscore."""
    return ch == "_" or ch.isalpha() or ch.isdecimal()


def has_left_trim_marker(text: str, pos: int) -> bool:
    return text.startswith("-", pos) and is_space(text[pos + 1 : pos + 2])


def has_right_trim_marker(text: str, pos: int) -> bool:
    return is_space(text[pos : pos + 1]) and text.startswith("-", pos + 1)


StateFn = Callable[["Lexer"], "StateFn | None"]


class LexError(Exception):
    """Internal: stops the state machine after an ERROR item was emitted."""


class Lexer:
    """Scans the whole input eagerly into a list of items (Go streams them; the order is the same)."""

    def __init__(self, text: str, *, break_ok: bool = True, continue_ok: bool = True) -> None:
        self.text = text
        self.pos = 0
        self.start = 0
        self.paren_depth = 0
        self.break_ok = break_ok
        self.continue_ok = continue_ok
        self.items: list[Item] = []
        self._line_pos = 0  # items are emitted in order: count newlines incrementally
        self._line = 1

    def line_at(self, pos: int) -> int:
        if pos < self._line_pos:
            return 1 + self.text.count("\n", 0, pos)
        self._line += self.text.count("\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line

    def run(self, start: StateFn) -> list[Item]:
        state: StateFn | None = start
        try:
            while state is not None:
                state = state(self)
        except LexError:
            pass
        return self.items

    def stream(self, start: StateFn) -> Iterator[Item]:
        """The items as the state functions emit them, a few dozen at a time, so the parser can stop early
        (at its depth limit, say) without lexing the rest; the last item (EOF or ERROR) repeats forever."""
        state: StateFn | None = start
        items = self.items
        while state is not None:
            try:
                while state is not None and len(items) < 64:
                    state = state(self)
            except LexError:
                state = None
            last = items[-1]
            yield from items
            items.clear()
        while True:
            yield last

    # --- primitives ----------------------------------------------------------------------------------------

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def next(self) -> str:
        ch = self.text[self.pos : self.pos + 1]
        self.pos += len(ch)
        return ch

    def backup(self) -> None:
        self.pos -= 1

    def emit(self, typ: int) -> None:
        start = self.start
        if start > self._line_pos:  # inline line_at: the hot path of the whole lexer
            self._line += self.text.count("\n", self._line_pos, start)
            self._line_pos = start
        line = self._line if start == self._line_pos else self.line_at(start)
        # tuple.__new__ skips NamedTuple's Python-level constructor: this runs once per token.
        self.items.append(_new_tuple(Item, (typ, start, self.text[start : self.pos], line)))
        self.start = self.pos

    def ignore(self) -> None:
        self.start = self.pos

    def accept(self, valid: str) -> bool:
        ch = self.peek()
        if ch and ch in valid:
            self.pos += 1
            return True
        return False

    def accept_run(self, valid: str) -> None:
        while self.accept(valid):
            pass

    def errorf(self, message: str) -> StateFn | None:
        self.items.append(Item(ItemType.ERROR, self.start, message, self.line_at(self.start)))
        raise LexError

    def at_right_delim(self) -> tuple[bool, bool]:
        """(at the right delimiter, with a trim marker before it)."""
        if self.text[self.pos : self.pos + 1] not in _DELIM_STARTS:
            return False, False
        if has_right_trim_marker(self.text, self.pos) and self.text.startswith(
            RIGHT_DELIM, self.pos + TRIM_MARKER_LEN
        ):
            return True, True
        return self.text.startswith(RIGHT_DELIM, self.pos), False

    def at_terminator(self) -> bool:
        ch = self.peek()
        if ch == "" or is_space(ch) or ch in ".,|:)(":
            return True
        return self.text.startswith(RIGHT_DELIM, self.pos)


# --- state functions (names follow lex.go)
# ----------------------------------------------------------------------


def scan_quoted(lx: Lexer, quote: str, message: str) -> None:
    while True:
        ch = lx.next()
        if ch == "\\":
            ch = lx.next()
            if ch not in ("", "\n"):
                continue
        if ch in ("", "\n"):
            lx.errorf(message)
        if ch == quote:
            return


def quote_text(text: str) -> str:
    from .gofmt import go_quote

    return go_quote(text)


def scan_number(lx: Lexer) -> bool:
    lx.accept("+-")
    digits = "0123456789_"
    if lx.accept("0"):
        if lx.accept("xX"):
            digits = "0123456789abcdefABCDEF_"
        elif lx.accept("oO"):
            digits = "01234567_"
        elif lx.accept("bB"):
            digits = "01_"
    lx.accept_run(digits)
    if lx.accept("."):
        lx.accept_run(digits)
    if len(digits) == 10 + 1 and lx.accept("eE"):
        lx.accept("+-")
        lx.accept_run("0123456789_")
    if len(digits) == 16 + 6 + 1 and lx.accept("pP"):
        lx.accept("+-")
        lx.accept_run("0123456789_")
    lx.accept("i")
    if is_alphanumeric(lx.peek()) and lx.peek() != "":
        lx.next()
        return False
    return True
