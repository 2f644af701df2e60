"""sprig's date functions (date.go): now, date, dateInZone, unixEpoch, dateModify, duration, ago, toDate…"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from .errors import GoError
from .gotime import GoTime, format_time, load_location, parse_time
from .gotypes import Int64, is_int


def now() -> GoTime:
    return GoTime(dt.datetime.now().astimezone())


def _as_moment(date: object) -> dt.datetime:
    if isinstance(date, GoTime):
        return date.moment
    if is_int(date) and not isinstance(date, bool):
        return dt.datetime.fromtimestamp(int(date), dt.UTC)
    return dt.datetime.now(dt.UTC)


def date_in_zone(fmt: str, date: object, zone: str) -> str:
    location = load_location(zone) or dt.UTC
    return format_time(_as_moment(date).astimezone(location), fmt)


def date(fmt: str, date_: object) -> str:
    return date_in_zone(fmt, date_, "Local")


def html_date(date_: object) -> str:
    return date_in_zone("2006-01-02", date_, "Local")


def html_date_in_zone(date_: object, zone: str) -> str:
    return date_in_zone("2006-01-02", date_, zone)


def unix_epoch(date_: GoTime) -> str:
    return str(date_.Unix())


_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """time.ParseDuration, in seconds."""
    body = text.lstrip("+-")
    negative = text.startswith("-")
    if body == "0":
        return 0.0
    position, total = 0, 0.0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        if match is None:
            raise ValueError(f'time: invalid duration "{text}"')
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not body:
        raise ValueError(f'time: invalid duration "{text}"')
    return -total if negative else total


def format_duration(seconds: float) -> str:
    """time.Duration.String for whole-second durations and fractions."""
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                return sign + _trim(nanos / size) + unit
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    secs = _trim(rest / 1e9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}"
    if minutes:
        return f"{sign}{minutes}m{secs}"
    return sign + secs


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def date_modify(fmt: str, date_: GoTime) -> GoTime:
    try:
        delta = parse_duration(fmt)
    except ValueError:
        return date_
    return GoTime(date_.moment + dt.timedelta(seconds=delta))


def must_date_modify(fmt: str, date_: GoTime) -> GoTime:
    try:
        delta = parse_duration(fmt)
    except ValueError as err:
        raise GoError(str(err)) from None
    return GoTime(date_.moment + dt.timedelta(seconds=delta))


def duration(sec: object) -> str:
    """sprig's duration: seconds as an int64 or a decimal string; any other type (even int) counts as 0."""
    seconds = 0
    if isinstance(sec, Int64):
        seconds = int(sec)
    elif isinstance(sec, str):
        text = sec[1:] if sec[:1] in "+-" else sec
        seconds = int(sec) if text.isdigit() and text.isascii() else 0
    return format_duration(float(seconds))


_ROUND_UNITS = (
    ("y", 365 * 24 * 3600 * 10**9),
    ("mo", 30 * 24 * 3600 * 10**9),
    ("d", 24 * 3600 * 10**9),
    ("h", 3600 * 10**9),
    ("m", 60 * 10**9),
    ("s", 10**9),
)


def duration_round(value: object) -> str:
    """sprig's durationRound: the largest whole unit (y, mo, d, h, m, s) strictly exceeded."""
    nanos = 0
    if isinstance(value, Int64):
        nanos = int(value)
    elif isinstance(value, str):
        try:
            nanos = round(parse_duration(value) * 1e9)
        except ValueError:
            nanos = 0
    elif isinstance(value, GoTime):
        nanos = round((dt.datetime.now(dt.UTC) - value.moment).total_seconds() * 1e9)
    nanos = abs(nanos)
    for unit, size in _ROUND_UNITS:
        if nanos > size:
            return f"{nanos // size}{unit}"
    return "0s"


def ago(date_: object) -> str:
    elapsed = (dt.datetime.now(dt.UTC) - _as_moment(date_)).total_seconds()
    return format_duration(float(round(elapsed)))


def to_date(fmt: str, text: str) -> GoTime:
    try:
        return must_to_date(fmt, text)
    except GoError:
        return GoTime(dt.datetime(1, 1, 1, tzinfo=dt.UTC))


def must_to_date(fmt: str, text: str) -> GoTime:
    local = dt.datetime.now().astimezone().tzinfo or dt.UTC
    try:
        return GoTime(parse_time(fmt, text, local))
    except ValueError as err:
        raise GoError(str(err)) from None


FUNCTIONS: dict[str, Callable[..., object]] = {
    "ago": ago,
    "date": date,
    "date_in_zone": date_in_zone,
    "date_modify": date_modify,
    "dateInZone": date_in_zone,
    "dateModify": date_modify,
    "duration": duration,
    "durationRound": duration_round,
    "htmlDate": html_date,
    "htmlDateInZone": html_date_in_zone,
    "must_date_modify": must_date_modify,
    "mustDateModify": must_date_modify,
    "mustToDate": must_to_date,
    "now": now,
    "toDate": to_date,
    "unixEpoch": unix_epoch,
}
