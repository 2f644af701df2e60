"""Any input text either renders to a string or fails with TemplateError, never with another exception."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipyard.config.template import TemplateError, render

FRAGMENTS = [
    "{{",
    "}}",
    "{{-",
    "-}}",
    "{{/*",
    "*/}}",
    " ",
    "\n",
    ".",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    "(",
    ")",
    ",",
    '"',
    "`",
    "'",
    "-",
    "1",
    "0x1F",
    "1.5e3",
    "'a'",
    "nil",
    "true",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    ".a",
    ".a.b",
    "$.a",
    "printf",
    '"%d"',
    "index",
    "len",
    "eq",
    "and",
    "or",
    "not",
    "include",
    "tpl",
    "default",
    "dict",
    "list",
    "toYaml",
    "fromYaml",
    "toJson",
    "regexFind",
    '"(["',
    "until",
    "add",
    "div",
    "0",
    "slice",
    "call",
    "required",
    "semverCompare",
    "quote",
    "upper",
    "x",
    "é",
    "\t",
]

template_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=30).map("".join)

DATA = {"a": {"b": [1, "x", None]}, "s": "str", "n": None, "l": [1, 2], "f": 1.5}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template_text)
def test_arbitrary_text_renders_or_raises_template_error(text: str) -> None:
    try:
        result = render(text, data=DATA)
    except TemplateError as err:
        assert err.message.startswith("template: ")
    else:
        assert isinstance(result, str)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_inside_an_action(text: str) -> None:
    with contextlib.suppress(TemplateError):
        render("{{ " + text + " }}", data=DATA)
