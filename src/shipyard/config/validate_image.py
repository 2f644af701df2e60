"""Directives both image kinds share: names, platforms, dependencies, secrets, imageSpec (§9.3, §9.4)."""

from __future__ import annotations

import posixpath
from collections import Counter

from shipyard.config.documents import Map, Scalar, Seq
from shipyard.config.model import (
    Dependency,
    DependencyImport,
    Healthcheck,
    ImageSpec,
    Secret,
)
from shipyard.config.validate_fields import Fields, closest, go_format

IMPORT_TYPES = ("ImageName", "ImageTag", "ImageRepo", "ImageID", "ImageDigest")
DOCKERFILE_KEYS = frozenset({
    "image", "final", "dockerfile", "cacheVersion", "context", "contextAddFile", "contextAddFiles",
    "target", "args", "addHost", "network", "ssh", "dependencies", "staged", "platform", "secrets",
    "imageSpec",
})
STAPEL_KEYS = frozenset({
    "image", "artifact", "final", "cacheVersion", "from", "fromLatest", "fromCacheVersion", "fromImage",
    "fromArtifact", "disableGitAfterPatch", "git", "shell", "ansible", "mount", "docker", "import",
    "dependencies", "platform", "network", "secrets", "imageSpec",
})
IMAGE_SPEC_KEYS = frozenset({"author", "clearHistory", "config"})
IMAGE_SPEC_CONFIG_KEYS = frozenset({
    "keepEssentialWerfLabels", "clearWerfLabels", "clearCmd", "clearEntrypoint", "clearUser",
    "clearWorkingDir", "removeLabels", "removeVolumes", "removeEnv", "volumes", "labels", "env", "expose",
    "user", "cmd", "entrypoint", "workingDir", "stopSignal", "healthcheck",
})
META_IMAGE_SPEC_CONFIG_KEYS = frozenset(
    {"keepEssentialWerfLabels", "clearWerfLabels", "removeLabels", "labels"}
)
HEALTHCHECK_KEYS = frozenset({"test", "interval", "timeout", "startperiod", "retries"})
DEPENDENCY_KEYS = frozenset({"image", "from", "before", "after", "imports"})
DEPENDENCY_IMPORT_KEYS = frozenset({"type", "targetBuildArg", "targetEnv"})
SECRET_KEYS = frozenset({"id", "env", "src", "value"})


def check_image_keys(fields: Fields, doc: Map, *, dockerfile: bool) -> None:
    """Unknown keys of an image section; a directive of the other image kind gets a hint of its own."""
    own, other = (DOCKERFILE_KEYS, STAPEL_KEYS) if dockerfile else (STAPEL_KEYS, DOCKERFILE_KEYS)
    section = "a Dockerfile image section" if dockerfile else "a Stapel image section"
    for key, _ in doc.entries:
        if key.text not in own and key.text in other:
            if dockerfile:
                hint = f"`{key.text}` is a Stapel directive, but this image is built from its `dockerfile:`"
            else:
                hint = f"`{key.text}` is for Dockerfile images: add `dockerfile: PATH` to build from one"
            raise fields.error(f"unknown key `{key.text}` in {section}", key.line, hint=hint)
    fields.check_keys(doc, own, section, suggest=other)


def image_names(fields: Fields, doc: Map) -> list[str]:
    """`image: NAME | [NAME, …] | ~` — each name becomes its own image; `~` is the nameless image ("")."""
    node = doc.get("image")
    if node is None:
        return []
    if isinstance(node, Scalar) and node.value is None:
        return [""]
    if isinstance(node, Scalar) and isinstance(node.value, str):
        return [node.text]
    if isinstance(node, Seq) and all(isinstance(i, Scalar) and isinstance(i.value, str) for i in node.items):
        return [item.text for item in node.items if isinstance(item, Scalar)]
    shown = go_format(node)
    raise fields.error(
        f"invalid image name `{shown}`!",
        node.line,
        hint="an image name is a string (quote it if YAML reads it as a number or boolean), "
        "or a list of strings for several images built the same way",
    )


def platforms(fields: Fields, doc: Map) -> tuple[str, ...]:
    values = fields.string_list(doc, "platform")
    for value in values:
        if "," in value:
            raise fields.error(
                f"platform `{value}` must not contain commas",
                fields.line_of(doc, "platform"),
                hint="list each platform as its own item: `platform: [linux/amd64, linux/arm64]`",
            )
    return values


def dependencies(fields: Fields, doc: Map, *, stapel: bool) -> tuple[Dependency, ...]:
    result = tuple(_dependency(fields, entry, stapel=stapel) for entry in fields.maps(doc, "dependencies"))
    _reject_duplicate_targets(fields, result, doc)
    return result


def _dependency(fields: Fields, entry: Map, *, stapel: bool) -> Dependency:
    fields.check_keys(entry, DEPENDENCY_KEYS, "a dependency")
    name = fields.string(entry, "from") or fields.string(entry, "image")
    if not name:
        raise fields.error(
            "`from: NAME` is not specified for dependency (or deprecated `image: NAME`)",
            entry.line,
            hint="name the werf image this image depends on",
        )
    before, after = fields.string(entry, "before"), fields.string(entry, "after")
    if stapel:
        _check_dependency_stage(fields, entry, before, after)
    elif before or after:
        key = "before" if before else "after"
        raise fields.error(
            f"`{key}:` directive is not supported for dockerfile dependencies",
            fields.line_of(entry, key),
            hint="Dockerfile images receive dependencies as build args before the build starts",
        )
    imports = tuple(_dependency_import(fields, item, stapel=stapel) for item in fields.maps(entry, "imports"))
    return Dependency(name, imports, before, after, entry.line)


def _check_dependency_stage(fields: Fields, entry: Map, before: str, after: str) -> None:
    if not before and not after:
        raise fields.error(
            "dependency stage is not specified with `before: install|setup` or `after: install|setup`",
            entry.line,
            hint="Stapel images receive a dependency before or after a stage, e.g. `after: install`",
        )
    if before and after:
        raise fields.error(
            "only one dependency stage can be specified with `before: install|setup` or "
            "`after: install|setup`, but not both",
            fields.line_of(entry, "after"),
            hint="keep either `before:` or `after:`",
        )
    key, value = ("before", before) if before else ("after", after)
    if value not in ("install", "setup"):
        raise fields.error(
            f"invalid dependency stage `{key}: {value}`: expected install or setup!",
            fields.line_of(entry, key),
            hint="e.g. `after: install` or `before: setup`",
        )


def _dependency_import(fields: Fields, item: Map, *, stapel: bool) -> DependencyImport:
    fields.check_keys(item, DEPENDENCY_IMPORT_KEYS, "a dependency import")
    kind = fields.string(item, "type")
    if kind not in IMPORT_TYPES:
        typo = closest(kind, IMPORT_TYPES)
        raise fields.error(
            f"invalid `type: {kind}` for dependency import, expected one of: " + ", ".join(IMPORT_TYPES),
            fields.line_of(item, "type"),
            hint=f"did you mean `{typo}`?" if typo else "e.g. `type: ImageName` (the full image name)",
        )
    build_arg, env = fields.string(item, "targetBuildArg"), fields.string(item, "targetEnv")
    if stapel:
        wanted, unwanted = ("targetEnv", env), ("targetBuildArg", build_arg)
        _check_import_target(fields, item, wanted, unwanted, "a Stapel image", "environment variables")
    else:
        wanted, unwanted = ("targetBuildArg", build_arg), ("targetEnv", env)
        _check_import_target(fields, item, wanted, unwanted, "a Dockerfile image", "build args")
    return DependencyImport(kind, build_arg, env)


def _check_import_target(
    fields: Fields, item: Map, wanted: tuple[str, str], unwanted: tuple[str, str], kind: str, carrier: str
) -> None:
    """One target per image kind: `wanted`/`unwanted` are (directive, value) pairs."""
    why = f"{kind[2:]}s receive dependency values as {carrier}"
    if not wanted[1]:
        extra = " and `ARG NAME` in the Dockerfile" if wanted[0] == "targetBuildArg" else ""
        raise fields.error(f"{wanted[0]} directive cannot be empty for {kind}", item.line,
                           hint=f"{why}: add `{wanted[0]}: NAME`{extra}")
    if unwanted[1]:
        raise fields.error(f"{unwanted[0]} directive cannot be used for {kind}",
                           fields.line_of(item, unwanted[0]), hint=f"{why}: use `{wanted[0]}: NAME`")


def _reject_duplicate_targets(fields: Fields, deps: tuple[Dependency, ...], doc: Map) -> None:
    for attribute, label in (("target_build_arg", "targetBuildArg"), ("target_env", "targetEnv")):
        counts = Counter(getattr(item, attribute) for dep in deps for item in dep.imports)
        duplicated = [name for name, count in counts.items() if name and count > 1]
        if duplicated:
            raise fields.error(
                f"each {label} for dependency import should be unique, but found duplicates for: "
                + ", ".join(duplicated),
                fields.line_of(doc, "dependencies"),
                hint=f"give every imported value its own {label}",
            )


def secrets(fields: Fields, doc: Map) -> tuple[Secret, ...]:
    result = tuple(_secret(fields, entry) for entry in fields.maps(doc, "secrets"))
    seen: dict[str, Secret] = {}
    for secret in result:
        if secret.id in seen:
            raise fields.error(
                f"duplicate secret id `{secret.id}`",
                secret.line,
                hint=f"the same id is used on line {seen[secret.id].line}; set a distinct `id:`",
            )
        seen[secret.id] = secret
    return result


def _secret(fields: Fields, entry: Map) -> Secret:
    fields.check_keys(entry, SECRET_KEYS, "a secret")
    given = {key: fields.string(entry, key) for key in ("env", "src", "value")}
    sources = [key for key, value in given.items() if value]
    if len(sources) != 1:
        raise fields.error(
            "a secret needs exactly one of `env`, `src` or `value`",
            entry.line,
            hint="e.g. `- env: AWS_ACCESS_KEY_ID`, `- src: ~/.aws/credentials` or `- {id: token, value: …}`",
        )
    secret_id = fields.string(entry, "id")
    if not secret_id and sources[0] == "value":
        raise fields.error(
            "`id` is required for a secret with `value`",
            entry.line,
            hint="the id names the secret in `RUN --mount=type=secret,id=ID`",
        )
    if not secret_id:
        secret_id = given["env"] or posixpath.basename(given["src"].rstrip("/"))
    return Secret(secret_id, given["env"], given["src"], given["value"], entry.line)


def image_spec(fields: Fields, doc: Map) -> ImageSpec | None:
    spec = fields.mapping(doc, "imageSpec")
    if spec is None:
        return None
    fields.check_keys(spec, IMAGE_SPEC_KEYS, "imageSpec")
    config = fields.mapping(spec, "config") or Map((), spec.line)
    fields.check_keys(config, IMAGE_SPEC_CONFIG_KEYS, "imageSpec.config")
    return ImageSpec(
        author=fields.string(spec, "author") if spec.get("author") is not None else None,
        clear_history=fields.flag(spec, "clearHistory"),
        **_spec_flags(fields, config),
        remove_labels=fields.string_list(config, "removeLabels"),
        remove_volumes=fields.string_list(config, "removeVolumes"),
        remove_env=fields.string_list(config, "removeEnv"),
        volumes=fields.string_list(config, "volumes"),
        labels=fields.string_map(config, "labels"),
        env=fields.string_map(config, "env"),
        expose=fields.string_list(config, "expose"),
        user=fields.string(config, "user"),
        cmd=fields.string_list(config, "cmd"),
        entrypoint=fields.string_list(config, "entrypoint"),
        working_dir=fields.string(config, "workingDir"),
        stop_signal=fields.string(config, "stopSignal"),
        healthcheck=_healthcheck(fields, config),
    )


def _spec_flags(fields: Fields, config: Map) -> dict[str, bool]:
    names = {
        "keep_essential_werf_labels": "keepEssentialWerfLabels",
        "clear_werf_labels": "clearWerfLabels",
        "clear_cmd": "clearCmd",
        "clear_entrypoint": "clearEntrypoint",
        "clear_user": "clearUser",
        "clear_working_dir": "clearWorkingDir",
    }
    return {attribute: fields.flag(config, key) for attribute, key in names.items()}


def _healthcheck(fields: Fields, config: Map) -> Healthcheck | None:
    node = fields.mapping(config, "healthcheck")
    if node is None:
        return None
    fields.check_keys(
        node, HEALTHCHECK_KEYS, "imageSpec.config.healthcheck (yaml reads its keys in lowercase)"
    )
    numbers = {
        key: fields.integer(node, key) or 0 for key in ("interval", "timeout", "startperiod", "retries")
    }
    return Healthcheck(
        fields.string_list(node, "test"),
        numbers["interval"],
        numbers["timeout"],
        numbers["startperiod"],
        numbers["retries"],
    )


def meta_image_spec(fields: Fields, build: Map) -> ImageSpec | None:
    spec = fields.mapping(build, "imageSpec")
    if spec is None:
        return None
    fields.check_keys(spec, IMAGE_SPEC_KEYS, "build.imageSpec")
    config = fields.mapping(spec, "config") or Map((), spec.line)
    fields.check_keys(config, META_IMAGE_SPEC_CONFIG_KEYS, "build.imageSpec.config")
    return ImageSpec(
        author=fields.string(spec, "author") if spec.get("author") is not None else None,
        clear_history=fields.flag(spec, "clearHistory"),
        keep_essential_werf_labels=fields.flag(config, "keepEssentialWerfLabels"),
        clear_werf_labels=fields.flag(config, "clearWerfLabels"),
        remove_labels=fields.string_list(config, "removeLabels"),
        labels=fields.string_map(config, "labels"),
    )
