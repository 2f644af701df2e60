"""sprig's list functions (list.go): they accept any slice and return ``[]interface {}``; misuse panics, which
the executor reports as ``error calling NAME: …`` like Go's safeCall."""

from __future__ import annotations

from collections.abc import Callable

from .errors import GoError
from .gotypes import MISSING, IntList, StrList, kind_name, type_name
from .limits import check_length
from .sprig_convert import to_int
from .sprig_defaults import deep_equal, empty

_NIL_DEREFERENCE = "runtime error: invalid memory address or nil pointer dereference"
_HASHABLE = (str, int, float, bool)


def _items(value: object, action: str) -> list[object]:
    """The elements of a Go slice; sprig's reflect.TypeOf(nil).Kind() panics on nil."""
    if value is None or value is MISSING:
        raise GoError(_NIL_DEREFERENCE)
    if isinstance(value, list | tuple):
        return list(value)
    raise GoError(f"Cannot {action} type {kind_name(value)}")


def list_(*values: object) -> list[object]:
    return list(values)


def push(lst: object, v: object) -> list[object]:
    return [*_items(lst, "push on"), v]


def prepend(lst: object, v: object) -> list[object]:
    return [v, *_items(lst, "prepend on")]


def chunk(size: int, lst: object) -> list[object]:
    items = _items(lst, "chunk")
    if size <= 0:
        raise GoError("runtime error: integer divide by zero")
    return [items[i : i + size] for i in range(0, len(items), size)]


def last(lst: object) -> object:
    items = _items(lst, "find last on")
    return items[-1] if items else None


def first(lst: object) -> object:
    items = _items(lst, "find first on")
    return items[0] if items else None


def rest(lst: object) -> list[object]:
    return _items(lst, "find rest on")[1:]


def initial(lst: object) -> list[object]:
    return _items(lst, "find initial on")[:-1]


def sort_alpha(lst: object) -> StrList:
    from .sprig_strings import to_strings

    if isinstance(lst, list | tuple):
        return StrList(sorted(to_strings(lst)))
    from .gostrings import strval

    return StrList([strval(lst)])


def reverse(v: object) -> list[object]:
    return _items(v, "find reverse on")[::-1]


def compact(lst: object) -> list[object]:
    return [x for x in _items(lst, "compact on") if not empty(x)]


def uniq(lst: object) -> list[object]:
    """First occurrences under reflect.DeepEqual: plain scalars by (Go type, value) in a set, so a long list
    costs linear time; other values (and NaN, never equal to itself) by comparison."""
    result: list[object] = []
    seen: set[tuple[str, object]] = set()
    others: list[object] = []
    for item in _items(lst, "find uniq on"):
        if item is None or item is MISSING:
            key: tuple[str, object] | None = ("nil", None)
        elif isinstance(item, _HASHABLE) and item == item:
            key = (type_name(item), item)
        else:
            key = None
        if key is not None:
            if key not in seen:
                seen.add(key)
                result.append(item)
        elif not any(deep_equal(item, other) for other in others):
            others.append(item)
            result.append(item)
    return result


def without(lst: object, *omit: object) -> list[object]:
    return [x for x in _items(lst, "find without on") if not any(deep_equal(x, o) for o in omit)]


def has(needle: object, haystack: object) -> bool:
    if haystack is None or haystack is MISSING:
        return False
    items = _items(haystack, "find has on")
    if isinstance(needle, _HASHABLE) and needle == needle:  # a plain scalar: same Go type and value
        kind = type(needle)
        return any(type(x) is kind and x == needle for x in items)
    return any(deep_equal(needle, x) for x in items)


def slice_(lst: object, *indices: object) -> object:
    if lst is None or lst is MISSING:
        raise GoError(_NIL_DEREFERENCE)
    if not isinstance(lst, list | tuple):
        raise GoError(f"list should be type of slice or array but {kind_name(lst)}")
    if not lst:
        return None
    start = to_int(indices[0]) if indices else 0
    end = to_int(indices[1]) if len(indices) >= 2 else len(lst)
    if not 0 <= start <= end <= len(lst):
        raise GoError("reflect.Value.Slice: slice index out of bounds")
    return type(lst)(lst[start:end]) if isinstance(lst, list) else list(lst[start:end])


def concat(*lists: object) -> list[object]:
    result: list[object] = []
    for lst in lists:
        if lst is None or lst is MISSING:
            raise GoError(_NIL_DEREFERENCE)
        if not isinstance(lst, list | tuple):
            raise GoError(f"Cannot concat type {kind_name(lst)} as list")
        check_length(len(result) + len(lst))
        result.extend(lst)
    return result


def until_step(start: int, stop: int, step: int) -> IntList:
    if (stop < start and step >= 0) or (stop >= start and step <= 0):
        return IntList()
    numbers = range(start, stop, step)
    check_length(len(numbers))
    return IntList(numbers)


def until(count: int) -> IntList:
    return until_step(0, count, -1 if count < 0 else 1)


def seq(*params: int) -> str:
    """sprig's seq: like GNU seq (1..n, a..b, or a..b by step)."""
    if len(params) == 1:
        end = params[0]
        step = -1 if end < 1 else 1
        return " ".join(map(str, until_step(1, end + step, step)))
    if len(params) == 2:
        start, end = params
        step = -1 if end < start else 1
        return " ".join(map(str, until_step(start, end + step, step)))
    if len(params) == 3:
        start, step, end = params
        increment = 1
        if end < start:
            increment = -1
            if step > 0:
                return ""
        return " ".join(map(str, until_step(start, end + increment, step)))
    return ""


FUNCTIONS: dict[str, Callable[..., object]] = {
    "list": list_,
    "tuple": list_,
    "append": push,
    "push": push,
    "mustAppend": push,
    "mustPush": push,
    "prepend": prepend,
    "mustPrepend": prepend,
    "first": first,
    "mustFirst": first,
    "rest": rest,
    "mustRest": rest,
    "last": last,
    "mustLast": last,
    "initial": initial,
    "mustInitial": initial,
    "reverse": reverse,
    "mustReverse": reverse,
    "uniq": uniq,
    "mustUniq": uniq,
    "without": without,
    "mustWithout": without,
    "has": has,
    "mustHas": has,
    "slice": slice_,
    "mustSlice": slice_,
    "concat": concat,
    "chunk": chunk,
    "mustChunk": chunk,
    "compact": compact,
    "mustCompact": compact,
    "sortAlpha": sort_alpha,
    "until": until,
    "untilStep": until_step,
    "seq": seq,
}
