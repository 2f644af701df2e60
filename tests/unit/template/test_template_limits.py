"""Resource limits: hostile templates stop with a located TemplateLimitError, never with RecursionError,
MemoryError or a hang. Costly loops run with a smaller step budget; bench/template_render/hostile.py times
the real limits."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shipyard.config.template as template
from shipyard.config.template import TemplateError, TemplateLimitError, limits, render

RECURSION = "recursion limit"


@contextlib.contextmanager
def expect_limit(fragment: str) -> Iterator[None]:
    """The block must raise TemplateLimitError naming ``fragment``, not Python's recursion limit."""
    with pytest.raises(TemplateLimitError) as caught:
        yield
    message = caught.value.message
    assert message.startswith("template: ")
    assert fragment in message, message
    assert RECURSION not in message
    assert len(message) < 1000  # no "error calling include: …" per level of recursion


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(limits, "MAX_STEPS", 50_000)
    return 50_000


def test_limits_are_module_constants_in_the_package_docstring() -> None:
    doc = template.__doc__ or ""
    for name in (
        "MAX_TEMPLATE_DEPTH",
        "MAX_NESTING_DEPTH",
        "MAX_PARSE_DEPTH",
        "MAX_STEPS",
        "MAX_OUTPUT_SIZE",
        "MAX_STRING_SIZE",
        "MAX_LIST_LENGTH",
    ):
        assert isinstance(getattr(limits, name), int)
        assert name in doc
    assert issubclass(TemplateLimitError, TemplateError)


# --- template, include and tpl depth ------------------------------------------------------------------------


def test_self_recursive_template_stops_with_gos_message_and_our_depth() -> None:
    with pytest.raises(TemplateLimitError) as caught:
        render('{{ define "loop" }}{{ template "loop" . }}{{ end }}{{ template "loop" . }}')
    # Go 1.19 says the same at 100000: 'template: werf.yaml:1:31: executing "loop" at <{{template "loop" .}}>:
    # exceeded maximum template depth (100000)'
    assert caught.value.message == (
        'template: werf.yaml:1:31: executing "loop" at <{{template "loop" .}}>: '
        "exceeded maximum template depth (1000)"
    )


def test_self_recursive_include_is_reported_once_at_the_include() -> None:
    with pytest.raises(TemplateLimitError) as caught:
        render('{{ define "loop" }}{{ include "loop" . }}{{ end }}{{ include "loop" . }}')
    assert caught.value.message == (
        'template: werf.yaml:1:22: executing "loop" at <include "loop" .>: '
        "exceeded maximum template depth (1000)"
    )


def test_recursion_through_tpl() -> None:
    with expect_limit("exceeded maximum template depth (1000)"):
        render('{{ define "x" }}{{ tpl "{{ include \\"x\\" . }}" . }}{{ end }}{{ include "x" 1 }}')


@pytest.mark.parametrize("call", ["template", "include"])
def test_template_depth_boundary(call: str) -> None:
    body = '{{ define "x" }}{{ if lt . LIMIT }}{{ CALL "x" (add . 1) }}{{ else }}{{ . }}{{ end }}{{ end }}'
    text = body.replace("CALL", call) + '{{ CALL "x" 1 }}'.replace("CALL", call)
    depth = limits.MAX_TEMPLATE_DEPTH
    assert render(text.replace("LIMIT", str(depth))) == str(depth)
    with expect_limit(f"exceeded maximum template depth ({depth})"):
        render(text.replace("LIMIT", str(depth + 1)))


# Each shape recurses until a limit stops it; the deepest ones sit at the edge of every limit at once.
DEFINE = '{{ define "x" }}BODY{{ end }}'
INCLUDE = '{{ include "x" . }}'
TPL_INCLUDE = '{{ tpl "{{ include \\"x\\" . }}" . }}'
STACK_SHAPES = {
    "include in blocks": DEFINE.replace("BODY", "{{ if . }}{{ with . }}" + INCLUDE + "{{ end }}{{ end }}"),
    "include in parentheses": DEFINE.replace("BODY", '{{ if . }}{{ ((include "x" .)) }}{{ end }}'),
    "template in range": DEFINE.replace("BODY", '{{ range list . }}{{ template "x" . }}{{ end }}'),
    "template and include": DEFINE.replace("BODY", '{{ template "y" . }}')
    + '{{ define "y" }}{{ include "x" . }}{{ end }}',
    "tpl in else if": DEFINE.replace("BODY", "{{ if not . }}{{ else if . }}" + TPL_INCLUDE + "{{ end }}"),
    "deep blocks per level": DEFINE.replace("BODY", "{{ if . }}" * 60 + INCLUDE + "{{ end }}" * 60),
    "deep parentheses per level": DEFINE.replace(
        "BODY", "{{ print " + "(print " * 60 + '(include "x" .)' + ")" * 60 + " }}"
    ),
}


@pytest.mark.parametrize("shape", sorted(STACK_SHAPES))
def test_nesting_never_reaches_pythons_recursion_limit(shape: str) -> None:
    with expect_limit("exceeded maximum"):
        render(STACK_SHAPES[shape] + '{{ include "x" 1 }}')


def test_the_deepest_render_the_limits_allow() -> None:
    """998 includes, each inside a range, then tpl parses 998 nested parentheses at the bottom and evaluates
    them until the nesting limit: every depth limit at its edge at once. This needs about 21,000 Python frames
    (limits.STACK_FRAMES reserves 30,000); it must end with the nesting limit, not Python's."""
    deep = "{{ " + "(print " * 998 + "1" + ")" * 998 + " }}"
    text = (
        '{{ define "x" }}{{ range $i := sub 999 .n }}{{ include "x" (dict "n" (add $.n 1) "deep" $.deep) }}'
        '{{ else }}{{ tpl .deep . }}{{ end }}{{ end }}{{ include "x" (dict "n" 1 "deep" .deep) }}'
    )
    with expect_limit(f"exceeded maximum nesting depth ({limits.MAX_NESTING_DEPTH})"):
        render(text, data={"deep": deep})


def test_limits_hold_when_render_is_called_from_a_deep_stack() -> None:
    def call_at_depth(levels: int) -> str:
        if levels:
            return call_at_depth(levels - 1)
        return render(STACK_SHAPES["include in parentheses"] + '{{ include "x" 1 }}')

    with expect_limit("exceeded maximum"):
        call_at_depth(700)


def test_recursion_limit_is_restored() -> None:
    before = sys.getrecursionlimit()
    with pytest.raises(TemplateLimitError):
        render('{{ define "loop" }}{{ include "loop" . }}{{ end }}{{ include "loop" . }}')
    assert render("{{ 1 }}") == "1"
    assert sys.getrecursionlimit() == before


def test_concurrent_renders_restore_the_recursion_limit() -> None:
    before = sys.getrecursionlimit()
    text = STACK_SHAPES["include in parentheses"] + '{{ include "x" 1 }}'
    errors: list[str] = []

    def worker() -> None:
        for _ in range(3):
            try:
                render(text)
            except TemplateLimitError as err:
                errors.append(err.reason)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 12
    assert all(reason.startswith("exceeded maximum nesting depth") for reason in errors)
    assert sys.getrecursionlimit() == before


# --- parser -------------------------------------------------------------------------------------------------

NESTED_OPENERS = {
    "(": ("{{ ", "(", "1", ")", " }}"),
    "if": ("", "{{ if 1 }}", "x", "{{ end }}", ""),
    "range": ("", "{{ range list 1 }}", "x", "{{ end }}", ""),
    "with": ("", "{{ with 1 }}", "x", "{{ end }}", ""),
    "block": ("", '{{ block "b" . }}', "x", "{{ end }}", ""),
    "else if": ("{{ if 0 }}", "{{ else if 0 }}", "", "", "{{ end }}"),
}


def nested(kind: str, depth: int) -> str:
    head, opener, middle, closer, tail = NESTED_OPENERS[kind]
    return head + opener * depth + middle + closer * depth + tail


@pytest.mark.parametrize("kind", sorted(NESTED_OPENERS))
def test_50000_nested_levels_are_a_parse_error(kind: str) -> None:
    with pytest.raises(TemplateLimitError) as caught:
        render(nested(kind, 50_000))
    assert caught.value.message == (
        "template: werf.yaml:1: max expression depth exceeded "
        f"(more than {limits.MAX_PARSE_DEPTH} nested parentheses and if/range/with/block)"
    )


def test_parse_depth_boundary() -> None:
    assert render(nested("(", limits.MAX_PARSE_DEPTH - 1)) == "1"
    assert render(nested("if", limits.MAX_PARSE_DEPTH)) == "x"
    with expect_limit("max expression depth exceeded"):
        render(nested("if", limits.MAX_PARSE_DEPTH + 1))


BLOCKS = ["if", "range", "with", "block"]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=5),
    st.sampled_from([500, 999, 1_001, 1_499, 2_000, 50_000]),
    st.sampled_from([0, 200, 999, 1_000, 1_001, 50_000]),
)
def test_fuzz_deep_mixtures_render_or_fail_cleanly(kinds: list[str], blocks: int, parens: int) -> None:
    """Blocks of random kinds around an action with nested parentheses, near and far beyond the limits:
    a result or a TemplateError, never RecursionError or MemoryError."""
    openers = [NESTED_OPENERS[kinds[i % len(kinds)]][1].replace('"b"', f'"b{i}"') for i in range(blocks)]
    text = "".join(openers) + nested("(", parens) + "{{ end }}" * blocks
    try:
        assert render(text) in ("1", "")
    except TemplateError as err:
        assert RECURSION not in err.message
        assert "exceeded" in err.message


# --- list and string sizes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "function"),
    [
        ("{{ until 1000001 }}", "until"),
        ("{{ untilStep 0 100000000000 1 }}", "untilStep"),
        ("{{ untilStep 5000000 0 -2 }}", "untilStep"),
        ("{{ seq 100000000 }}", "seq"),
        ('{{ splitn "," 5000000 (repeat 2000000 ",") }}', "splitn"),
        ('{{ split "," (repeat 2000000 ",") }}', "split"),
        ('{{ splitList "" (repeat 2000000 "x") }}', "splitList"),
        ("{{ $l := until 600000 }}{{ concat $l $l }}", "concat"),
    ],
)
def test_list_producing_functions_are_capped(text: str, function: str) -> None:
    with expect_limit(f"error calling {function}: list of "):
        render(text)


def test_a_list_at_the_cap_is_fine() -> None:
    assert render("{{ len (until 1000000) }}") == "1000000"


@pytest.mark.parametrize(
    ("text", "function"),
    [
        ('{{ repeat 100000000 "x" }}', "repeat"),
        ('{{ indent 100000000 "a\\nb" }}', "indent"),
        ('{{ nindent 70000000 "a" }}', "nindent"),
        ('{{ replace "a" (repeat 100 "b") (repeat 1000000 "a") }}', "replace"),
        ('{{ replace "" "xyz" (repeat 30000000 "a") }}', "replace"),
        ('{{ $s := repeat 40000000 "x" }}{{ join $s (list 1 2 3) }}', "join"),
        ('{{ wrapWith 1 (repeat 1000 "-") (repeat 100000 "x") }}', "wrapWith"),
        ("{{ randAlpha 100000000 }}", "randAlpha"),
        ('{{ printf "' + "%10000000d" * 7 + '" 1 2 3 4 5 6 7 }}', "printf"),
        ('{{ $s := repeat 40000000 "x" }}{{ cat $s $s }}', "cat"),
    ],
)
def test_string_producing_functions_are_capped(text: str, function: str) -> None:
    with expect_limit(f"error calling {function}: string of "):
        render(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [  # recorded from Go 1.19's fmt (tests/unit/template/go_oracle): its tooLarge guard on widths
        ('{{ printf "%*d" 10000000 1 }}', "%!(BADWIDTH)1"),
        ('{{ printf "%.*d" 10000000 1 }}', "%!(BADPREC)1"),
        ('{{ printf "%*d|" 1000000 1 | len }}', "1000001"),
        ('{{ printf "%100000000d|x" 1 }}', "%!(NOVERB)%!(EXTRA int=1)"),
        ('{{ printf "%.100000000d|x" 1 }}', "%!(NOVERB)%!(EXTRA int=1)"),
        ('{{ printf "%10000000d" 1 | len }}', "10000000"),
    ],
)
def test_printf_width_guard_matches_go(text: str, expected: str) -> None:
    assert render(text) == expected


def test_output_size_is_capped() -> None:
    with pytest.raises(TemplateLimitError) as caught:
        render('{{ $s := repeat 40000000 "x" }}{{ $s }}\n{{ $s }}')
    assert caught.value.message == (
        'template: werf.yaml:2:3: executing "werf.yaml" at <{{$s}}>: '
        f"output exceeds the limit of {limits.MAX_OUTPUT_SIZE} characters"
    )


def test_include_output_is_capped_too() -> None:
    with expect_limit("output exceeds the limit"):
        render('{{ define "x" }}{{ . }}{{ . }}{{ end }}{{ include "x" (repeat 40000000 "x") }}')


# --- values that expand when printed ------------------------------------------------------------------------

SHARED = "{{ $l := list 1 }}{{ range until 60 }}{{ $l = list $l $l }}{{ end }}"


@pytest.mark.parametrize(
    ("action", "fragment"),
    [
        ("{{ $l }}", "at <{{$l}}>: value expands to more than"),
        ("{{ toJson $l }}", "error calling toJson: value expands to more than"),
        ("{{ toYaml $l }}", "error calling toYaml: value expands to more than"),
        ("{{ toString $l }}", "error calling toString: value expands to more than"),
        ('{{ printf "%v" $l }}', "error calling printf: value expands to more than"),
        ('{{ printf "%#v" $l }}', "error calling printf: value expands to more than"),
    ],
)
def test_shared_sub_lists_are_not_expanded_exponentially(action: str, fragment: str) -> None:
    with expect_limit(fragment):
        render(SHARED + action)


def test_deep_equal_of_shared_sub_lists_is_linear() -> None:
    other = SHARED.replace("$l", "$m")
    assert render(SHARED + other + "{{ deepEqual $l $m }} {{ deepEqual $l (list 1) }}") == "true false"


def test_a_map_that_contains_itself() -> None:
    with expect_limit("error calling toJson: value contains itself"):
        render('{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ toJson $d }}')


def test_deeply_nested_data() -> None:
    deep = '{{ $d := dict }}{{ range until 3000 }}{{ $d = dict "a" $d }}{{ end }}'
    with expect_limit(f"value is nested more than {limits.MAX_NESTING_DEPTH} levels deep"):
        render(deep + "{{ toJson $d }}")
    with pytest.raises(TemplateLimitError) as caught:  # copy.deepcopy recurses: located, not a crash
        render(deep.replace("3000", "40000") + "{{ $c := deepCopy $d }}")
    assert "error calling deepCopy: Python's recursion limit was reached" in caught.value.message


def test_uniq_and_has_on_long_lists_keep_deep_equal_semantics() -> None:
    assert render("{{ len (uniq (until 200000)) }} {{ has 199999 (until 200000) }}") == "200000 true"
    assert render('{{ uniq (list 1 1.0 "1" true 1 nil nil) }}') == "[1 1 1 true <nil>]"  # recorded from Go
    assert render('{{ has 1 (list 1.0 "1") }} {{ has 1.0 (list 1.0) }}') == "false true"  # recorded from Go


# --- the step budget ----------------------------------------------------------------------------------------


def test_range_over_a_huge_number_stops_with_the_real_budget() -> None:
    with pytest.raises(TemplateLimitError) as caught:
        render("{{ range 1000000000000 }}{{ end }}")
    assert caught.value.message == (
        f'template: werf.yaml:1:9: executing "werf.yaml" at <{{{{range 1000000000000}}}}>: '
        f"{limits.STEPS_EXCEEDED}"
    )


@pytest.mark.parametrize(
    "text",
    [
        "{{ range $i := 1000000000000 }}{{ $i }}{{ end }}",
        "{{ range until 1000 }}{{ range until 1000 }}x{{ end }}{{ end }}",
        '{{ range $i := 1000000 }}{{ printf "%d" $i | upper | quote }}{{ end }}',
        '{{ define "x" }}{{ if lt . 8 }}{{ $n := add . 1 }}{{ range until 10 }}{{ include "x" $n }}{{ end }}'
        '{{ end }}{{ end }}{{ include "x" 1 }}',
        '{{ $s := repeat 100000 "x" }}{{ range until 1000 }}{{ if contains "y" $s }}{{ end }}{{ end }}',
        "{{ $l := until 100000 }}{{ range until 1000 }}{{ if has -1 $l }}{{ end }}{{ end }}",
        '{{ range until 100000 }}{{ $_ := tpl (printf "{{ %d }}" .) . }}{{ end }}',
    ],
)
def test_runaway_loops_stop_at_the_step_budget(small_budget: int, text: str) -> None:
    with expect_limit("execution steps"):
        render(text)


def test_range_with_break_over_a_huge_number_is_fine() -> None:
    text = "{{ range $i := 1000000000000 }}{{ if eq $i 3 }}{{ break }}{{ end }}{{ $i }}{{ end }}"
    assert render(text) == "012"


def test_append_growth_stops_at_the_budget(small_budget: int) -> None:
    with expect_limit("error calling append: exceeded the budget"):
        render("{{ $l := list }}{{ range until 100000 }}{{ $l = append $l . }}{{ end }}")


def test_keeping_many_large_strings_alive_stops_at_the_budget() -> None:
    text = '{{ $d := dict }}{{ range until 1000 }}{{ $_ := set $d (toString .) (repeat 60000000 "x") }}'
    with expect_limit("exceeded the budget"):  # each 60 MB string costs about a third of the budget
        render(text + "{{ end }}")


def test_building_a_map_with_set_is_not_quadratic() -> None:
    # set looks a key up and returns its map argument: neither the map nor the result is charged by size
    text = "{{ $d := dict }}{{ range until 20000 }}{{ $_ := set $d (toString .) . }}{{ end }}{{ len $d }}"
    assert render(text) == "20000"
