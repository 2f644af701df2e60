"""The entry points: a template set with sprig and werf's functions, and `render`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .sprig import sprig_functions
from .template import TemplateSet
from .werf import werf_functions


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
