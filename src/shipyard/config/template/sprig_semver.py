"""sprig's semver and semverCompare (Masterminds/semver v3): lenient versions, constraint ranges with
``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=``, ``~``, ``^``, wildcards, hyphen ranges, ``,``/space AND and
``||`` OR."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import GoError

_VERSION = re.compile(
    r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
_INVALID = "Invalid Semantic Version"


@dataclass(frozen=True)
class Version:
    """A parsed version; the Go methods are the template API."""

    major: int
    minor: int
    patch: int
    pre: str
    metadata: str
    original: str

    go_type_name = "*semver.Version"

    def Major(self) -> int:
        return self.major

    def Minor(self) -> int:
        return self.minor

    def Patch(self) -> int:
        return self.patch

    def Prerelease(self) -> str:
        return self.pre

    def Metadata(self) -> str:
        return self.metadata

    def Original(self) -> str:
        return self.original

    def String(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        text += f"-{self.pre}" if self.pre else ""
        return text + (f"+{self.metadata}" if self.metadata else "")

    def go_string(self) -> str:
        return self.String()

    def Compare(self, other: Version) -> int:
        return self.compare(other)

    def LessThan(self, other: Version) -> bool:
        return self.compare(other) < 0

    def GreaterThan(self, other: Version) -> bool:
        return self.compare(other) > 0

    def Equal(self, other: Version) -> bool:
        return self.compare(other) == 0

    def compare(self, other: Version) -> int:
        for a, b in ((self.major, other.major), (self.minor, other.minor), (self.patch, other.patch)):
            if a != b:
                return -1 if a < b else 1
        return _compare_prerelease(self.pre, other.pre)


def _compare_identifier(a: str, b: str) -> int:
    if a.isdigit() and b.isdigit():
        return (int(a) > int(b)) - (int(a) < int(b))
    if a.isdigit() != b.isdigit():
        return -1 if a.isdigit() else 1
    return (a > b) - (a < b)


def _compare_prerelease(a: str, b: str) -> int:
    if a == b:
        return 0
    if not a or not b:
        return 1 if not a else -1
    left, right = a.split("."), b.split(".")
    for x, y in zip(left, right, strict=False):
        result = _compare_identifier(x, y)
        if result:
            return result
    return (len(left) > len(right)) - (len(left) < len(right))


def parse_version(text: str) -> Version:
    match = _VERSION.fullmatch(text)
    if match is None:
        raise GoError(_INVALID)
    pre = match.group(4) or ""
    if any(p.isdigit() and len(p) > 1 and p.startswith("0") for p in pre.split(".") if pre):
        raise GoError("Version segment starts with 0")
    numbers = [int((g or ".0").lstrip(".") or 0) for g in match.groups()[:3]]
    return Version(numbers[0], numbers[1], numbers[2], pre, match.group(5) or "", text)


_CONSTRAINT = re.compile(
    r"\s*(=>|=<|>=|<=|!=|~>|[=><~^])?\s*(v?(?:[0-9]+|[xX*])(?:\.(?:[0-9]+|[xX*]))?(?:\.(?:[0-9]+|[xX*]))?"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\s*"
)


@dataclass(frozen=True)
class _Constraint:
    op: str
    version: Version
    wild: int  # how many leading parts are fixed: 0 (*), 1 (1.x), 2 (1.2.x) or 3


def _parse_constraint(op: str, text: str) -> _Constraint:
    parts = text.lstrip("v").split("-")[0].split("+")[0].split(".")
    fixed = 0
    for part in parts:
        if part in ("x", "X", "*"):
            break
        fixed += 1
    cleaned = ".".join(p if p not in ("x", "X", "*") else "0" for p in parts)
    suffix = text[len(text.split("-")[0]) :] if "-" in text and fixed == len(parts) else ""
    version = parse_version(cleaned + suffix)
    return _Constraint({"=>": ">=", "=<": "<=", "~>": "~", "": "="}.get(op, op), version, min(fixed, 3))


def _bump(version: Version, fixed: int) -> Version:
    """The first version past the fixed prefix (1.2.x → 1.3.0, 1.x → 2.0.0)."""
    if fixed <= 1:
        return Version(version.major + 1, 0, 0, "", "", "")
    return Version(version.major, version.minor + 1, 0, "", "", "")


def _in_range(v: Version, low: Version, high: Version) -> bool:
    return v.compare(low) >= 0 and v.compare(high) < 0


def _check(c: _Constraint, v: Version) -> bool:
    # Pre-releases only satisfy constraints that mention one (semver issue 21), except an exact "!=".
    if v.pre and not c.version.pre and not (c.op == "!=" and c.wild >= 3):
        return False
    con, wild = c.version, c.wild
    if c.op == "=" or c.op == "!=":
        equal = v.compare(con) == 0 if wild >= 3 else wild == 0 or _in_range(v, con, _bump(con, wild))
        return equal if c.op == "=" else not equal
    if c.op == ">":
        return v.compare(con) > 0 if wild >= 3 else wild > 0 and v.compare(_bump(con, wild)) >= 0
    if c.op == "<":
        return v.compare(con) < 0
    if c.op == ">=":
        return v.compare(con) >= 0
    if c.op == "<=":
        return v.compare(con) <= 0 if wild >= 3 else wild == 0 or v.compare(_bump(con, wild)) < 0
    if c.op == "~":
        return v.compare(con) >= 0 and v.compare(_bump(con, 2 if wild >= 2 else 1)) < 0
    return _check_caret(con, wild, v)


def _check_caret(con: Version, wild: int, v: Version) -> bool:
    if v.compare(con) < 0:
        return False
    if con.major > 0 or wild <= 1:
        return v.major == con.major
    if con.minor > 0 or wild == 2:
        return v.major == 0 and v.minor == con.minor
    return v.major == 0 and v.minor == 0 and v.patch == con.patch


def _parse_group(group: str, whole: str) -> list[_Constraint]:
    hyphen = re.fullmatch(r"\s*(\S+)\s+-\s+(\S+)\s*", group)
    if hyphen:
        return [_parse_constraint(">=", hyphen.group(1)), _parse_constraint("<=", hyphen.group(2))]
    constraints: list[_Constraint] = []
    position = 0
    group = group.replace(",", " ")
    while position < len(group):
        match = _CONSTRAINT.match(group, position)
        if match is None or match.end() == position:
            raise GoError(f"improper constraint: {whole}")
        constraints.append(_parse_constraint(match.group(1) or "", match.group(2)))
        position = match.end()
    if not constraints:
        raise GoError(f"improper constraint: {whole}")
    return constraints


def semver_compare(constraint: str, version: str) -> bool:
    groups = [_parse_group(g, constraint) for g in constraint.split("||")]
    parsed = parse_version(version)
    return any(all(_check(c, parsed) for c in group) for group in groups)


def semver(version: str) -> Version:
    return parse_version(version)


FUNCTIONS: dict[str, Callable[..., object]] = {"semver": semver, "semverCompare": semver_compare}
