"""Stapel image sections (`image`/`artifact` with `from`): werf-internals §9.4."""

from __future__ import annotations

from dataclasses import replace

from shipyard.config.documents import Map, Seq
from shipyard.config.model import DockerInstructions, Mount, Shell, StapelImage
from shipyard.config.validate_fields import Fields, clean_path, is_absolute, raw_value
from shipyard.config.validate_image import (
    check_image_keys,
    dependencies,
    image_names,
    image_spec,
    platforms,
    secrets,
)
from shipyard.config.validate_stapel_files import git_mapping, import_entry

SHELL_STAGES = ("beforeInstall", "install", "beforeSetup", "setup")
SHELL_KEYS = frozenset({*SHELL_STAGES, "cacheVersion", *(f"{name}CacheVersion" for name in SHELL_STAGES)})
MOUNT_KEYS = frozenset({"from", "fromPath", "to"})
DOCKER_KEYS = frozenset({
    "VOLUME", "EXPOSE", "ENV", "LABEL", "CMD", "ENTRYPOINT", "WORKDIR", "USER", "HEALTHCHECK",
    "exactValues",
})


def stapel_images(fields: Fields, doc: Map) -> list[StapelImage]:
    check_image_keys(fields, doc, dockerfile=False)
    names, artifact = image_names(fields, doc), fields.string(doc, "artifact")
    if names and artifact:
        raise fields.error(
            "unknown doc type: one and only one of `image: NAME` or `artifact: NAME` non-empty "
            "name required!",
            fields.line_of(doc, "artifact"),
            hint="keep `image: NAME` (artifacts are deprecated; `final: false` makes an intermediate image)",
        )
    if not names and not artifact:
        raise fields.error(
            "unknown doc type: one of `image: NAME` or `artifact: NAME` non-empty name required!",
            doc.line,
            hint="name the image: `image: NAME`",
        )
    if artifact:
        _check_artifact_limits(fields, doc, artifact)
    template = _stapel_image(fields, doc, is_artifact=bool(artifact))
    return [_named(fields, doc, template, name) for name in (names or [artifact])]


def _check_artifact_limits(fields: Fields, doc: Map, name: str) -> None:
    hint = "artifacts are deprecated: declare `image: NAME` with `final: false` instead"
    for key, message in (
        ("docker", "`docker` section is not supported for artifact!"),
        ("final", "`final` directive is not supported for artifact!"),
        ("disableGitAfterPatch", "`disableGitAfterPatch` directive is not supported for artifact!"),
        (
            "dependencies",
            f'dependencies directive is specified for "{name}" artifact, but '
            "dependencies are not supported for artifacts!",
        ),
    ):
        if doc.get(key) is not None:
            raise fields.error(message, fields.line_of(doc, key), hint=hint)


def _named(fields: Fields, doc: Map, image: StapelImage, name: str) -> StapelImage:
    base = image.from_
    if name and base == name:
        base = f"{base}:latest"  # werf-internals §9.4 quirk: an image named like its base uses the registry's
    if base == "scratch" and image.from_latest:
        raise fields.error(
            "`fromLatest` is not compatible with `from: scratch`",
            fields.line_of(doc, "fromLatest"),
            hint="scratch is an empty image without versions: remove `fromLatest`",
        )
    return replace(image, name=name, from_=base)


def _stapel_image(fields: Fields, doc: Map, *, is_artifact: bool) -> StapelImage:
    shell = _shell(fields, doc)
    if shell is not None and doc.get("ansible") is not None:
        raise fields.error(
            "can not use shell and ansible builders at the same time!",
            fields.line_of(doc, "ansible"),
            hint="keep one builder per image; `shell:` works with every backend",
        )
    if doc.get("docker") is not None and doc.get("imageSpec") is not None:
        raise fields.error(
            "`docker` and `imageSpec` cannot be used together",
            fields.line_of(doc, "docker"),
            hint="move the settings of the deprecated `docker:` into `imageSpec.config`",
        )
    final = fields.boolean(doc, "final")
    return StapelImage(
        name="",
        from_=_base(fields, doc),
        final=not is_artifact and final is not False,
        is_artifact=is_artifact,
        from_latest=fields.flag(doc, "fromLatest"),
        from_cache_version=fields.string(doc, "fromCacheVersion"),
        cache_version=fields.string(doc, "cacheVersion"),
        disable_git_after_patch=fields.flag(doc, "disableGitAfterPatch"),
        git=tuple(git_mapping(fields, entry) for entry in fields.maps(doc, "git")),
        shell=shell,
        ansible=raw_value(fields.mapping(doc, "ansible")),
        mount=_mounts(fields, doc),
        docker=_docker(fields, doc),
        imports=tuple(import_entry(fields, entry) for entry in fields.maps(doc, "import")),
        dependencies=dependencies(fields, doc, stapel=True),
        platform=platforms(fields, doc),
        network=fields.string(doc, "network"),
        secrets=secrets(fields, doc),
        image_spec=image_spec(fields, doc),
        line=doc.line,
    )


def _base(fields: Fields, doc: Map) -> str:
    given = [key for key in ("from", "fromImage", "fromArtifact") if fields.string(doc, key)]
    if len(given) > 1:
        raise fields.error(
            "conflict between `from`, `fromImage` and `fromArtifact` directives!",
            fields.line_of(doc, given[1]),
            hint="keep one of them (`from` accepts werf image names)",
        )
    if not given:
        raise fields.error(
            "`from: IMAGE` required!",
            doc.line,
            hint="name a base image (`from: alpine:3.20`) or another werf image (`from: base`)",
        )
    return fields.string(doc, given[0])


def _shell(fields: Fields, doc: Map) -> Shell | None:
    node = fields.mapping(doc, "shell")
    if node is None:
        return None
    fields.check_keys(node, SHELL_KEYS, "shell")
    return Shell(
        before_install=fields.strings(node, "beforeInstall"),
        install=fields.strings(node, "install"),
        before_setup=fields.strings(node, "beforeSetup"),
        setup=fields.strings(node, "setup"),
        cache_version=fields.string(node, "cacheVersion"),
        before_install_cache_version=fields.string(node, "beforeInstallCacheVersion"),
        install_cache_version=fields.string(node, "installCacheVersion"),
        before_setup_cache_version=fields.string(node, "beforeSetupCacheVersion"),
        setup_cache_version=fields.string(node, "setupCacheVersion"),
    )


def _mounts(fields: Fields, doc: Map) -> tuple[Mount, ...]:
    mounts = tuple(_mount(fields, entry) for entry in fields.maps(doc, "mount"))
    targets: dict[str, Mount] = {}
    for mount in mounts:
        if mount.to in targets:
            raise fields.error(
                "conflict between mounts!",
                mount.line,
                hint=f"`to: {mount.to}` is already mounted on line {targets[mount.to].line}",
            )
        targets[mount.to] = mount
    return mounts


def _mount(fields: Fields, entry: Map) -> Mount:
    fields.check_keys(entry, MOUNT_KEYS, "a mount")
    source, from_path, to = (fields.string(entry, key) for key in ("from", "fromPath", "to"))
    if source and from_path:
        raise fields.error(
            f"cannot use `from: {source}` and `fromPath: {from_path}` at the same time for mount!",
            fields.line_of(entry, "fromPath"),
            hint="`from:` mounts a werf-managed directory, `fromPath:` a host directory: keep one",
        )
    if not is_absolute(to):
        raise fields.error(
            "`to: PATH` absolute path required for mount!",
            fields.line_of(entry, "to"),
            hint="mount targets are absolute paths inside the image, e.g. `to: /var/cache/apt`",
        )
    if not source and not is_absolute(from_path):
        raise fields.error(
            "`fromPath: PATH` should be absolute path for mount!",
            fields.line_of(entry, "fromPath"),
            hint="or use `from: tmp_dir` / `from: build_dir`",
        )
    if source and source not in ("tmp_dir", "build_dir"):
        raise fields.error(
            f"invalid `from: {source}` for mount: expected `tmp_dir` or `build_dir`!",
            fields.line_of(entry, "from"),
            hint="`tmp_dir` is fresh for every build, `build_dir` is kept between builds",
        )
    return Mount(clean_path(to), source or "custom_dir", from_path, entry.line)


def _docker(fields: Fields, doc: Map) -> DockerInstructions | None:
    node = fields.mapping(doc, "docker")
    if node is None:
        return None
    fields.check_keys(node, DOCKER_KEYS, "docker")
    cmd, entrypoint = _docker_command(fields, node, "CMD"), _docker_command(fields, node, "ENTRYPOINT")
    return DockerInstructions(
        volume=fields.strings(node, "VOLUME"),
        expose=fields.strings(node, "EXPOSE"),
        env=fields.string_map(node, "ENV"),
        label=fields.string_map(node, "LABEL"),
        cmd="[]" if entrypoint and not cmd else cmd,
        entrypoint=entrypoint,
        workdir=fields.string(node, "WORKDIR"),
        user=fields.string(node, "USER"),
        healthcheck=fields.string(node, "HEALTHCHECK"),
        exact_values=fields.flag(node, "exactValues"),
    )


def _docker_command(fields: Fields, node: Map, key: str) -> str:
    """werf's prepareCommand: a string stays as is, a list becomes `["a", "b"]` (exec form)."""
    words = fields.strings(node, key)
    if isinstance(node.get(key), Seq):
        return '["' + '", "'.join(words) + '"]' if words else "[]"
    return words[0] if words else ""
