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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .errors import GoError, TemplateError
from .gotime import GoTime
from .gotypes import MISSING, Int64
from .sprig import sprig_functions
from .template import TemplateSet
from .werf import tpl_name, werf_functions

__all__ = [
    "MISSING",
    "GoError",
    "GoTime",
    "Int64",
    "TemplateError",
    "TemplateSet",
    "new_template_set",
    "render",
    "tpl_name",
]


def new_template_set(
    name: str = "werf.yaml",
    functions: Mapping[str, Callable[..., object]] | None = None,
    templates: Mapping[str, str] | None = None,
) -> TemplateSet:
    """A set with sprig, werf's functions and ``functions`` (which win), with ``templates`` parsed in."""
    template_set = TemplateSet(name, sprig_functions())
    template_set.add_functions(werf_functions(template_set))
    template_set.add_functions(functions or {})
    for template_name, text in (templates or {}).items():
        template_set.parse(template_name, text)
    return template_set


def render(
    text: str,
    *,
    name: str = "werf.yaml",
    data: object = None,
    functions: Mapping[str, Callable[..., object]] | None = None,
    templates: Mapping[str, str] | None = None,
) -> str:
    """Render ``text`` as the template ``name``; ``templates`` (e.g. ``.werf/**/*.tmpl`` by relative path) are
    parsed first, so definitions in ``text`` win. Raises TemplateError with Go's message on any failure."""
    template_set = new_template_set(name, functions, templates)
    template_set.parse(name, text)
    return template_set.execute(name, data)
