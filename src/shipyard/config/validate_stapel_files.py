"""Where a Stapel image's files come from: `git` mappings and `import` entries (werf-internals §9.4)."""

from __future__ import annotations

import re

from shipyard.config.documents import Map
from shipyard.config.model import GitBasicAuth, GitMapping, GitStageDependencies, Import
from shipyard.config.validate_fields import Fields, clean_path, is_absolute, is_relative

IMPORT_STAGES = ("beforeInstall", "install", "beforeSetup", "setup")
GIT_KEYS = frozenset({
    "add", "to", "owner", "group", "includePaths", "excludePaths", "stageDependencies", "url", "branch",
    "tag", "commit", "basicAuth",
})
REMOTE_ONLY_GIT_KEYS = ("branch", "tag", "commit", "basicAuth")
STAGE_DEPENDENCY_KEYS = frozenset({"install", "beforeSetup", "setup"})
BASIC_AUTH_KEYS = frozenset({"username", "password"})
PASSWORD_KEYS = frozenset({"env", "file", "value"})
IMPORT_KEYS = frozenset({
    "image", "from", "artifact", "before", "after", "stage", "add", "to", "includePaths", "excludePaths",
    "owner", "group",
})
_REPO_NAME = re.compile(r".*?([^/ ]+/[^/ ]+)(\.git)?")


def git_mapping(fields: Fields, entry: Map) -> GitMapping:
    fields.check_keys(entry, GIT_KEYS, "a git mapping")
    url = fields.string(entry, "url")
    _check_remote(fields, entry, url)
    add, to = _export_paths(fields, entry, default_add="/", what="git")
    return GitMapping(
        add=add,
        to=to,
        owner=fields.string(entry, "owner"),
        group=fields.string(entry, "group"),
        include_paths=_relative_globs(fields, entry, "includePaths"),
        exclude_paths=_relative_globs(fields, entry, "excludePaths"),
        stage_dependencies=_stage_dependencies(fields, entry),
        url=url,
        branch=fields.string(entry, "branch"),
        tag=fields.string(entry, "tag"),
        commit=fields.string(entry, "commit"),
        basic_auth=_basic_auth(fields, entry),
        line=entry.line,
    )


def _check_remote(fields: Fields, entry: Map, url: str) -> None:
    """Remote-only directives need `url`; a remote needs a repo name werf can derive, and one ref at most."""
    if not url:
        for key in REMOTE_ONLY_GIT_KEYS:
            if entry.get(key) is not None:
                raise fields.error(
                    f"`{key}` is only supported for a remote git mapping (with `url`)",
                    fields.line_of(entry, key),
                    hint="add `url: …` or remove this key",
                )
    elif not _REPO_NAME.search(url):
        raise fields.error(
            f"Cannot determine repo name from `url: {url}`: url is not fit "
            "`.*?([^/ ]+/[^/ ]+)(\\.git)?` regex!",
            fields.line_of(entry, "url"),
            hint="use a URL ending in OWNER/REPO, e.g. https://github.com/werf/werf.git",
        )
    refs = [key for key in ("branch", "tag", "commit") if fields.string(entry, key)]
    if len(refs) > 1:
        raise fields.error(
            "specify only one of `branch`, `tag` or `commit` for a git mapping",
            fields.line_of(entry, refs[1]),
            hint="pin one ref; a commit or tag keeps builds reproducible, a branch moves",
        )


def _export_paths(fields: Fields, entry: Map, *, default_add: str, what: str) -> tuple[str, str]:
    add = fields.string(entry, "add") or default_add
    if not is_absolute(add):
        raise fields.error(
            f"`add: PATH` absolute path required for {what}!",
            fields.line_of(entry, "add"),
            hint="paths start with `/` (the root of the source)",
        )
    to = fields.string(entry, "to") or (add if what == "import" else "")
    if not is_absolute(to):
        raise fields.error(
            f"`to: PATH` absolute path required for {what}!",
            fields.line_of(entry, "to"),
            hint="set the destination inside the image, e.g. `to: /app`",
        )
    return clean_path(add), clean_path(to)


def _relative_globs(fields: Fields, entry: Map, key: str) -> tuple[str, ...]:
    globs = fields.strings(entry, key)
    if not all(is_relative(glob) for glob in globs):
        raise fields.error(
            f"`{key}: [PATH, ...]|PATH` should be relative paths!",
            fields.line_of(entry, key),
            hint="globs are relative to `add`, e.g. `src/**/*.py`",
        )
    return tuple(clean_path(glob) for glob in globs)


def _stage_dependencies(fields: Fields, entry: Map) -> GitStageDependencies:
    node = fields.mapping(entry, "stageDependencies")
    if node is None:
        return GitStageDependencies()
    fields.check_keys(node, STAGE_DEPENDENCY_KEYS, "git stageDependencies")
    install, before_setup, setup = (
        _relative_globs(fields, node, key) for key in ("install", "beforeSetup", "setup")
    )
    return GitStageDependencies(install, before_setup, setup)


def _basic_auth(fields: Fields, entry: Map) -> GitBasicAuth | None:
    node = fields.mapping(entry, "basicAuth")
    if node is None:
        return None
    fields.check_keys(node, BASIC_AUTH_KEYS, "git basicAuth")
    password = fields.mapping(node, "password") or Map((), node.line)
    fields.check_keys(password, PASSWORD_KEYS, "git basicAuth password")
    sources = {key: fields.string(password, key) for key in ("env", "file", "value")}
    if sum(1 for value in sources.values() if value) != 1:
        raise fields.error(
            "git basicAuth `password` needs exactly one of `env`, `file` or `value`",
            password.line,
            hint="e.g. `password: {env: GIT_TOKEN}`",
        )
    return GitBasicAuth(fields.string(node, "username"), sources["env"], sources["file"], sources["value"])


def import_entry(fields: Fields, entry: Map) -> Import:
    fields.check_keys(entry, IMPORT_KEYS, "an import")
    source, artifact = _import_source(fields, entry)
    before, after = fields.string(entry, "before"), fields.string(entry, "after")
    _check_import_stage(fields, entry, before, after)
    add, to = _export_paths(fields, entry, default_add="", what="import")
    include_paths = _relative_globs(fields, entry, "includePaths")
    if add == "/" and not include_paths:
        raise fields.error(
            "`add: /` requires `includePaths` for import",
            fields.line_of(entry, "add"),
            hint="importing a whole root filesystem is never what you want: list the paths to "
            "take in `includePaths`, or import a narrower `add`",
        )
    return Import(
        image=source or artifact, add=add, to=to, before=before, after=after,
        stage=fields.string(entry, "stage"), is_artifact=bool(artifact), include_paths=include_paths,
        exclude_paths=_relative_globs(fields, entry, "excludePaths"),
        owner=fields.string(entry, "owner"), group=fields.string(entry, "group"), line=entry.line,
    )


def _import_source(fields: Fields, entry: Map) -> tuple[str, str]:
    """(`from` or its old name `image`, deprecated `artifact`): exactly one of them names the source."""
    image, source, artifact = (fields.string(entry, key) for key in ("image", "from", "artifact"))
    if image and source:
        raise fields.error(
            "specify only `image: NAME` or `from: NAME` for import!",
            fields.line_of(entry, "from"),
            hint="both name the source image; keep `from:`",
        )
    if (image or source) and artifact:
        raise fields.error(
            "specify only one artifact name using `artifact: NAME` or image name using "
            "`image: NAME` for import!",
            fields.line_of(entry, "artifact"),
            hint="keep `from: NAME` (artifacts are deprecated)",
        )
    if not (image or source or artifact):
        raise fields.error(
            "image name `from: NAME` (or `image: NAME`) required for import!",
            entry.line,
            hint="name the werf image (or an external image with a tag) to copy files from",
        )
    return source or image, artifact


def _check_import_stage(fields: Fields, entry: Map, before: str, after: str) -> None:
    if before and after:
        raise fields.error(
            "specify only one artifact stage using `before: install|setup` or `after: install|setup` "
            "for import!",
            fields.line_of(entry, "after"),
            hint="keep either `before:` or `after:`",
        )
    if not before and not after:
        raise fields.error(
            "artifact stage is not specified with `before: install|setup` or `after: install|setup` "
            "for import!",
            entry.line,
            hint="e.g. `after: install` to copy the files after install",
        )
    key, value = ("before", before) if before else ("after", after)
    if value not in ("install", "setup"):
        raise fields.error(
            f"invalid artifact stage `{key}: {value}` for import: expected install or setup!",
            fields.line_of(entry, key),
            hint="e.g. `after: install` or `before: setup`",
        )
    stage = fields.string(entry, "stage")
    if stage and stage not in IMPORT_STAGES:
        raise fields.error(
            f"invalid `stage: {stage}` for import: expected one of " + ", ".join(IMPORT_STAGES),
            fields.line_of(entry, "stage"),
            hint="the stage of the source image to copy from; leave it out to copy from its last stage",
        )
