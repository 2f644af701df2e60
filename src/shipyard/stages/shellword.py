"""A port of buildkit's Dockerfile word lexer (`frontend/dockerfile/shell/lex.go`, v0.13, escape token `\\`).

`process_word` is what werf calls `ProcessWord`: quotes removed, escapes processed, `$X`/`${X}` and the
`${X:-w}`, `${X-w}`, `${X:+w}`, `${X+w}`, `${X:?m}`, `${X?m}`, `${X#p}`, `${X##p}`, `${X%p}`, `${X%%p}`,
`${X/p/r}`, `${X//p/r}` forms substituted; unset variables become "" (unless `skip_unset_env`).
`process_words` additionally splits the result into words the way buildkit does (after substitution).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from shipyard.errors import DockerfileError

ESCAPE = "\\"
EOF = ""  # text/scanner's EOF; every real character is a one-character string

# Go unicode.IsSpace / strings.TrimSpace (str.isspace also counts \x1c-\x1f)
GO_SPACES = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    map(chr, range(0x2000, 0x200B))
)
_GO_SPACES = frozenset(GO_SPACES)
# POSIX special parameters: $@ $* $# $? $- $$ $! $0
_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_PATTERN_SPECIALS = frozenset("[]{}.+()|^$")


class ShellWordError(DockerfileError):
    """A word that buildkit's lexer rejects (bad substitution, unterminated quote, `${X?}` failure…)."""


def process_word(word: str, env: Mapping[str, str], *, skip_unset_env: bool = False) -> str:
    """buildkit `Lex.ProcessWord`: the word with quotes/escapes processed and variables substituted."""
    return _Lexer(word, env, skip_unset_env=skip_unset_env).process()[0]


def process_words(word: str, env: Mapping[str, str], *, skip_unset_env: bool = False) -> list[str]:
    """buildkit `Lex.ProcessWords`: like `process_word`, then split on unquoted whitespace."""
    return _Lexer(word, env, skip_unset_env=skip_unset_env).process()[1]


def _is_go_space(ch: str) -> bool:
    return ch in _GO_SPACES


def _is_go_letter(ch: str) -> bool:
    return ch != EOF and unicodedata.category(ch).startswith("L")


def _is_go_digit(ch: str) -> bool:
    return ch != EOF and unicodedata.category(ch) == "Nd"


class _Words:
    """buildkit `wordsStruct`: collects words while the word is being processed."""

    def __init__(self) -> None:
        self.word = ""
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if _is_go_space(ch):
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word = ""
                self.in_word = False
        else:
            self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def finish(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word = ""
            self.in_word = False
        return self.words


class _Lexer:
    def __init__(self, source: str, env: Mapping[str, str], *, skip_unset_env: bool) -> None:
        self.source = source
        self.pos = 0
        self.env = env
        self.skip_unset_env = skip_unset_env
        self.raw_escapes = False

    def peek(self) -> str:
        return self.source[self.pos] if self.pos < len(self.source) else EOF

    def next(self) -> str:
        ch = self.peek()
        self.pos += len(ch)
        return ch

    def process(self) -> tuple[str, list[str]]:
        try:
            return self.process_stop_on(EOF, raw_escapes=False)
        except ShellWordError as error:
            raise ShellWordError(f'failed to process "{self.source}": {error.message}') from None

    def process_stop_on(self, stop: str, *, raw_escapes: bool) -> tuple[str, list[str]]:
        """Process up to (and consuming) `stop`; `raw_escapes` keeps escape characters in the result."""
        saved_raw_escapes, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._process_until(stop)
        finally:
            self.raw_escapes = saved_raw_escapes

    def _process_until(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        while (ch := self.peek()) != EOF:
            if stop != EOF and ch == stop:
                self.next()
                return "".join(result), words.finish()
            if ch == "$":
                text = self.process_dollar()
                result.append(text)
                words.add_string(text)
            elif ch in ("'", '"'):
                text = self.process_single_quote() if ch == "'" else self.process_double_quote()
                result.append(text)
                words.add_raw(text)
            else:
                ch = self.next()
                if ch == ESCAPE:
                    if self.raw_escapes:
                        words.add_raw(ch)
                        result.append(ch)
                    ch = self.next()
                    if ch == EOF:  # a trailing escape is dropped
                        break
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                result.append(ch)
        if stop != EOF:
            raise ShellWordError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.finish()

    def process_single_quote(self) -> str:
        """Everything up to the next `'` is literal; a single quote cannot be escaped."""
        self.next()
        result: list[str] = []
        while (ch := self.next()) != "'":
            if ch == EOF:
                raise ShellWordError("unexpected end of statement while looking for matching single-quote")
            result.append(ch)
        return "".join(result)

    def process_double_quote(self) -> str:
        """Literal except `$…`; the escape character only escapes `"`, `$` and itself."""
        self.next()
        result: list[str] = []
        while True:
            ch = self.peek()
            if ch == EOF:
                raise ShellWordError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.next()
                return "".join(result)
            if ch == "$":
                result.append(self.process_dollar())
                continue
            ch = self.next()
            if ch == ESCAPE:
                if self.raw_escapes:
                    result.append(ch)
                following = self.peek()
                if following == EOF:
                    continue  # the escape at the very end is ignored (then the missing quote is reported)
                if following in ('"', "$", ESCAPE):
                    ch = self.next()
            result.append(ch)

    def lookup(self, name: str) -> str | None:
        return self.env.get(name)

    def process_dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.process_name()
            if not name:
                return "$"
            value = self.lookup(name)
            if value is None:
                return "$" + name if self.skip_unset_env else ""
            return value
        self.next()
        if self.peek() == EOF:
            raise ShellWordError("syntax error: missing '}'")
        if self.peek() in ("{", "}", ":"):
            raise ShellWordError("syntax error: bad substitution")
        name = self.process_name()
        ch = self.next()
        if ch == "}":
            value = self.lookup(name)
            if value is None:
                return "${" + name + "}" if self.skip_unset_env else ""
            return value
        if ch == ":":
            return self.process_modifier(name, self.next(), null_is_unset=True)
        if ch in ("+", "-", "?", "#", "%"):
            return self.process_modifier(name, ch, null_is_unset=False)
        if ch == "/":
            return self.process_replacement(name)
        raise ShellWordError(f"unsupported modifier ({_go_rune(ch)}) in substitution")

    def process_modifier(self, name: str, modifier: str, *, null_is_unset: bool) -> str:
        """`${name[:]<modifier>word}`; after `:` buildkit parses the word before checking the modifier."""
        shown = (":" if null_is_unset else "") + _go_rune(modifier)
        try:
            word, _ = self.process_stop_on("}", raw_escapes=modifier in ("#", "%"))
        except ShellWordError:
            if self.peek() == EOF:
                raise ShellWordError("syntax error: missing '}'") from None
            raise
        value = self.lookup(name)
        if value is None and self.skip_unset_env:
            return "${" + name + shown + word + "}"
        is_unset = value is None or (null_is_unset and value == "")
        if modifier == "-":
            return word if is_unset else value or ""
        if modifier == "+":
            return "" if is_unset else word
        if modifier == "?":
            return _required_value(name, value, word, null_is_unset=null_is_unset)
        if modifier in ("#", "%"):
            greedy = word.startswith(modifier)
            pattern = word[1:] if greedy else word
            trim = _trim_suffix if modifier == "%" else _trim_prefix
            return trim(pattern, value or "", greedy=greedy)
        raise ShellWordError(f"unsupported modifier ({shown}) in substitution")

    def process_replacement(self, name: str) -> str:
        """`${name/pattern/replacement}` (first match) and `${name//pattern/replacement}` (all matches)."""
        replace_all = self.peek() == "/"
        if replace_all:
            self.next()
        pattern = self._process_part("/", "syntax error: missing '/' in ${}")
        replacement = self._process_part("}", "syntax error: missing '}'")
        value = self.lookup(name)
        if value is None and self.skip_unset_env:
            return "${" + name + "/" + pattern + "/" + replacement + "}"
        regex = _shell_pattern_regex(pattern, greedy=True, anchored=False)
        if replace_all:
            return _go_replace_all(regex, value or "", replacement)
        match = regex.search(value or "")
        if match is None:
            return value or ""
        return (value or "")[: match.start()] + replacement + (value or "")[match.end() :]

    def _process_part(self, stop: str, missing_message: str) -> str:
        try:
            return self.process_stop_on(stop, raw_escapes=True)[0]
        except ShellWordError:
            if self.peek() == EOF:
                raise ShellWordError(missing_message) from None
            raise

    def process_name(self) -> str:
        """A variable name: letters/digits/`_`, or a run of digits, or one special parameter."""
        name: list[str] = []
        while (ch := self.peek()) != EOF:
            if not name and _is_go_digit(ch):
                while _is_go_digit(self.peek()):
                    name.append(self.next())
                return "".join(name)
            if not name and ch in _SPECIAL_PARAMS:
                return self.next()
            if not (_is_go_letter(ch) or _is_go_digit(ch) or ch == "_"):
                break
            name.append(self.next())
        return "".join(name)


def _go_rune(ch: str) -> str:
    """Go's string(rune) of scanner.EOF (-1) is U+FFFD."""
    return ch if ch != EOF else "\ufffd"


def _required_value(name: str, value: str | None, message: str, *, null_is_unset: bool) -> str:
    if value is None:
        raise ShellWordError(f"{name}: {message or 'is not allowed to be unset'}")
    if null_is_unset and value == "":
        raise ShellWordError(f"{name}: {message or 'is not allowed to be empty'}")
    return value


def _shell_pattern_regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """buildkit `convertShellPatternToRegex`: `*` and `?` wildcards, `\\` escapes `*`, `?` and itself."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    pos = 0
    while pos < len(pattern):
        token = pattern[pos]
        pos += 1
        if token == "*":
            out.append(star)
        elif token == "?":
            out.append(".")
        elif token == "\\":
            following = pattern[pos] if pos < len(pattern) else EOF
            if following in ("}", "/"):
                continue  # escaped `}`/`/` belong to the ${} syntax, not to the pattern
            if following not in ("*", "?", "\\"):
                message = f"invalid pattern ({pattern}) in substitution: invalid escape '\\{following}'"
                raise ShellWordError(message)
            pos += 1
            out.append(re.escape(following))
        else:
            out.append(re.escape(token))
    return re.compile("".join(out))


def _trim_prefix(pattern: str, value: str, *, greedy: bool) -> str:
    match = _shell_pattern_regex(pattern, greedy=greedy, anchored=True).search(value)
    return value[match.end() :] if match else value


def _trim_suffix(pattern: str, value: str, *, greedy: bool) -> str:
    """The shortest/longest rightmost match, found as a leftmost match on the reversed strings."""
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy=greedy)[::-1]


def _reverse_pattern(pattern: str) -> str:
    """Reverse a pattern keeping each escape before the character it escapes (`a\\*c` → `c\\*a`)."""
    units: list[str] = []
    pos = 0
    while pos < len(pattern):
        if pattern[pos] == "\\" and pos != len(pattern) - 1:
            units.append(pattern[pos : pos + 2])
            pos += 2
        else:
            units.append(pattern[pos])
            pos += 1
    return "".join(reversed(units))


def _go_replace_all(regex: re.Pattern[str], value: str, template: str) -> str:
    """Go `Regexp.ReplaceAllString`: empty matches right after a match are skipped, `$0`/`${0}` expand."""
    out: list[str] = []
    last_end = 0
    search_pos = 0
    while search_pos <= len(value):
        match = regex.search(value, search_pos)
        if match is None:
            break
        out.append(value[last_end : match.start()])
        if match.end() > last_end or match.start() == 0:
            out.append(_go_expand(template, match.group(0)))
        last_end = match.end()
        search_pos = max(search_pos + 1, match.end())
    out.append(value[last_end:])
    return "".join(out)


_TEMPLATE_NAME = re.compile(r"\{(\w+)\}|(\w+)")


def _go_expand(template: str, whole_match: str) -> str:
    """Go `Regexp.Expand` for a pattern without groups: `$$`→`$`, `$0`→match, other names→""."""
    out: list[str] = []
    pos = 0
    while (dollar := template.find("$", pos)) != -1:
        out.append(template[pos:dollar])
        pos = dollar + 1
        if template.startswith("$", pos):
            out.append("$")
            pos += 1
            continue
        reference = _TEMPLATE_NAME.match(template, pos)
        if reference is None:
            out.append("$")  # malformed reference: the `$` is literal
            continue
        name = reference.group(1) or reference.group(2)
        out.append(whole_match if name == "0" else "")
        pos = reference.end()
    out.append(template[pos:])
    return "".join(out)
