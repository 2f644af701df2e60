"""The tokenizer: a port of Go's text/template/parse/lex.go (state functions, trim markers, comments).

Positions are indices into the Python string; errors are reported as an ``ERROR`` item that ends the stream,
exactly where Go's lexer would emit ``itemError``, so the parser reports lexing and parsing errors in Go's
order."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .scanner import (
    LEFT_COMMENT,
    LEFT_DELIM,
    RIGHT_COMMENT,
    RIGHT_DELIM,
    SPACE_CHARS,
    TRIM_MARKER_LEN,
    Lexer,
    StateFn,
    has_left_trim_marker,
    has_right_trim_marker,
    is_alphanumeric,
    is_space,
    quote_text,
    scan_number,
    scan_quoted,
)
from .tokens import KEYWORDS, Item, ItemType


def lex_text(lx: Lexer) -> StateFn | None:
    found = lx.text.find(LEFT_DELIM, lx.pos)
    if found < 0:
        lx.pos = len(lx.text)
        if lx.pos > lx.start:
            lx.emit(ItemType.TEXT)
        lx.emit(ItemType.EOF)
        return None
    lx.pos = found
    trim = 0
    if has_left_trim_marker(lx.text, found + len(LEFT_DELIM)):
        segment = lx.text[lx.start : found]
        trim = len(segment) - len(segment.rstrip(SPACE_CHARS))
    lx.pos -= trim
    if lx.pos > lx.start:
        lx.emit(ItemType.TEXT)
    lx.pos += trim
    lx.ignore()
    return lex_left_delim


def lex_left_delim(lx: Lexer) -> StateFn | None:
    lx.pos += len(LEFT_DELIM)
    trim_space = has_left_trim_marker(lx.text, lx.pos)
    after_marker = TRIM_MARKER_LEN if trim_space else 0
    if lx.text.startswith(LEFT_COMMENT, lx.pos + after_marker):
        lx.pos += after_marker
        lx.ignore()
        return lex_comment
    lx.emit(ItemType.LEFT_DELIM)
    lx.pos += after_marker
    lx.ignore()
    lx.paren_depth = 0
    return lex_inside_action


def lex_comment(lx: Lexer) -> StateFn | None:
    lx.pos += len(LEFT_COMMENT)
    end = lx.text.find(RIGHT_COMMENT, lx.pos)
    if end < 0:
        return lx.errorf("unclosed comment")
    lx.pos = end + len(RIGHT_COMMENT)
    delim, trim_space = lx.at_right_delim()
    if not delim:
        return lx.errorf("comment ends before closing delimiter")
    if trim_space:
        lx.pos += TRIM_MARKER_LEN
    lx.pos += len(RIGHT_DELIM)
    if trim_space:
        lx.pos = _skip_leading_space(lx.text, lx.pos)
    lx.ignore()
    return lex_text


def _skip_leading_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in SPACE_CHARS:
        pos += 1
    return pos


def lex_right_delim(lx: Lexer) -> StateFn | None:
    trim_space = has_right_trim_marker(lx.text, lx.pos)
    if trim_space:
        lx.pos += TRIM_MARKER_LEN
        lx.ignore()
    lx.pos += len(RIGHT_DELIM)
    lx.emit(ItemType.RIGHT_DELIM)
    if trim_space:
        lx.pos = _skip_leading_space(lx.text, lx.pos)
        lx.ignore()
    return lex_text


_SIMPLE_ACTION_ITEMS = {"=": ItemType.ASSIGN, "|": ItemType.PIPE}


def lex_inside_action(lx: Lexer) -> StateFn | None:
    delim, _ = lx.at_right_delim()
    if delim:
        if lx.paren_depth == 0:
            return lex_right_delim
        return lx.errorf("unclosed left paren")
    fast = _lex_common_token(lx)
    if fast is not None:
        return fast
    ch = lx.next()
    if ch == "":
        return lx.errorf("unclosed action")
    if is_space(ch):
        lx.backup()  # put the space back in case we have " -}}"
        return lex_space
    if ch in _SIMPLE_ACTION_ITEMS:
        lx.emit(_SIMPLE_ACTION_ITEMS[ch])
        return lex_inside_action
    if ch == ":":
        if lx.next() != "=":
            return lx.errorf("expected :=")
        lx.emit(ItemType.DECLARE)
        return lex_inside_action
    return _lex_action_token(lx, ch)


_COMMON_TOKEN = re.compile(
    r"""(?P<space>[ \t\r\n]+)(?!-}})
    |(?P<string>"(?:[^"\\\n]|\\[^\n])*")
    |(?P<word>[$.]?[A-Za-z_][A-Za-z0-9_]*)(?=[ \t\r\n.,|:)(}]|$)
    |(?P<number>[0-9]+)(?=[ \t\r\n|)}]|$)""",
    re.VERBOSE,
)


def _lex_common_token(lx: Lexer) -> StateFn | None:
    """Fast path for the tokens that make up most actions (spaces, strings, plain identifiers, fields,
    variables, decimal integers). Anything unusual returns None and takes the exact rune-by-rune path."""
    match = _COMMON_TOKEN.match(lx.text, lx.pos)
    if match is None:
        return None
    kind = match.lastgroup
    lx.pos = match.end()
    if kind == "space":
        lx.emit(ItemType.SPACE)
    elif kind == "string":
        lx.emit(ItemType.STRING)
    elif kind == "number":
        lx.emit(ItemType.NUMBER)
    else:
        _emit_word(lx, match.group("word"))
    return lex_inside_action


def _emit_word(lx: Lexer, word: str) -> None:
    if word[0] == "$":
        lx.emit(ItemType.VARIABLE)
    elif word[0] == ".":
        lx.emit(ItemType.FIELD)
    else:
        keyword = KEYWORDS.get(word)
        if keyword is not None and keyword > ItemType.KEYWORD:
            disabled = (keyword == ItemType.BREAK and not lx.break_ok) or (
                keyword == ItemType.CONTINUE and not lx.continue_ok
            )
            lx.emit(ItemType.IDENTIFIER if disabled else keyword)
        elif word in ("true", "false"):
            lx.emit(ItemType.BOOL)
        else:
            lx.emit(ItemType.IDENTIFIER)


def _lex_action_token(lx: Lexer, ch: str) -> StateFn | None:
    quoted = _QUOTED_STATES.get(ch)
    if quoted is not None:
        return quoted
    if ch == "." and lx.peek() != "" and not "0" <= lx.peek() <= "9":
        return lex_field
    if ch in "+-." or "0" <= ch <= "9":
        lx.backup()
        return lex_number
    if is_alphanumeric(ch):
        lx.backup()
        return lex_identifier
    if ch == "(":
        lx.emit(ItemType.LEFT_PAREN)
        lx.paren_depth += 1
        return lex_inside_action
    if ch == ")":
        lx.emit(ItemType.RIGHT_PAREN)
        lx.paren_depth -= 1
        if lx.paren_depth < 0:
            return lx.errorf("unexpected right paren U+0029 ')'")
        return lex_inside_action
    if ord(ch) < 0x80 and ch.isprintable():
        lx.emit(ItemType.CHAR)
        return lex_inside_action
    return lx.errorf(f"unrecognized character in action: {format_rune(ch)}")


def format_rune(ch: str) -> str:
    """Go's %#U: U+0041 'A' (the quoted char only when printable)."""
    code = f"U+{ord(ch):04X}"
    return f"{code} '{ch}'" if ch.isprintable() else code


_SPACES = re.compile(r"[ \t\r\n]+")
_ASCII_WORD = re.compile(r"[A-Za-z0-9_]*")
_QUOTED = re.compile(r'"(?:[^"\\\n]|\\[^\n])*"')


def lex_space(lx: Lexer) -> StateFn | None:
    match = _SPACES.match(lx.text, lx.pos)
    spaces = match.end() - lx.pos if match else 0
    lx.pos += spaces
    # Be careful about a trim-marked closing delimiter, which has a minus after a space.
    if has_right_trim_marker(lx.text, lx.pos - 1) and lx.text.startswith(
        RIGHT_DELIM, lx.pos - 1 + TRIM_MARKER_LEN
    ):
        lx.backup()
        if spaces == 1:
            return lex_right_delim
    lx.emit(ItemType.SPACE)
    return lex_inside_action


def _skip_alphanumerics(lx: Lexer) -> None:
    """Advance over letters, decimal digits and underscores (ASCII by regex, the rest rune by rune)."""
    match = _ASCII_WORD.match(lx.text, lx.pos)
    lx.pos = match.end() if match else lx.pos
    while is_alphanumeric(lx.peek()):
        lx.next()
        match = _ASCII_WORD.match(lx.text, lx.pos)
        lx.pos = match.end() if match else lx.pos


def lex_identifier(lx: Lexer) -> StateFn | None:
    _skip_alphanumerics(lx)
    word = lx.text[lx.start : lx.pos]
    if not lx.at_terminator():
        return lx.errorf(f"bad character {format_rune(lx.peek())}")
    keyword = KEYWORDS.get(word)
    if keyword is not None and keyword > ItemType.KEYWORD:
        disabled = (keyword == ItemType.BREAK and not lx.break_ok) or (
            keyword == ItemType.CONTINUE and not lx.continue_ok
        )
        lx.emit(ItemType.IDENTIFIER if disabled else keyword)
    elif word[0] == ".":
        lx.emit(ItemType.FIELD)
    elif word in ("true", "false"):
        lx.emit(ItemType.BOOL)
    else:
        lx.emit(ItemType.IDENTIFIER)
    return lex_inside_action


def lex_field(lx: Lexer) -> StateFn | None:
    return _lex_field_or_variable(lx, ItemType.FIELD)


def lex_variable(lx: Lexer) -> StateFn | None:
    if lx.at_terminator():  # nothing interesting follows: "$"
        lx.emit(ItemType.VARIABLE)
        return lex_inside_action
    return _lex_field_or_variable(lx, ItemType.VARIABLE)


def _lex_field_or_variable(lx: Lexer, typ: int) -> StateFn | None:
    if lx.at_terminator():  # nothing interesting follows: "." or "$"
        lx.emit(ItemType.VARIABLE if typ == ItemType.VARIABLE else ItemType.DOT)
        return lex_inside_action
    _skip_alphanumerics(lx)
    if not lx.at_terminator():
        return lx.errorf(f"bad character {format_rune(lx.peek() or chr(0xFFFD))}")
    lx.emit(typ)
    return lex_inside_action


def lex_char(lx: Lexer) -> StateFn | None:
    scan_quoted(lx, "'", "unterminated character constant")
    lx.emit(ItemType.CHAR_CONSTANT)
    return lex_inside_action


def lex_quote(lx: Lexer) -> StateFn | None:
    match = _QUOTED.match(lx.text, lx.pos - 1)
    if match:
        lx.pos = match.end()
    else:
        scan_quoted(lx, '"', "unterminated quoted string")
    lx.emit(ItemType.STRING)
    return lex_inside_action


def lex_raw_quote(lx: Lexer) -> StateFn | None:
    end = lx.text.find("`", lx.pos)
    if end < 0:
        return lx.errorf("unterminated raw quoted string")
    lx.pos = end + 1
    lx.emit(ItemType.RAW_STRING)
    return lex_inside_action


def lex_number(lx: Lexer) -> StateFn | None:
    if not scan_number(lx):
        return lx.errorf(f"bad number syntax: {quote_text(lx.text[lx.start : lx.pos])}")
    if lx.peek() in ("+", "-") and lx.peek() != "":
        # Complex: 1+2i. No spaces, must end in 'i'.
        if not scan_number(lx) or lx.text[lx.pos - 1] != "i":
            return lx.errorf(f"bad number syntax: {quote_text(lx.text[lx.start : lx.pos])}")
        lx.emit(ItemType.COMPLEX)
    else:
        lx.emit(ItemType.NUMBER)
    return lex_inside_action


def lex(text: str, *, break_ok: bool = True, continue_ok: bool = True) -> list[Item]:
    return Lexer(text, break_ok=break_ok, continue_ok=continue_ok).run(lex_text)


def lex_stream(text: str, *, break_ok: bool = True, continue_ok: bool = True) -> Iterator[Item]:
    """The items of ``text`` lexed on demand; after EOF or an ERROR item, that item repeats forever."""
    return Lexer(text, break_ok=break_ok, continue_ok=continue_ok).stream(lex_text)


_QUOTED_STATES: dict[str, StateFn] = {'"': lex_quote, "`": lex_raw_quote, "$": lex_variable, "'": lex_char}
