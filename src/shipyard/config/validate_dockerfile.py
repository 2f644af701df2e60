"""Dockerfile image sections (`image` + `dockerfile`): werf-internals §9.3."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from shipyard.config.documents import Map
from shipyard.config.model import Dependency, DockerfileImage, FrozenMap
from shipyard.config.validate_fields import Fields, go_format, is_relative
from shipyard.config.validate_image import (
    check_image_keys,
    dependencies,
    image_names,
    image_spec,
    platforms,
    secrets,
)


def dockerfile_images(fields: Fields, doc: Map) -> list[DockerfileImage]:
    check_image_keys(fields, doc, dockerfile=True)
    names = image_names(fields, doc)
    if not names:
        raise fields.error(
            "`image: NAME` required for a Dockerfile image section",
            doc.line,
            hint="add `image: NAME` to name the image built from this Dockerfile",
        )
    template = DockerfileImage(
        name="",
        dockerfile=_dockerfile_path(fields, doc),
        final=_final(fields, doc),
        context=_context(fields, doc),
        context_add_files=_context_add_files(fields, doc),
        target=fields.string(doc, "target"),
        args=_args(fields, doc),
        add_host=fields.strings(doc, "addHost"),
        network=fields.string(doc, "network"),
        ssh=fields.string(doc, "ssh"),
        secrets=secrets(fields, doc),
        dependencies=dependencies(fields, doc, stapel=False),
        staged=fields.boolean(doc, "staged"),
        platform=platforms(fields, doc),
        cache_version=fields.string(doc, "cacheVersion"),
        image_spec=image_spec(fields, doc),
        line=doc.line,
    )
    _check_args_against_dependencies(fields, doc, template)
    return [replace(template, name=name) for name in names]


def _final(fields: Fields, doc: Map) -> bool:
    final = fields.boolean(doc, "final")
    return True if final is None else final


def _dockerfile_path(fields: Fields, doc: Map) -> str:
    dockerfile = fields.string(doc, "dockerfile")
    if not dockerfile or not is_relative(dockerfile):
        raise fields.error(
            "`dockerfile: PATH` required and should be relative to context!",
            fields.line_of(doc, "dockerfile"),
            hint="e.g. `dockerfile: Dockerfile` (the path inside `context:`)",
        )
    return dockerfile


def _context(fields: Fields, doc: Map) -> str:
    context = fields.string(doc, "context")
    if not is_relative(context):
        raise fields.error(
            "`context: PATH` should be relative to project directory!",
            fields.line_of(doc, "context"),
            hint="use a path inside the project, e.g. `context: backend`",
        )
    return context


def _context_add_files(fields: Fields, doc: Map) -> tuple[str, ...]:
    single, many = fields.strings(doc, "contextAddFile"), fields.strings(doc, "contextAddFiles")
    if single and many:
        raise fields.error(
            "only one out of contextAddFiles and contextAddFile directives can be used at a time, but both "
            "specified in werf.yaml. Move everything out of the contextAddFile: [] directive into the "
            "contextAddFiles: [] directive and remove contextAddFile: [] from werf.yaml",
            fields.line_of(doc, "contextAddFile"),
            hint="keep only `contextAddFiles:` with every path in it",
        )
    paths = single or many
    key = "contextAddFile" if single else "contextAddFiles"
    if not all(is_relative(path) for path in paths):
        raise fields.error(
            "`contextAddFiles: [PATH, ...]|PATH` each path should be relative to context!",
            fields.line_of(doc, key),
            hint="list paths inside the `context:` directory",
        )
    return paths


def _args(fields: Fields, doc: Map) -> FrozenMap[str]:
    args = fields.mapping(doc, "args")
    if args is None:
        return FrozenMap()
    return FrozenMap({key.text: go_format(value) for key, value in args.entries})


def _check_args_against_dependencies(fields: Fields, doc: Map, image: DockerfileImage) -> None:
    for name in _dependency_build_args(image.dependencies):
        if name in image.args:
            raise fields.error(
                f'dockerfile `args:` build arg "{name}" already defined in dependency import '
                "`targetBuildArg:` directive. This is not allowed, avoid duplicated build args!",
                fields.line_of(doc, "args"),
                hint=f"remove `{name}` from `args:` (the dependency sets it)",
            )


def _dependency_build_args(deps: Iterable[Dependency]) -> list[str]:
    return [item.target_build_arg for dep in deps for item in dep.imports if item.target_build_arg]
