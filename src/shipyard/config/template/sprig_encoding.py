"""sprig's regex, encoding, hashing, random, JSON/YAML, path and URL functions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import posixpath
import re
import secrets
import string
import urllib.parse
import uuid
import zlib
from collections.abc import Callable

from .errors import GoError
from .gojson import JsonError, decode, encode
from .goregexp import RegexpError, compile_go, expand_template, find_all, quote_meta, replace_all, split
from .gostrings import from_bytes, to_bytes
from .gotypes import StrList
from .goyaml import to_yaml
from .limits import check_size
from .signature import Map

# --- regular expressions
# ---------------------------------------------------------------------------------------


def regex_match(regex: str, s: str) -> bool:
    try:
        return compile_go(regex).search(s) is not None
    except RegexpError:
        return False


def _compile_or_error(regex: str) -> re.Pattern[str]:
    """regexp.Compile for the must* variants: the error as it is."""
    try:
        return compile_go(regex)
    except RegexpError as err:
        raise GoError(str(err)) from None


def must_regex_match(regex: str, s: str) -> bool:
    return _compile_or_error(regex).search(s) is not None


def must_regex_find_all(regex: str, s: str, n: int) -> StrList:
    return StrList(m.group(0) for m in find_all(_compile_or_error(regex), s, n))


def must_regex_find(regex: str, s: str) -> str:
    match = _compile_or_error(regex).search(s)
    return match.group(0) if match else ""


def must_regex_replace_all(regex: str, s: str, repl: str) -> str:
    return replace_all(_compile_or_error(regex), s, expand_template(repl))


def must_regex_replace_all_literal(regex: str, s: str, repl: str) -> str:
    return replace_all(_compile_or_error(regex), s, lambda _match: repl)


def must_regex_split(regex: str, s: str, n: int) -> StrList:
    return StrList(split(_compile_or_error(regex), s, n))


def compile_go_or_fail(regex: str) -> re.Pattern[str]:
    """regexp.MustCompile: the panic message becomes the call's error."""
    try:
        return compile_go(regex)
    except RegexpError as err:
        raise GoError(f"regexp: Compile({_backquote(regex)}): {err}") from None


def _backquote(text: str) -> str:
    from .gofmt import go_quote

    return "`" + text + "`" if "`" not in text else go_quote(text)


def regex_find_all(regex: str, s: str, n: int) -> StrList:
    pattern = compile_go_or_fail(regex)
    return StrList(m.group(0) for m in find_all(pattern, s, n))


def regex_find(regex: str, s: str) -> str:
    match = compile_go_or_fail(regex).search(s)
    return match.group(0) if match else ""


def regex_replace_all(regex: str, s: str, repl: str) -> str:
    return replace_all(compile_go_or_fail(regex), s, expand_template(repl))


def regex_replace_all_literal(regex: str, s: str, repl: str) -> str:
    return replace_all(compile_go_or_fail(regex), s, lambda _match: repl)


def regex_split(regex: str, s: str, n: int) -> StrList:
    return StrList(split(compile_go_or_fail(regex), s, n))


def regex_quote_meta(s: str) -> str:
    return quote_meta(s)


# --- encodings and hashes
# ------------------------------------------------------------------------------------


def b64enc(v: str) -> str:
    return base64.b64encode(to_bytes(v)).decode("ascii")


def b64dec(v: str) -> str:
    try:
        return from_bytes(base64.b64decode(v.encode("ascii", "surrogateescape"), validate=True))
    except (binascii.Error, ValueError):
        return f"illegal base64 data at input byte {_bad_base64_offset(v)}"


def _bad_base64_offset(v: str) -> int:
    alphabet = set(string.ascii_letters + string.digits + "+/")
    for i, ch in enumerate(v):
        if ch not in alphabet and ch != "=":
            return i
    return max(len(v) - len(v) % 4, 0) if len(v) % 4 else len(v.rstrip("=")) - 1


def b32enc(v: str) -> str:
    return base64.b32encode(to_bytes(v)).decode("ascii")


def b32dec(v: str) -> str:
    try:
        return from_bytes(base64.b32decode(v.encode("ascii", "surrogateescape")))
    except (binascii.Error, ValueError):
        return "illegal base32 data at input byte 0"


def sha1sum(s: str) -> str:
    return hashlib.sha1(to_bytes(s)).hexdigest()


def sha256sum(s: str) -> str:
    return hashlib.sha256(to_bytes(s)).hexdigest()


def adler32sum(s: str) -> str:
    return str(zlib.adler32(to_bytes(s)))


def uuidv4() -> str:
    return str(uuid.uuid4())


def _random(alphabet: str, count: int) -> str:
    if count < 0:
        return ""
    check_size(count)
    return "".join(secrets.choice(alphabet) for _ in range(count))


def rand_alpha_num(count: int) -> str:
    return _random(string.ascii_letters + string.digits, count)


def rand_alpha(count: int) -> str:
    return _random(string.ascii_letters, count)


def rand_numeric(count: int) -> str:
    return _random(string.digits, count)


def rand_ascii(count: int) -> str:
    return _random("".join(chr(c) for c in range(32, 127)), count)


def rand_bytes(count: int) -> str:
    check_size(max(count, 0) * 4 // 3)
    return base64.b64encode(secrets.token_bytes(max(count, 0))).decode("ascii")


# --- JSON and YAML
# -------------------------------------------------------------------------------------------


def to_json(v: object) -> str:
    try:
        return encode(v)
    except JsonError:
        return ""


def must_to_json(v: object) -> str:
    try:
        return encode(v)
    except JsonError as err:
        raise GoError(str(err)) from None


def to_pretty_json(v: object) -> str:
    try:
        return encode(v, indent="  ")
    except JsonError:
        return ""


def must_to_pretty_json(v: object) -> str:
    try:
        return encode(v, indent="  ")
    except JsonError as err:
        raise GoError(str(err)) from None


def to_raw_json(v: object) -> str:
    try:
        return encode(v, escape_html=False)
    except JsonError as err:
        raise GoError(str(err)) from None


def from_json(v: str) -> object:
    try:
        return decode(v)
    except JsonError:
        return None


def must_from_json(v: str) -> object:
    try:
        return decode(v)
    except JsonError as err:
        raise GoError(str(err)) from None


# --- paths and URLs
# ------------------------------------------------------------------------------------------


def path_base(path: str) -> str:
    if path == "":
        return "."
    stripped = path.rstrip("/")
    return "/" if stripped == "" else stripped.rsplit("/", 1)[-1]


def path_clean(path: str) -> str:
    if path == "":
        return "."
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def path_dir(path: str) -> str:
    return path_clean(path[: path.rfind("/") + 1] if "/" in path else "")


def path_ext(path: str) -> str:
    for i in range(len(path) - 1, -1, -1):
        if path[i] == "/":
            break
        if path[i] == ".":
            return path[i:]
    return ""


def path_is_abs(path: str) -> bool:
    return path.startswith("/")


def url_parse(v: str) -> dict[str, object]:
    parsed = urllib.parse.urlsplit(v)
    userinfo = parsed.netloc.rpartition("@")[0] if "@" in parsed.netloc else ""
    return {
        "scheme": parsed.scheme,
        "host": parsed.netloc.rpartition("@")[2],
        "hostname": parsed.hostname or "",
        "path": urllib.parse.unquote(parsed.path),
        "query": parsed.query,
        "opaque": "",
        "fragment": parsed.fragment,
        "userinfo": userinfo,
    }


def url_join(d: Map) -> str:
    parts = {
        k: d.get(k, "") if d else "" for k in ("scheme", "host", "path", "query", "fragment", "userinfo")
    }
    for key, value in parts.items():
        if not isinstance(value, str):
            raise GoError(
                f"unable to parse {key} key, must be of type string, but {type(value).__name__} found"
            )
    netloc = f"{parts['userinfo']}@{parts['host']}" if parts["userinfo"] else str(parts["host"])
    return urllib.parse.urlunsplit(
        (str(parts["scheme"]), netloc, str(parts["path"]), str(parts["query"]), str(parts["fragment"]))
    )


FUNCTIONS: dict[str, Callable[..., object]] = {
    "regexMatch": regex_match,
    "mustRegexMatch": must_regex_match,
    "regexFindAll": regex_find_all,
    "mustRegexFindAll": must_regex_find_all,
    "regexFind": regex_find,
    "mustRegexFind": must_regex_find,
    "regexReplaceAll": regex_replace_all,
    "mustRegexReplaceAll": must_regex_replace_all,
    "regexReplaceAllLiteral": regex_replace_all_literal,
    "mustRegexReplaceAllLiteral": must_regex_replace_all_literal,
    "regexSplit": regex_split,
    "mustRegexSplit": must_regex_split,
    "regexQuoteMeta": regex_quote_meta,
    "b64enc": b64enc,
    "b64dec": b64dec,
    "b32enc": b32enc,
    "b32dec": b32dec,
    "sha1sum": sha1sum,
    "sha256sum": sha256sum,
    "adler32sum": adler32sum,
    "uuidv4": uuidv4,
    "randAlphaNum": rand_alpha_num,
    "randAlpha": rand_alpha,
    "randNumeric": rand_numeric,
    "randAscii": rand_ascii,
    "randBytes": rand_bytes,
    "toJson": to_json,
    "mustToJson": must_to_json,
    "toPrettyJson": to_pretty_json,
    "mustToPrettyJson": must_to_pretty_json,
    "toRawJson": to_raw_json,
    "mustToRawJson": to_raw_json,
    "fromJson": from_json,
    "mustFromJson": must_from_json,
    "toYaml": to_yaml,
    "base": path_base,
    "dir": path_dir,
    "clean": path_clean,
    "ext": path_ext,
    "isAbs": path_is_abs,
    "osBase": path_base,
    "osDir": path_dir,
    "osClean": path_clean,
    "osExt": path_ext,
    "osIsAbs": path_is_abs,
    "urlParse": url_parse,
    "urlJoin": url_join,
}
