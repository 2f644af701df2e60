"""Go's time.Time for templates: layout-string formatting ("2006-01-02 15:04:05") and parsing, and the methods
templates call on times (``.Unix``, ``.Format``, ``.UTC``, …)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_SIMPLE = {"01": "01", "02": "02", "03": "03", "04": "04", "05": "05", "06": "06", "002": "002"}


def _is_digit(text: str, i: int) -> bool:
    return i < len(text) and text[i].isdigit()


def _zone_token(layout: str, i: int, lead: str) -> str | None:
    for token in ("070000", "07:00:00", "0700", "07:00", "07"):
        if layout.startswith(lead + token, i):
            return lead + token
    return None


def _frac_token(layout: str, i: int) -> str | None:
    if i + 1 < len(layout) and layout[i + 1] in "09":
        j = i + 1
        while j < len(layout) and layout[j] == layout[i + 1]:
            j += 1
        if not _is_digit(layout, j):
            return layout[i:j]
    return None


def _chunk_at(layout: str, i: int) -> str | None:
    """The std chunk starting at layout[i] (Go's nextStdChunk), or None for a literal character."""
    rest = layout[i:]
    c = layout[i]
    if c == "J" and rest.startswith("Jan"):
        if rest.startswith("January"):
            return "January"
        return None if rest[3:4].islower() else "Jan"
    if c == "M":
        if rest.startswith("Mon"):
            if rest.startswith("Monday"):
                return "Monday"
            if not rest[3:4].islower():
                return "Mon"
        return "MST" if rest.startswith("MST") else None
    if c == "0":
        if rest[1:2] and "1" <= rest[1] <= "6":
            return rest[:2]
        return "002" if rest.startswith("002") else None
    if c == "1":
        return "15" if rest.startswith("15") else "1"
    if c == "2":
        return "2006" if rest.startswith("2006") else "2"
    if c == "_":
        if rest.startswith("_2") and not rest.startswith("_2006"):
            return "_2"
        return "__2" if rest.startswith("__2") else None
    if c in "345":
        return c
    if (c == "P" and rest.startswith("PM")) or (c == "p" and rest.startswith("pm")):
        return rest[:2]
    if c in "-Z":
        return _zone_token(layout, i, c)
    if c in ".,":
        return _frac_token(layout, i)
    return None


def tokenize(layout: str) -> list[tuple[bool, str]]:
    """Split a layout into (is_std_chunk, text) pieces."""
    pieces: list[tuple[bool, str]] = []
    literal: list[str] = []
    i = 0
    while i < len(layout):
        chunk = _chunk_at(layout, i)
        if chunk is None:
            literal.append(layout[i])
            i += 1
            continue
        if literal:
            pieces.append((False, "".join(literal)))
            literal = []
        pieces.append((True, chunk))
        i += len(chunk)
    if literal:
        pieces.append((False, "".join(literal)))
    return pieces


def _zone(moment: dt.datetime, token: str) -> str:
    offset = moment.utcoffset() or dt.timedelta(0)
    seconds = int(offset.total_seconds())
    if token.startswith("Z") and seconds == 0:
        return "Z"
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hh, mm, ss = seconds // 3600, seconds // 60 % 60, seconds % 60
    body = token[1:]
    if body in ("070000", "07:00:00"):
        sep = ":" if ":" in body else ""
        return f"{sign}{hh:02d}{sep}{mm:02d}{sep}{ss:02d}"
    if body in ("0700", "07:00"):
        return f"{sign}{hh:02d}{':' if ':' in body else ''}{mm:02d}"
    return f"{sign}{hh:02d}"


def zone_name(moment: dt.datetime) -> str:
    """The zone abbreviation Go prints for MST; an unnamed fixed offset prints as -0700."""
    name = moment.tzname() or ""
    if name == "UTC" or (name and not name.startswith("UTC")):
        return name
    return _zone(moment, "-0700")


def _frac(moment: dt.datetime, token: str, nanos: int) -> str:
    digits = f"{nanos:09d}"[: len(token) - 1]
    if token[1] == "9":
        digits = digits.rstrip("0")
        return token[0] + digits if digits else ""
    return token[0] + digits


def _format_chunk(moment: dt.datetime, token: str, nanos: int) -> str:
    hour12 = moment.hour % 12 or 12
    simple = {
        "January": _MONTHS[moment.month - 1],
        "Jan": _MONTHS[moment.month - 1][:3],
        "Monday": _DAYS[moment.weekday()],
        "Mon": _DAYS[moment.weekday()][:3],
        "MST": zone_name(moment),
        "01": f"{moment.month:02d}",
        "02": f"{moment.day:02d}",
        "03": f"{hour12:02d}",
        "04": f"{moment.minute:02d}",
        "05": f"{moment.second:02d}",
        "06": f"{moment.year % 100:02d}",
        "002": f"{moment.timetuple().tm_yday:03d}",
        "1": str(moment.month),
        "15": f"{moment.hour:02d}",
        "2006": f"{moment.year:04d}",
        "2": str(moment.day),
        "_2": f"{moment.day:2d}",
        "__2": f"{moment.timetuple().tm_yday:3d}",
        "3": str(hour12),
        "4": str(moment.minute),
        "5": str(moment.second),
        "PM": "PM" if moment.hour >= 12 else "AM",
        "pm": "pm" if moment.hour >= 12 else "am",
    }
    if token in simple:
        return simple[token]
    if token[0] in "-Z":
        return _zone(moment, token)
    return _frac(moment, token, nanos)


def format_time(moment: dt.datetime, layout: str, nanos: int | None = None) -> str:
    """time.Time.Format."""
    nanos = moment.microsecond * 1000 if nanos is None else nanos
    return "".join(_format_chunk(moment, text, nanos) if std else text for std, text in tokenize(layout))


def load_location(name: str) -> dt.tzinfo | None:
    """time.LoadLocation: "" and "UTC" are UTC, "Local" is the machine's zone."""
    if name in ("", "UTC"):
        return dt.UTC
    if name == "Local":
        return dt.datetime.now().astimezone().tzinfo
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


_PARSE_PATTERNS = {
    "January": "(?P<month_name>" + "|".join(_MONTHS) + ")",
    "Jan": "(?P<month_abbr>" + "|".join(m[:3] for m in _MONTHS) + ")",
    "Monday": "(?:" + "|".join(_DAYS) + ")",
    "Mon": "(?:" + "|".join(d[:3] for d in _DAYS) + ")",
    "MST": "(?P<zone_name>[A-Z]{3,5}|[+-]\\d\\d)",
    "01": "(?P<month>\\d\\d)",
    "02": "(?P<day>\\d\\d)",
    "03": "(?P<hour12>\\d\\d)",
    "04": "(?P<minute>\\d\\d)",
    "05": "(?P<second>\\d\\d)",
    "06": "(?P<year2>\\d\\d)",
    "002": "(?P<yday>\\d\\d\\d)",
    "1": "(?P<month>\\d\\d?)",
    "15": "(?P<hour>\\d\\d?)",
    "2006": "(?P<year>\\d\\d\\d\\d)",
    "2": "(?P<day>\\d\\d?)",
    "_2": "(?P<day> ?\\d\\d?)",
    "3": "(?P<hour12>\\d\\d?)",
    "4": "(?P<minute>\\d\\d?)",
    "5": "(?P<second>\\d\\d?)",
    "PM": "(?P<ampm>AM|PM)",
    "pm": "(?P<ampm>am|pm)",
}


def _parse_regex(layout: str) -> str:
    parts: list[str] = []
    for std, text in tokenize(layout):
        if not std:
            parts.append(re.escape(text))
        elif text in _PARSE_PATTERNS:
            parts.append(_PARSE_PATTERNS[text])
        elif text[0] in "-Z":
            parts.append("(?P<zone>Z|[+-]\\d\\d(?::?\\d\\d)?(?::?\\d\\d)?)")
        else:
            parts.append("(?P<frac>[.,]\\d+)?")
    return "".join(parts)


def parse_time(layout: str, value: str, location: dt.tzinfo) -> dt.datetime:
    """time.ParseInLocation for the common layouts; ValueError when the value does not fit."""
    match = re.fullmatch(_parse_regex(layout), value)
    if match is None:
        first = tokenize(layout)[0][1] if layout else layout
        raise ValueError(f'parsing time "{value}" as "{layout}": cannot parse "{value}" as "{first}"')
    g = {k: v for k, v in match.groupdict().items() if v is not None}
    month = int(g["month"]) if "month" in g else _month_from_name(g)
    hour = int(g.get("hour", 0))
    if "hour12" in g:
        hour = int(g["hour12"]) % 12 + (12 if g.get("ampm", "").upper() == "PM" else 0)
    year = (
        int(g["year"])
        if "year" in g
        else (int(g["year2"]) + (1900 if int(g["year2"]) >= 69 else 2000) if "year2" in g else 0)
    )
    frac = g.get("frac", ".0")[1:]
    micro = int((frac + "000000")[:6])
    tz = _zone_info(g.get("zone"), location)
    return dt.datetime(max(year, 1), month, int(g.get("day", 1)), hour, int(g.get("minute", 0)),
                       int(g.get("second", 0)), micro, tzinfo=tz)  # fmt: skip


def _month_from_name(groups: dict[str, str]) -> int:
    if "month_name" in groups:
        return _MONTHS.index(groups["month_name"]) + 1
    if "month_abbr" in groups:
        return [m[:3] for m in _MONTHS].index(groups["month_abbr"]) + 1
    return 1


def _zone_info(zone: str | None, default: dt.tzinfo) -> dt.tzinfo:
    if zone is None:
        return default
    if zone == "Z":
        return dt.UTC
    digits = zone[1:].replace(":", "")
    seconds = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60 + int(digits[4:6] or 0)
    return dt.timezone(dt.timedelta(seconds=-seconds if zone[0] == "-" else seconds))


class GoTime:
    """A time.Time value: prints like Go and exposes Go's common methods to templates."""

    go_type_name = "time.Time"
    go_kind_name = "struct"

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment if moment.tzinfo is not None else moment.astimezone()

    def go_string(self) -> str:
        return self.String()

    def go_json(self) -> str:
        return format_time(self.moment, "2006-01-02T15:04:05.999999999Z07:00")

    def String(self) -> str:
        return format_time(self.moment, "2006-01-02 15:04:05.999999999 -0700 MST")

    def Format(self, layout: str) -> str:
        return format_time(self.moment, layout)

    def Unix(self) -> int:
        return int(self.moment.timestamp() // 1)

    def UnixNano(self) -> int:
        return int(self.moment.timestamp()) * 1_000_000_000 + self.moment.microsecond * 1000

    def UTC(self) -> GoTime:
        return GoTime(self.moment.astimezone(dt.UTC))

    def Local(self) -> GoTime:
        return GoTime(self.moment.astimezone())

    def Year(self) -> int:
        return self.moment.year

    def Month(self) -> int:
        return self.moment.month

    def Day(self) -> int:
        return self.moment.day

    def Hour(self) -> int:
        return self.moment.hour

    def Minute(self) -> int:
        return self.moment.minute

    def Second(self) -> int:
        return self.moment.second

    def YearDay(self) -> int:
        return self.moment.timetuple().tm_yday

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoTime) and self.moment == other.moment

    def __hash__(self) -> int:
        return hash(self.moment)

    def __repr__(self) -> str:
        return f"GoTime({self.String()})"
