"""Go text/template with sprig and werf's functions, for rendering werf.yaml (stdlib + PyYAML only).

``render`` is the entry point; every failure is a ``TemplateError`` whose message is Go's, byte for byte::

    render('{{ $_ := set . "Base" "ubuntu:22.04" }}from: {{ .Base }}', data={})  ->  "from: ubuntu:22.04"

Data model: dict is ``map[string]interface {}``, list ``[]interface {}``, plus str, int, float, bool and None
(nil). Any other object stands for a Go struct: methods defined on its class are Go methods (so a ``Files``
class with ``def Get(self, path: str) -> str`` serves ``{{ .Files.Get "x" }}``), public attributes are fields,
and a callable stored on the instance or in a dict is a func value that templates invoke with ``call``, as in
Go. Functions passed to ``render`` may annotate their parameters (str, int, float, bool, ``Int64``, a dict
type, …) to get Go's constant conversions and argument type errors; raise ``GoError`` for Go-style failures
(``error calling NAME: …``).

Limits (limits.py): a hostile or runaway template stops with ``TemplateLimitError`` (a TemplateError) instead
of hanging, exhausting memory or overflowing Python's stack. Execution errors are located like Go's
(``template: NAME:LINE:COL: executing "NAME" at <…>: REASON``), parse errors as ``template: NAME:LINE: …``;
a limit hit inside an ``include`` is reported where it happened, without one ``error calling include``
wrapper per level.

====================  =============  =========================================================================
constant              value          what stops, and with what reason
====================  =============  =========================================================================
MAX_TEMPLATE_DEPTH    1,000          template/include/tpl calls in progress: ``exceeded maximum template depth
                                     (1000)`` (Go allows 100,000 ``template`` calls; Python's stack cannot)
MAX_NESTING_DEPTH     1,500          if/with/range blocks and parenthesized pipelines executing at once, and
                                     the nesting of a printed or encoded value: ``exceeded maximum nesting
                                     depth``, ``value is nested more than 1500 levels deep``
MAX_PARSE_DEPTH       1,000          parentheses and block bodies nested in one source (parse error): ``max
                                     expression depth exceeded`` (Go: 10,000 parentheses, blocks unlimited)
MAX_STEPS             3,000,000      execution steps (nodes, commands, arguments, range iterations, 2 more
                                     per function call, plus the size of function arguments and results):
                                     ``exceeded the budget of 3000000 execution steps`` -- about 3 s at most
MAX_OUTPUT_SIZE       64 Mi chars    what one execution (the file, an include, a tpl) writes: ``output
                                     exceeds the limit of 67108864 characters``
MAX_STRING_SIZE       64 Mi chars    a string a function returns, or a list or map printed or encoded
                                     (``repeat``, ``indent``, ``replace``, ``join``, ``printf``, ``toJson``…
                                     check before allocating): ``error calling repeat: string of N characters
                                     exceeds the limit of 67108864``
MAX_LIST_LENGTH       1,000,000      a list or map a function returns (``until``, ``untilStep``, ``seq``,
                                     ``split``/``splitn``/``splitList``, ``concat``, ``append``…): ``error
                                     calling until: list of N elements exceeds the limit of 1000000``
====================  =============  =========================================================================

A function call costs one step per CHARS_PER_STEP (64) characters of its string arguments and of a new string
it returns, and per ELEMENTS_PER_STEP (8) elements of its list arguments and of a new list or map, so a loop
calling a function that scans a long value stops in time, growing a list with ``append`` in a loop stops at
roughly 5,000 elements, and keeping many large strings alive stops long before memory runs out. While a
render runs, Python's recursion limit is raised to the caller's depth plus STACK_FRAMES (30,000) and
restored afterwards, so these limits trip before Python's own.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Errors are cheap and needed by callers that may never render (a werf.yaml without actions); the engine
# (~70 ms of imports: sprig, parser, executor) loads on first use of anything else (PEP 562).
from .errors import GoError, TemplateError, TemplateLimitError

if TYPE_CHECKING:
    from .engine import new_template_set, render
    from .gotime import GoTime
    from .gotypes import MISSING, Int64
    from .template import TemplateSet
    from .werf import tpl_name

_LAZY = {
    "new_template_set": ".engine", "render": ".engine", "GoTime": ".gotime", "MISSING": ".gotypes",
    "Int64": ".gotypes", "TemplateSet": ".template", "tpl_name": ".werf",
}

__all__ = [
    "MISSING",
    "GoError",
    "GoTime",
    "Int64",
    "TemplateError",
    "TemplateLimitError",
    "TemplateSet",
    "new_template_set",
    "render",
    "tpl_name",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value
