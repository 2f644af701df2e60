"""Resource limits: hostile or runaway templates stop with a TemplateLimitError instead of hanging the
process, exhausting its memory or overflowing Python's stack. The package docstring has the table.

Python's stack: each unit of nesting costs the parser or the executor a bounded number of Python frames
(measured: an ``include`` 12-14, a ``template`` call 3-7, a parenthesized pipeline 6, a block 3-4, a parser
level 4-5). The deepest render the three depth limits allow needs about 21,000 frames (measured: the
test_the_deepest_render_the_limits_allow shape fails with a STACK_FRAMES of 20,000, passes with 22,000), and
``stack_headroom`` lifts the interpreter's recursion limit (1000 by default) to the caller's depth plus
STACK_FRAMES while a render runs, so a limit always trips first. Python 3.11 runs Python-to-Python calls
without using the C stack; C-level recursion (``==`` or ``repr`` of nested lists, the json module) stays safe
on the default 8 MiB thread stack up to about 40,000 levels (measured), so STACK_FRAMES keeps below that.

Steps: with function calls weighted by CALL_STEPS, CPython spends 0.2-1.1 µs on one step (an empty ``range``
iteration at the low end, a pipeline of function calls at the high end; bench/template_render/hostile.py), so
MAX_STEPS stops any loop within about 3 s on a 2-core VM; the 1,000-image werf.yaml of
bench/template_render/images_1000.py uses about 0.24 million."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final

from .errors import GoError

MAX_TEMPLATE_DEPTH: Final = 1_000
"""``template``, ``include`` and ``tpl`` calls in progress at once (Go: 100,000 for ``template`` only)."""
MAX_NESTING_DEPTH: Final = 1_500
"""if/with/range blocks and parenthesized pipelines executing at once, across all templates; also the
nesting of a list or map that is printed or encoded."""
MAX_PARSE_DEPTH: Final = 1_000
"""Parentheses and if/with/range/block bodies nested in one source text (Go: 10,000 parentheses)."""
MAX_STEPS: Final = 3_000_000
"""Execution steps per render: see Budget."""
MAX_OUTPUT_SIZE: Final = 64 * 1024 * 1024
"""Characters one execution (the file, or one include or tpl) may write."""
MAX_STRING_SIZE: Final = 64 * 1024 * 1024
"""Characters in a string a function returns (or a printed or encoded value would expand to)."""
MAX_LIST_LENGTH: Final = 1_000_000
"""Elements (entries) in a list (map) a function returns."""
STACK_FRAMES: Final = 30_000
"""Python frames reserved above the caller's while a render runs."""

CALL_STEPS: Final = 2
"""A function call costs this many steps more than other nodes: calls are where the time goes."""
CHARS_PER_STEP: Final = 64
"""A function call costs one step per this many characters of each string argument and of a new string
result…"""
ELEMENTS_PER_STEP: Final = 8
"""…and per this many elements of each list argument and of a new list or map result."""


class LimitExceeded(GoError):
    """Raised inside a function; the executor reports ``error calling NAME: …`` as a TemplateLimitError."""


class Budget:
    """What one render (the file plus every include and tpl it runs) has used.

    ``steps`` counts down from MAX_STEPS: one per node walked (text, action, block, template call), per
    command and per argument, per range iteration; a function call costs CALL_STEPS more, plus steps for
    the size of its string and list arguments and of a new string, list or map it returns (CHARS_PER_STEP,
    ELEMENTS_PER_STEP: this meters functions that scan long values, bounds the memory a render allocates
    and the quadratic cost of growing a list with ``append`` in a loop); ``tpl`` costs one step per
    CHARS_PER_STEP characters it parses. ``depth`` counts template calls in progress, ``nesting`` blocks
    and parenthesized pipelines."""

    __slots__ = ("depth", "nesting", "steps")

    def __init__(self) -> None:
        self.steps = MAX_STEPS
        self.depth = 0
        self.nesting = 0


STEPS_EXCEEDED: Final = (
    f"exceeded the budget of {MAX_STEPS} execution steps (a range over a huge list or number, nested ranges, "
    "or a runaway recursion?)"
)
TEMPLATE_DEPTH_EXCEEDED: Final = f"exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})"
NESTING_EXCEEDED: Final = (
    f"exceeded maximum nesting depth ({MAX_NESTING_DEPTH}) of if/with/range blocks and parenthesized "
    "pipelines"
)
OUTPUT_EXCEEDED: Final = f"output exceeds the limit of {MAX_OUTPUT_SIZE} characters"
RECURSION_EXCEEDED: Final = "Python's recursion limit was reached (a value or template nested too deep)"
PARSE_DEPTH_EXCEEDED: Final = (
    f"max expression depth exceeded (more than {MAX_PARSE_DEPTH} nested parentheses and if/range/with/block)"
)


def check_length(count: int, what: str = "list") -> None:
    """A function is about to build a list (or map) of ``count`` elements."""
    if count > MAX_LIST_LENGTH:
        raise LimitExceeded(f"{what} of {count} elements exceeds the limit of {MAX_LIST_LENGTH}")


def check_size(size: int) -> None:
    """A function is about to build a string of ``size`` characters."""
    if size > MAX_STRING_SIZE:
        raise LimitExceeded(f"string of {size} characters exceeds the limit of {MAX_STRING_SIZE}")


def result_cost(result: object, argv: list[object]) -> int:
    """The steps a function result costs (0 when it is one of the arguments, returned as is); raises
    LimitExceeded when it is over a size limit."""
    if isinstance(result, str):
        size = len(result)
        check_size(size)
        if size < CHARS_PER_STEP or result in argv:
            return 0
        return size // CHARS_PER_STEP
    if isinstance(result, list | tuple | dict):
        size = len(result)
        check_length(size, "map" if isinstance(result, dict) else "list")
        if size < ELEMENTS_PER_STEP:
            return 0
        for arg in argv:
            if arg is result:
                return 0
        return size // ELEMENTS_PER_STEP
    return 0


def arguments_cost(argv: list[object]) -> int:
    """The steps a call costs for the size of its arguments: functions that scan a long string or list
    (``has``, ``contains``, ``sha256sum``, ``regexMatch``, ``fromYaml``, …) return small results. Maps are
    free, since most functions that take one only look keys up (``set``, ``get``, ``hasKey``, ``dig``); the
    ones that build a new map or list from it (``keys``, ``pick``, ``omit``) pay for their result."""
    cost = 0
    for arg in argv:
        if isinstance(arg, str):
            cost += len(arg) // CHARS_PER_STEP
        elif isinstance(arg, list | tuple):
            cost += len(arg) // ELEMENTS_PER_STEP
    return cost


def check_expanded_size(value: object) -> None:
    """Before printing or encoding a list or map: printed in full, it must fit in a string, be nested at most
    MAX_NESTING_DEPTH deep and not contain itself. Its size counts elements and characters, a shared sub-list
    as often as it is referenced: lists that share sub-lists (``$l = list $l $l`` in a loop) grow
    exponentially when printed. Each list or map is measured once, so this costs linear time."""
    if not isinstance(value, list | tuple | dict):
        return
    sizes: dict[int, int] = {}  # id → expanded size, for the lists and maps measured so far
    path: set[int] = set()  # the ids of the lists and maps being measured: value's ancestors
    pending: list[tuple[object, bool]] = [(value, False)]
    while pending:
        item, measured = pending.pop()
        children = list(item.values()) if isinstance(item, dict) else item
        assert isinstance(children, list | tuple)
        if measured:
            path.discard(id(item))
            size = sizes[id(item)] = len(children) + _children_size(children, sizes, item)
            if size > MAX_STRING_SIZE:
                raise LimitExceeded(f"value expands to more than {MAX_STRING_SIZE} elements and characters")
            continue
        if id(item) in sizes:
            continue
        if len(path) >= MAX_NESTING_DEPTH:
            raise LimitExceeded(f"value is nested more than {MAX_NESTING_DEPTH} levels deep")
        path.add(id(item))
        pending.append((item, True))
        for child in children:
            if isinstance(child, list | tuple | dict) and id(child) not in sizes:
                if id(child) in path:
                    raise LimitExceeded("value contains itself")
                pending.append((child, False))


def _children_size(children: list[object] | tuple[object, ...], sizes: dict[int, int], item: object) -> int:
    size = sum(len(k) for k in item if isinstance(k, str)) if isinstance(item, dict) else 0
    for child in children:
        if isinstance(child, str):
            size += len(child)
        elif isinstance(child, list | tuple | dict):
            size += sizes[id(child)]
    return size


_headroom_lock = threading.Lock()
_headroom_users = 0
_saved_limit = 0
_raised_limit = 0


def _frame_depth() -> int:
    frame: FrameType | None = sys._getframe()
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


@contextmanager
def stack_headroom() -> Iterator[None]:
    """Lift Python's recursion limit to the current depth plus STACK_FRAMES for the duration of the block
    (never lowering it); the limit in force before the first of any concurrent blocks comes back after the
    last one, unless someone else changed it meanwhile."""
    global _headroom_users, _saved_limit, _raised_limit
    needed = _frame_depth() + STACK_FRAMES
    with _headroom_lock:
        if _headroom_users == 0:
            _saved_limit, _raised_limit = sys.getrecursionlimit(), 0
        _headroom_users += 1
        if needed > sys.getrecursionlimit():
            sys.setrecursionlimit(needed)
            _raised_limit = needed
    try:
        yield
    finally:
        with _headroom_lock:
            _headroom_users -= 1
            if _headroom_users == 0 and _raised_limit and sys.getrecursionlimit() == _raised_limit:
                sys.setrecursionlimit(_saved_limit)
