"""werf-giterminism.yaml: what may be read from outside the git commit (werf-internals §9.5).

Absent file → `GiterminismConfig()`, which allows nothing. Allow-lists of paths are globs with werf's path
matcher semantics (doublestar: `*` stays within a directory, `**` spans directories; a glob naming a
directory also allows everything inside it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from shipyard.config.documents import Map, Node, Scalar, parse_document
from shipyard.config.model import DockerfileImage, StapelImage, WerfConfig
from shipyard.config.validate_fields import Fields, clean_path
from shipyard.errors import GiterminismError, Location
from shipyard.pathmatch import IncludePathMatcher

GITERMINISM_DOCS = "https://werf.io/docs/v2/usage/project_configuration/giterminism.html"


def glob_matches(pattern: str, path: str) -> bool:
    """werf's path matcher: the glob matches the path, or a directory the path is inside of."""
    return any_glob_matches((pattern,), path)


def any_glob_matches(patterns: tuple[str, ...], path: str) -> bool:
    """An allow-list: no patterns allows nothing (werf's FalsePathMatcher)."""
    return bool(patterns) and IncludePathMatcher.of(patterns).is_path_matched(path)


def _name_matches(pattern: str, name: str) -> bool:
    """Env variable allow-list entries: an exact name, or `/regex/` matched against the whole name (werf
    compiles `^REGEX$`, pkg/giterminism_manager/config/config.go)."""
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        return re.fullmatch(pattern[1:-1], name) is not None
    return pattern == name


@dataclass(frozen=True, slots=True)
class CliGiterminism:
    allow_custom_tags: bool = False


@dataclass(frozen=True, slots=True)
class GoTemplateRenderingGiterminism:
    allow_env_variables: tuple[str, ...] = ()  # names or /regex/
    allow_uncommitted_files: tuple[str, ...] = ()

    def allows_env(self, name: str) -> bool:
        return any(_name_matches(pattern, name) for pattern in self.allow_env_variables)

    def allows_uncommitted_file(self, path: str) -> bool:
        return any_glob_matches(self.allow_uncommitted_files, path)


@dataclass(frozen=True, slots=True)
class SecretsGiterminism:
    allow_env_variables: tuple[str, ...] = ()  # exact names
    allow_files: tuple[str, ...] = ()  # absolute globs, `~` expanded
    allow_value_ids: tuple[str, ...] = ()

    def allows_env(self, name: str) -> bool:
        return name in self.allow_env_variables

    def allows_file(self, path: str) -> bool:
        target = os.path.expanduser(path)
        return any(glob_matches(os.path.expanduser(pattern), target) for pattern in self.allow_files)

    def allows_value_id(self, secret_id: str) -> bool:
        return secret_id in self.allow_value_ids


@dataclass(frozen=True, slots=True)
class StapelGitGiterminism:
    allow_branch: bool = False


@dataclass(frozen=True, slots=True)
class StapelMountGiterminism:
    allow_build_dir: bool = False
    allow_from_paths: tuple[str, ...] = ()

    def allows_from_path(self, path: str) -> bool:
        return any_glob_matches(self.allow_from_paths, path)


@dataclass(frozen=True, slots=True)
class StapelGiterminism:
    allow_from_latest: bool = False
    git: StapelGitGiterminism = field(default_factory=StapelGitGiterminism)
    mount: StapelMountGiterminism = field(default_factory=StapelMountGiterminism)


@dataclass(frozen=True, slots=True)
class DockerfileGiterminism:
    allow_uncommitted: tuple[str, ...] = ()
    allow_uncommitted_dockerignore_files: tuple[str, ...] = ()
    allow_context_add_files: tuple[str, ...] = ()

    def allows_uncommitted(self, path: str) -> bool:
        return any_glob_matches(self.allow_uncommitted, path)

    def allows_uncommitted_dockerignore(self, path: str) -> bool:
        return any_glob_matches(self.allow_uncommitted_dockerignore_files, path)

    def allows_context_add_file(self, path: str) -> bool:
        return any_glob_matches(self.allow_context_add_files, path)


@dataclass(frozen=True, slots=True)
class ConfigGiterminism:
    allow_uncommitted: bool = False
    allow_uncommitted_templates: tuple[str, ...] = ()
    go_template_rendering: GoTemplateRenderingGiterminism = field(
        default_factory=GoTemplateRenderingGiterminism
    )
    secrets: SecretsGiterminism = field(default_factory=SecretsGiterminism)
    stapel: StapelGiterminism = field(default_factory=StapelGiterminism)
    dockerfile: DockerfileGiterminism = field(default_factory=DockerfileGiterminism)

    def allows_uncommitted_template(self, path: str) -> bool:
        return any_glob_matches(self.allow_uncommitted_templates, path)


@dataclass(frozen=True, slots=True)
class HelmGiterminism:
    allow_uncommitted_files: tuple[str, ...] = ()

    def allows_uncommitted_file(self, path: str) -> bool:
        return any_glob_matches(self.allow_uncommitted_files, path)


@dataclass(frozen=True, slots=True)
class IncludesGiterminism:
    allow_includes_update: bool = False


@dataclass(frozen=True, slots=True)
class GiterminismConfig:
    cli: CliGiterminism = field(default_factory=CliGiterminism)
    config: ConfigGiterminism = field(default_factory=ConfigGiterminism)
    helm: HelmGiterminism = field(default_factory=HelmGiterminism)
    includes: IncludesGiterminism = field(default_factory=IncludesGiterminism)


class _Reader:
    """Reads one section, rejecting keys it does not know (with a did-you-mean) before reading values."""

    def __init__(self, fields: Fields, node: Map, path: str, keys: tuple[str, ...]) -> None:
        fields.check_keys(node, keys, f"`{path}`" if path else "werf-giterminism.yaml")
        self.fields, self.node, self.path = fields, node, path

    def section(self, key: str, keys: tuple[str, ...]) -> _Reader:
        node = self.fields.mapping(self.node, key) or Map((), self.node.line)
        return _Reader(self.fields, node, f"{self.path}.{key}" if self.path else key, keys)

    def flag(self, key: str) -> bool:
        return self.fields.flag(self.node, key)

    def globs(self, key: str) -> tuple[str, ...]:
        return self.fields.string_list(self.node, key)

    def names(self, key: str) -> tuple[str, ...]:
        values = self.globs(key)
        for value in values:
            if len(value) > 1 and value.startswith("/") and value.endswith("/"):
                try:
                    re.compile(value[1:-1])
                except re.error as error:
                    message = f"invalid regular expression {value} in `{self.path}.{key}`: {error}"
                    hint = "write the regex between slashes, e.g. `/^CI_.*/`"
                    raise self.fields.error(message, self.fields.line_of(self.node, key), hint=hint) from None
        return values


def parse_giterminism_config(text: str, filename: str = "werf-giterminism.yaml") -> GiterminismConfig:
    fields = Fields(filename)
    root = parse_document(text, 1, filename).root
    if not isinstance(root, Map):
        raise fields.error(
            f"{filename} must be a mapping starting with `giterminismConfigVersion: 1`",
            None if root is None else root.line,
            hint="see " + GITERMINISM_DOCS,
        )
    top = _Reader(fields, root, "", ("giterminismConfigVersion", "cli", "config", "helm", "includes"))
    _check_version(fields, root)
    config = top.section(
        "config",
        (
            "allowUncommitted",
            "allowUncommittedTemplates",
            "goTemplateRendering",
            "secrets",
            "stapel",
            "dockerfile",
        ),
    )
    return GiterminismConfig(
        cli=CliGiterminism(top.section("cli", ("allowCustomTags",)).flag("allowCustomTags")),
        config=_config(config),
        helm=HelmGiterminism(top.section("helm", ("allowUncommittedFiles",)).globs("allowUncommittedFiles")),
        includes=IncludesGiterminism(
            top.section("includes", ("allowIncludesUpdate",)).flag("allowIncludesUpdate")
        ),
    )


def _check_version(fields: Fields, root: Map) -> None:
    node: Node | None = root.get("giterminismConfigVersion")
    if isinstance(node, Scalar) and not isinstance(node.value, bool) and node.value in (1, "1"):
        return
    raise fields.error(
        "`giterminismConfigVersion: 1` is required",
        None if node is None else node.line,
        hint="1 is the only version: add `giterminismConfigVersion: 1` at the top",
    )


def _config(config: _Reader) -> ConfigGiterminism:
    rendering = config.section("goTemplateRendering", ("allowEnvVariables", "allowUncommittedFiles"))
    secrets = config.section("secrets", ("allowEnvVariables", "allowFiles", "allowValueIds"))
    stapel = config.section("stapel", ("allowFromLatest", "git", "mount"))
    mount = stapel.section("mount", ("allowBuildDir", "allowFromPaths"))
    dockerfile = config.section(
        "dockerfile", ("allowUncommitted", "allowUncommittedDockerignoreFiles", "allowContextAddFiles")
    )
    return ConfigGiterminism(
        allow_uncommitted=config.flag("allowUncommitted"),
        allow_uncommitted_templates=config.globs("allowUncommittedTemplates"),
        go_template_rendering=GoTemplateRenderingGiterminism(
            rendering.names("allowEnvVariables"), rendering.globs("allowUncommittedFiles")
        ),
        secrets=SecretsGiterminism(
            secrets.globs("allowEnvVariables"), secrets.globs("allowFiles"), secrets.globs("allowValueIds")
        ),
        stapel=StapelGiterminism(
            stapel.flag("allowFromLatest"),
            StapelGitGiterminism(stapel.section("git", ("allowBranch",)).flag("allowBranch")),
            StapelMountGiterminism(mount.flag("allowBuildDir"), mount.globs("allowFromPaths")),
        ),
        dockerfile=DockerfileGiterminism(
            dockerfile.globs("allowUncommitted"),
            dockerfile.globs("allowUncommittedDockerignoreFiles"),
            dockerfile.globs("allowContextAddFiles"),
        ),
    )


def check_config(config: WerfConfig, giterminism: GiterminismConfig, filename: str = "werf.yaml") -> None:
    """Directives werf refuses unless werf-giterminism.yaml allows them (skip in loose/dev mode)."""
    allowed = giterminism.config
    for image in config.images:
        for secret in image.secrets:
            _check_secret(allowed, secret.env, secret.src, secret.value and secret.id, filename, secret.line)
        if isinstance(image, DockerfileImage):
            for path in image.context_add_files:
                project_path = clean_path(f"{image.context}/{path}" if image.context else path)
                _require(
                    allowed.dockerfile.allows_context_add_file(project_path),
                    f"contextAddFiles entry `{path}` is not allowed",
                    f"config.dockerfile.allowContextAddFiles: [{project_path}]",
                    filename,
                    image.line,
                )
        elif isinstance(image, StapelImage):
            _check_stapel(allowed.stapel, image, filename)


def _check_secret(
    allowed: ConfigGiterminism, env: str, src: str, value_id: str, filename: str, line: int
) -> None:
    if env:
        _require(
            allowed.secrets.allows_env(env),
            f"secret from environment variable `{env}` is not allowed",
            f"config.secrets.allowEnvVariables: [{env}]",
            filename,
            line,
        )
    if src:
        _require(
            allowed.secrets.allows_file(src),
            f"secret from file `{src}` is not allowed",
            f"config.secrets.allowFiles: [{src}]",
            filename,
            line,
        )
    if value_id:
        _require(
            allowed.secrets.allows_value_id(value_id),
            f"secret value `{value_id}` is not allowed",
            f"config.secrets.allowValueIds: [{value_id}]",
            filename,
            line,
        )


def _check_stapel(allowed: StapelGiterminism, image: StapelImage, filename: str) -> None:
    _require(
        allowed.allow_from_latest or not image.from_latest,
        "`fromLatest: true` is not allowed",
        "config.stapel.allowFromLatest: true",
        filename,
        image.line,
    )
    for mapping in image.git:
        _require(
            allowed.git.allow_branch or not mapping.branch,
            f"remote git `branch: {mapping.branch}` is not allowed",
            "config.stapel.git.allowBranch: true (or pin `commit:`/`tag:`)",
            filename,
            mapping.line,
        )
    for mount in image.mount:
        if mount.type == "build_dir":
            _require(
                allowed.mount.allow_build_dir,
                "mount `from: build_dir` is not allowed",
                "config.stapel.mount.allowBuildDir: true",
                filename,
                mount.line,
            )
        if mount.type == "custom_dir":
            _require(
                allowed.mount.allows_from_path(mount.from_path),
                f"mount `fromPath: {mount.from_path}` is not allowed",
                f"config.stapel.mount.allowFromPaths: [{mount.from_path}]",
                filename,
                mount.line,
            )


def _require(ok: bool, message: str, allow: str, filename: str, line: int) -> None:
    if not ok:
        raise GiterminismError(
            f"{message}: it depends on something outside the git commit (giterminism)",
            hint=f"allow it in werf-giterminism.yaml with `{allow}`, or run with --loose-giterminism",
            location=Location(filename, line),
        )
