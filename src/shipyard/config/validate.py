"""Rendered werf.yaml text → `WerfConfig`: werf's rules, located and hinted errors (werf-internals §9, §10).

No templates and no I/O: the caller renders the file, reads it from git and applies giterminism.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from shipyard.config.documents import Document, Map, Seq, parse_documents
from shipyard.config.model import (
    FrozenMap,
    Image,
    ImageSpec,
    Meta,
    MetaBuild,
    MetaCleanup,
    MetaGitWorktree,
    StapelImage,
    WerfConfig,
)
from shipyard.config.validate_dockerfile import dockerfile_images
from shipyard.config.validate_fields import Fields, closest, raw_value
from shipyard.config.validate_image import meta_image_spec, platforms
from shipyard.config.validate_stapel import stapel_images
from shipyard.errors import ConfigError, Location

PROJECT_NAME = re.compile(r"(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])")
PROJECT_NAME_MAX = 50
META_KEYS = frozenset({"configVersion", "project", "build", "deploy", "cleanup", "gitWorktree"})
BUILD_KEYS = frozenset({"cacheVersion", "platform", "staged", "imageSpec"})
CLEANUP_KEYS = frozenset({
    "disable", "disableKubernetesBasedPolicy", "disableGitHistoryBasedPolicy",
    "disableBuiltWithinLastNHoursPolicy", "keepPolicies", "keepImagesBuiltWithinLastNHours",
})
GIT_WORKTREE_KEYS = frozenset({"forceShallowClone", "allowUnshallow", "allowFetchOriginBranchesAndTags"})
SECTION_KEYS = ("configVersion", "image", "artifact", "dockerfile")
SECTION_HINT = (
    "'configVersion' required for the meta section; 'image' for image sections ('dockerfile' for "
    "Dockerfile images); 'artifact' for artifact sections"
)
META_HINT = "start werf.yaml with a meta section:\n    project: NAME\n    configVersion: 1\n    ---"


def parse_werf_config(
    text: str, *, filename: str = "werf.yaml", project_override: str | None = None
) -> WerfConfig:
    """Parse and validate; `project_override` is WERF_PROJECT_NAME (it replaces `project`, as in werf)."""
    fields = Fields(filename)
    meta: Meta | None = None
    images: list[Image] = []
    for document in parse_documents(text, filename):
        doc = _section(fields, document)
        if doc.key("configVersion") is not None:
            if meta is not None:
                raise fields.error(
                    "duplicate meta config section definition",
                    doc.line,
                    hint=f"the meta section (with `configVersion`) is already on line {meta.line}",
                )
            meta = _meta(fields, doc, project_override)
        elif doc.key("dockerfile") is not None:
            images.extend(dockerfile_images(fields, doc))
        elif doc.key("image") is not None or doc.key("artifact") is not None:
            images.extend(stapel_images(fields, doc))
        else:
            raise _unrecognized_section(fields, doc)
    if meta is None:
        raise ConfigError(
            "meta config section (with `project` and `configVersion`) is not defined",
            hint=META_HINT,
            location=Location(filename),
        )
    config = WerfConfig(meta, tuple(_with_meta_image_spec(image, meta) for image in images))
    validate_images(fields, config)
    return config


def _section(fields: Fields, document: Document) -> Map:
    if isinstance(document.root, Map):
        return document.root
    root = document.root
    got = "nothing" if root is None else "a list" if isinstance(root, Seq) else "a single value"
    raise fields.error(
        f"a config section must be a mapping of `key: value` lines, got {got}",
        document.first_line if root is None else root.line,
        hint="sections are separated by `---` lines; check the indentation of this one",
    )


def _unrecognized_section(fields: Fields, doc: Map) -> ConfigError:
    typo = next(filter(None, (closest(key.text, SECTION_KEYS) for key, _ in doc.entries)), None)
    hint = f"did you mean `{typo}`?" if typo else SECTION_HINT
    return fields.error(
        "cannot recognize type of config section (part of YAML stream separated by three hyphens)",
        doc.line,
        hint=hint,
    )


def _meta(fields: Fields, doc: Map, project_override: str | None) -> Meta:
    fields.check_keys(doc, META_KEYS, "the meta section")
    version = fields.integer(doc, "configVersion")
    if version != 1:
        raise fields.error(
            "'configVersion: 1' field required!",
            fields.line_of(doc, "configVersion"),
            hint="1 is the only config version: set `configVersion: 1`",
        )
    project = fields.string(doc, "project")
    if not project:
        raise fields.error(
            "'project' field cannot be empty!",
            fields.line_of(doc, "project"),
            hint="add `project: NAME` (lowercase letters, digits and dashes)",
        )
    _check_project_name(fields, project, fields.line_of(doc, "project"), "specified in config")
    if project_override:
        _check_project_name(fields, project_override, None, "specified in WERF_PROJECT_NAME")
    return Meta(
        project=project_override or project,
        config_version=version,
        build=_meta_build(fields, doc),
        cleanup=_meta_cleanup(fields, doc),
        git_worktree=_meta_git_worktree(fields, doc),
        deploy=raw_value(doc.get("deploy")),
        line=doc.line,
    )


def _check_project_name(fields: Fields, project: str, line: int | None, where: str) -> None:
    if PROJECT_NAME.fullmatch(project) and len(project) <= PROJECT_NAME_MAX:
        return
    suggestion = project_slug(project) or "my-project"
    raise fields.error(
        f"bad project name {_go_quote(project)} {where}: project name should comply with regex "
        f'"^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$" and be maximum {PROJECT_NAME_MAX} chars',
        line,
        hint=f"for example `project: {suggestion}` (the project name names every image in the registry: "
        "changing it later means rebuilding everything)",
    )


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def project_slug(name: str) -> str:
    """An ASCII approximation of werf's slug.Project: lowercase, other runs → one dash, ≤ 50 chars."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:PROJECT_NAME_MAX].rstrip("-")


def _meta_build(fields: Fields, doc: Map) -> MetaBuild:
    build = fields.mapping(doc, "build")
    if build is None:
        return MetaBuild()
    fields.check_keys(build, BUILD_KEYS, "build")
    return MetaBuild(
        fields.string(build, "cacheVersion"),
        platforms(fields, build),
        fields.flag(build, "staged"),
        meta_image_spec(fields, build),
    )


def _meta_cleanup(fields: Fields, doc: Map) -> MetaCleanup:
    cleanup = fields.mapping(doc, "cleanup")
    if cleanup is None:
        return MetaCleanup()
    fields.check_keys(cleanup, CLEANUP_KEYS, "cleanup")
    return MetaCleanup(
        disable=fields.flag(cleanup, "disable"),
        disable_kubernetes_based_policy=fields.flag(cleanup, "disableKubernetesBasedPolicy"),
        disable_git_history_based_policy=fields.flag(cleanup, "disableGitHistoryBasedPolicy"),
        disable_built_within_last_n_hours_policy=fields.flag(cleanup, "disableBuiltWithinLastNHoursPolicy"),
        keep_images_built_within_last_n_hours=fields.integer(cleanup, "keepImagesBuiltWithinLastNHours"),
        keep_policies=tuple(raw_value(item) for item in fields.sequence(cleanup, "keepPolicies")),
    )


def _meta_git_worktree(fields: Fields, doc: Map) -> MetaGitWorktree:
    worktree = fields.mapping(doc, "gitWorktree")
    if worktree is None:
        return MetaGitWorktree()
    fields.check_keys(worktree, GIT_WORKTREE_KEYS, "gitWorktree")
    return MetaGitWorktree(
        fields.boolean(worktree, "forceShallowClone"),
        fields.boolean(worktree, "allowUnshallow"),
        fields.boolean(worktree, "allowFetchOriginBranchesAndTags"),
    )


def _with_meta_image_spec(image: Image, meta: Meta) -> Image:
    """werf's mergeImageSpec, for final images only: the image's author wins, meta labels win, lists merge."""
    base = meta.build.image_spec
    if base is None or not image.final:
        return image
    own = image.image_spec or ImageSpec()
    merged = replace(
        own,
        author=own.author if own.author is not None else base.author,
        clear_history=own.clear_history or base.clear_history,
        keep_essential_werf_labels=own.keep_essential_werf_labels or base.keep_essential_werf_labels,
        labels=FrozenMap({**own.labels, **base.labels}),
        remove_labels=tuple(dict.fromkeys((*own.remove_labels, *base.remove_labels))),
    )
    return replace(image, image_spec=merged)


def validate_images(fields: Fields, config: WerfConfig) -> None:
    """The checks across images: unique names, the nameless image, references, platforms and loops."""
    _check_unique_names(fields, config.images)
    _check_nameless(fields, config.images)
    for image in config.images:
        _check_references(fields, config, image)
    _check_platforms(fields, config)
    _check_loops(fields, config)


def _check_unique_names(fields: Fields, images: Iterable[Image]) -> None:
    seen: dict[str, Image] = {}
    for image in images:
        if image.name in seen:
            raise fields.error(
                f"conflict between images names: {_go_quote(image.name)} is defined twice",
                image.line,
                hint=f"the first definition starts on line {seen[image.name].line}; "
                "image names must be unique",
            )
        seen[image.name] = image


def _check_nameless(fields: Fields, images: tuple[Image, ...]) -> None:
    finals = [image for image in images if image.final]
    for image in images:
        if image.name == "" and (len(finals) > 1 or not image.final):
            raise fields.error(
                "a nameless image (`image: ~`) is allowed only as the only final image",
                image.line,
                hint="give every image a name (`image: NAME`); nameless images are deprecated",
            )


def _check_references(fields: Fields, config: WerfConfig, image: Image) -> None:
    for dependency in image.dependencies:
        if not config.has_image(dependency.image):
            raise _not_found(fields, config, dependency.image, dependency.line)
    if not isinstance(image, StapelImage):
        return
    for item in image.imports:
        if not config.has_image(item.image) and (item.is_artifact or not _is_external_reference(item.image)):
            raise _not_found(fields, config, item.image, item.line, external_hint=not item.is_artifact)


def _is_external_reference(name: str) -> bool:
    """An import from outside werf.yaml must pin a tag or digest (`alpine:3.20`, `…@sha256:…`)."""
    return ":" in name.rsplit("/", 1)[-1] or "@" in name


def _not_found(
    fields: Fields, config: WerfConfig, name: str, line: int, *, external_hint: bool = False
) -> ConfigError:
    known = [image.name for image in config.images if image.name]
    typo = closest(name, known)
    listed = ", ".join(known) or "none"
    hint = f"did you mean `{typo}`?" if typo else f"images defined in werf.yaml: {listed}"
    if external_hint:
        hint += f"; to copy from an external image, pin it: `{name}:TAG`"
    return fields.error(f"image {_go_quote(name)} not found!", line, hint=hint)


def _check_platforms(fields: Fields, config: WerfConfig) -> None:
    """A used image must be built for every platform of its user (werf: validator_image_platform.go)."""
    for image in config.images:
        wanted = set(config.platforms(image))
        for name in _related_in_order(config, image):
            provided = set(config.platforms(config.image(name)))
            missing = sorted(wanted - provided) if wanted and provided else []
            if missing:
                raise fields.error(
                    f"image {_go_quote(image.name)} is built for {', '.join(missing)} but the image it uses, "
                    f"{_go_quote(name)}, is not",
                    image.line,
                    hint=f"add {', '.join(missing)} to the `platform` of {_go_quote(name)}",
                )


def _check_loops(fields: Fields, config: WerfConfig) -> None:
    """Depth-first from each image in config order, as werf does, so the same loop is reported."""
    acyclic: set[str] = set()
    for image in config.images:
        cycle = _find_cycle(config, image.name, [], acyclic)
        if cycle:
            raise fields.error(
                "infinite loop detected: " + " -> ".join(cycle),
                image.line,
                hint="an image cannot be built from, import from or depend on itself, "
                "directly or through other images",
            )


def _find_cycle(config: WerfConfig, name: str, path: list[str], acyclic: set[str]) -> list[str]:
    """The walk from the first image to the repeated one, as werf prints it (e.g. x -> a -> b -> a)."""
    if name in path:
        return [*path, name]
    if name in acyclic:
        return []
    for related in _related_in_order(config, config.image(name)):
        cycle = _find_cycle(config, related, [*path, name], acyclic)
        if cycle:
            return cycle
    acyclic.add(name)
    return []


def _related_in_order(config: WerfConfig, image: Image) -> list[str]:
    """werf's relatedImageNameList order: from, imports, dependencies (only images defined in werf.yaml)."""
    names: list[str] = []
    if isinstance(image, StapelImage):
        names += [image.from_, *(item.image for item in image.imports)]
    names += [dependency.image for dependency in image.dependencies]
    return [name for name in dict.fromkeys(names) if config.has_image(name)]


def relations(config: WerfConfig) -> dict[str, set[str]]:
    """image → the werf images it is built from or uses: Stapel `from` (when it names a werf image),
    imports of werf images, and dependencies. The scheduler builds each set before the image."""
    return {image.name: set(_related_in_order(config, image)) for image in config.images}
