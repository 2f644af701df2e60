"""werf's functions, the caller hooks, the data-object convention and Go 1.22+ syntax."""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.config.template import GoError, Int64, TemplateError, render, tpl_name

SEED = Path("/work/shared/seeds/003_d026486e54df7f2a.txt")


@contextlib.contextmanager
def expect_error(fragment: str) -> Iterator[None]:
    """The block must raise TemplateError whose message contains ``fragment`` (Go's wording, verbatim)."""
    with pytest.raises(TemplateError) as caught:
        yield
    assert fragment in caught.value.message


# The "Images and dependencies" example (seed 003), verbatim.
SEED_EXAMPLE = """{{ $_ := set . "BaseImage" "ubuntu:22.04" }}

{{ define "package:build-tools" }}
  - apt update -q
  - apt install -y gcc g++ build-essential make
{{ end }}

project: example
configVersion: 1
---
image: builder
from: {{ .BaseImage }}
shell:
  beforeInstall:
{{ include "package:build-tools" }}
  install:
  - cd /app
  - make build
---
image: app
from: alpine:latest
import:
- image: builder
  add: /app/build/app
  to: /usr/local/bin/app
  after: install
"""


def test_seed_example_fails_like_werf_because_include_needs_data() -> None:
    # Real werf rejects the documented snippet: include takes NAME and DATA.
    with pytest.raises(TemplateError) as caught:
        render(SEED_EXAMPLE, data={})
    assert caught.value.message == (
        'template: werf.yaml:15:3: executing "werf.yaml" at <include>: '
        "wrong number of args for include: want 2 got 1"
    )


def test_seed_example_with_include_data_renders_like_go() -> None:
    text = SEED_EXAMPLE.replace(
        '{{ include "package:build-tools" }}', '{{ include "package:build-tools" . }}'
    )
    assert render(text, data={}) == (
        "\n\n\n\nproject: example\nconfigVersion: 1\n---\nimage: builder\nfrom: ubuntu:22.04\n"
        "shell:\n  beforeInstall:\n\n  - apt update -q\n  - apt install -y gcc g++ build-essential make\n\n"
        "  install:\n"
        "  - cd /app\n  - make build\n---\nimage: app\nfrom: alpine:latest\nimport:\n- image: builder\n"
        "  add: /app/build/app\n  to: /usr/local/bin/app\n  after: install\n"
    )


def test_set_on_root_data_is_visible_to_the_rest_of_the_template() -> None:
    data: dict[str, object] = {}
    assert render('{{ $_ := set . "BaseImage" "ubuntu:22.04" }}from: {{ .BaseImage }}', data=data) == (
        "from: ubuntu:22.04"
    )
    assert data == {"BaseImage": "ubuntu:22.04"}


def test_include_output_goes_through_pipelines() -> None:
    text = '{{ define "list" }}- a\n- b{{ end }}items:\n{{ include "list" . | indent 2 }}'
    assert render(text) == "items:\n  - a\n  - b"


def test_tpl_renders_a_string_with_the_shared_definitions() -> None:
    text = '{{ define "who" }}{{ .name }}{{ end }}{{ tpl "hello {{ include \\"who\\" . }}" . }}'
    assert render(text, data={"name": "werf"}) == "hello werf"


def test_tpl_template_is_named_after_adler32_of_its_text() -> None:
    assert tpl_name("{{ .x.y }}") == "tpl-316539774"
    with expect_error('error calling tpl: template: tpl-316539774:1:5: executing "tpl-316539774"'):
        render('{{ tpl "{{ .x.y }}" . }}', data={"x": "s"})


def test_include_of_unknown_template_names_the_main_template() -> None:
    with pytest.raises(TemplateError) as caught:
        render('{{ include "nope" . }}', name="werfConfig")
    assert caught.value.message == (
        'template: werfConfig:1:3: executing "werfConfig" at <include "nope" .>: error calling include: '
        'template: no template "nope" associated with template "werfConfig"'
    )


@pytest.mark.parametrize("value", [None, ""])
def test_required_rejects_nil_and_empty_string(value: object) -> None:
    with expect_error("error calling required: need x"):
        render('{{ required "need x" .x }}', data={"x": value})


@pytest.mark.parametrize(("value", "expected"), [(0, "0"), (False, "false"), ("v", "v")])
def test_required_accepts_other_values(value: object, expected: str) -> None:
    assert render('{{ required "need x" .x }}', data={"x": value}) == expected


def test_templates_are_parsed_first_so_werf_yaml_definitions_win() -> None:
    templates = {"common.tmpl": '{{ define "b" }}B{{ end }}A{{ template "b" }}{{ .x }}'}
    assert render('{{ include "common.tmpl" . }}', data={"x": "s"}, templates=templates) == "ABs"
    text = '{{ define "b" }}main-b{{ end }}{{ include "common.tmpl" . }}'
    assert render(text, data={"x": "s"}, templates=templates) == "Amain-bs"


def test_template_files_are_addressed_by_relative_path() -> None:
    templates = {"images/base.tmpl": "from: {{ .base }}"}
    assert render('{{ include "images/base.tmpl" . }}', data={"base": "alpine"}, templates=templates) == (
        "from: alpine"
    )


def test_env_is_not_a_function_unless_the_caller_adds_it() -> None:
    with expect_error('function "env" not defined'):
        render('{{ env "HOME" }}')


def test_caller_functions_get_go_argument_checks_from_annotations() -> None:
    allowed = {"CI_COMMIT_TAG": "v1.2.3"}

    def env(name: object, *default: str) -> str:
        if len(default) > 1:
            raise GoError("more than 1 optional argument prohibited")
        value = allowed.get(str(name), "")
        return value or (default[0] if default else "")

    functions = {"env": env}
    assert render('{{ env "CI_COMMIT_TAG" }}|{{ env "NOPE" "dflt" }}', functions=functions) == "v1.2.3|dflt"
    with expect_error("expected string; found 1"):
        render('{{ env "X" 1 }}', functions=functions)
    with expect_error("error calling env: more than 1 optional argument prohibited"):
        render('{{ env "X" "a" "b" }}', functions=functions)


def test_caller_functions_replace_sprig_ones() -> None:
    assert render('{{ upper "x" }}', functions={"upper": lambda s: f"<{s}>"}) == "<x>"


class Files:
    """A werf-like .Files: Go methods are methods defined on the class."""

    def __init__(self, contents: dict[str, str]) -> None:
        self._contents = contents

    def Get(self, path: str) -> str:
        return self._contents[path]

    def Exists(self, path: str) -> bool:
        return path in self._contents


def test_methods_of_data_objects_take_arguments() -> None:
    data = {"Files": Files({"a.txt": "hello"})}
    assert render('{{ .Files.Get "a.txt" | upper }} {{ .Files.Exists "b" }}', data=data) == "HELLO false"
    with expect_error("expected string; found 1"):
        render("{{ .Files.Get 1 }}", data=data)
    with expect_error("wrong number of args for Get: want 1 got 0"):
        render("{{ .Files.Get }}", data=data)


def test_callable_attributes_are_func_fields_called_with_call() -> None:
    data = {"obj": types.SimpleNamespace(Fn=lambda a, b: f"{a}+{b}", Name="n")}
    assert render('{{ call .obj.Fn "a" "b" }} {{ .obj.Name }}', data=data) == "a+b n"
    with expect_error("Fn has arguments but cannot be invoked as function"):
        render('{{ .obj.Fn "a" "b" }}', data=data)


def test_map_values_are_never_called_like_go() -> None:
    data = {"Files": {"Get": lambda path: path}}
    with expect_error("Get is not a method but has arguments"):
        render('{{ .Files.Get "x" }}', data=data)
    assert render('{{ call .Files.Get "x" }}', data=data) == "x"


def test_commit_like_data_is_plain_maps() -> None:
    data = {"Commit": {"Hash": "abc", "Date": {"Human": "2024", "Unix": "1700000000"}}, "Env": "prod"}
    assert render("{{ .Commit.Hash }} {{ .Commit.Date.Unix }} {{ .Env }}", data=data) == "abc 1700000000 prod"


# --- Go 1.22+ / 1.23 syntax (not covered by the recorded Go 1.19 cases) ---------------------------------


def test_range_over_an_integer() -> None:
    assert render("{{ range 3 }}{{ . }}{{ end }}|{{ range $i := 2 }}{{ $i }}{{ end }}") == "012|01"
    assert render("{{ range 0 }}x{{ else }}empty{{ end }}") == "empty"
    assert render("{{ range add 1 1 }}{{ . }}{{ end }}") == "01"


def test_range_over_an_integer_allows_one_variable() -> None:
    with expect_error("can't use 3 to iterate over more than one variable"):
        render("{{ range $i, $v := 3 }}{{ end }}")


def test_else_with_chains() -> None:
    text = "{{ with .a }}A{{ else with .b }}B{{ . }}{{ else }}none{{ end }}"
    assert render(text, data={"b": 2}) == "B2"
    assert render(text, data={"a": 1}) == "A"
    assert render(text, data={}) == "none"


def test_break_and_continue() -> None:
    text = (
        "{{ range until 6 }}{{ if eq . 1 }}{{ continue }}{{ end }}"
        "{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}"
    )
    assert render(text) == "023"
    with expect_error("template: werf.yaml:1: {{break}} outside {{range}}"):
        render("{{ break }}")


def test_variables_are_scoped_to_their_block() -> None:
    text = "{{ $x := 1 }}{{ range until 2 }}{{ $x = . }}{{ $y := 5 }}{{ end }}{{ $x }}"
    assert render(text) == "1"
    with expect_error('undefined variable "$y"'):
        render("{{ if true }}{{ $y := 5 }}{{ end }}{{ $y }}")


def test_sprig_math_returns_int64_which_go_will_not_pass_as_int() -> None:
    assert isinstance(render("{{ add 1 2 }}"), str)
    assert render("{{ typeOf (add 1 2) }} {{ div 7 -2 }} {{ mod -7 2 }}") == "int64 -3 -1"
    with expect_error("wrong type for value; expected int; got int64"):
        render('{{ repeat (add 1 2) "x" }}')
    assert Int64(3) == 3


def test_to_yaml_has_no_trailing_newline() -> None:
    assert render('{{ toYaml (dict "b" (list 1 "x") "a" (dict "k" true)) }}') == "a:\n  k: true\nb:\n- 1\n- x"


def test_to_yaml_of_nested_from_yaml_maps_is_empty_like_go() -> None:
    # yaml.v2 decodes nested mappings as map[interface{}]interface{}, which encoding/json cannot marshal.
    assert render('{{ $d := fromYaml "b: [1, x]\\na: {k: yes}" }}{{ toYaml $d }}') == ""


def test_deep_recursion_is_a_template_error() -> None:
    with expect_error("exceeded maximum template depth"):
        render('{{ define "loop" }}{{ template "loop" . }}{{ end }}{{ template "loop" . }}')


def test_seed_file_still_contains_the_example() -> None:
    if not SEED.exists():
        pytest.skip("shared seeds are not available")
    assert '{{ include "package:build-tools" }}' in SEED.read_text()
