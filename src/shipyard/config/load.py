"""Find werf.yaml, read it and the giterminism config from the git commit, render the template, parse it.

The project tree is passed in (app.py builds it from gitrepo): this module never touches git itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from shipyard.config.giterminism import GiterminismConfig, check_config, parse_giterminism_config
from shipyard.config.model import WerfConfig
from shipyard.config.project_files import GITERMINISM_NAME, Mode, ProjectFiles, ProjectTree, join
from shipyard.config.render import RenderRequest, render_config
from shipyard.config.validate import parse_werf_config
from shipyard.errors import ConfigError

CONFIG_NAMES = ("werf.yaml", "werf.yml")


@dataclass(frozen=True)
class ConfigRequest:
    prefix: str  # project dir, repo-relative ("" for the root)
    mode: Mode
    config_path: str | None  # --config
    templates_dir: str | None  # --config-templates-dir
    environment: str  # --env
    commit: str
    commit_time_unix: int
    project_override: str | None  # WERF_PROJECT_NAME


@dataclass(frozen=True)
class LoadedConfig:
    config: WerfConfig
    rendered: str
    config_file: str  # repo-relative posix path
    project_dir: str  # repo-relative posix path, "" for the repository root
    giterminism: GiterminismConfig


def project_prefix(repo_root: Path, project_dir: Path) -> str:
    """The project directory relative to the repository root, posix style ("" for the root)."""
    relative = project_dir.resolve().relative_to(repo_root.resolve())
    return "" if str(relative) == "." else relative.as_posix()


def load_giterminism(tree: ProjectTree, work_tree: Path, prefix: str, mode: Mode) -> GiterminismConfig:
    """werf-giterminism.yaml itself must be committed (nothing could allow otherwise)."""
    path = join(prefix, GITERMINISM_NAME)
    files = ProjectFiles(tree, work_tree, mode, GiterminismConfig())
    data = files.read(path, allowed=lambda _: False, allow_key="--loose-giterminism")
    if data is None:
        return GiterminismConfig()
    return parse_giterminism_config(decode(data, GITERMINISM_NAME), filename=GITERMINISM_NAME)


def load_config(
    tree: ProjectTree, work_tree: Path, request: ConfigRequest
) -> tuple[LoadedConfig, ProjectFiles]:
    giterminism = load_giterminism(tree, work_tree, request.prefix, request.mode)
    files = ProjectFiles(tree, work_tree, request.mode, giterminism)
    names = (request.config_path,) if request.config_path else CONFIG_NAMES
    for name in names:
        path = join(request.prefix, name)
        data = files.read(path, allowed=lambda _: giterminism.config.allow_uncommitted,
                          allow_key="config.allowUncommitted: true")
        if data is not None:
            text = decode(data, name)
            rendered = render_config(RenderRequest(
                text=text, name=name, prefix=request.prefix, environment=request.environment,
                commit=request.commit, commit_time_unix=request.commit_time_unix,
                templates_dir=request.templates_dir), files)
            config = parse_rendered(rendered, text, name, request.project_override)
            if request.mode == "strict":
                check_config(config, giterminism, filename=name)
            return LoadedConfig(config, rendered, path, request.prefix, giterminism), files
    where = f"in {request.prefix}" if request.prefix else "at the repository root"
    raise ConfigError(
        f"no {' or '.join(names)} found {where} of commit HEAD",
        hint="create werf.yaml in the project directory and commit it, or point --dir/--config at it",
    )


def parse_rendered(rendered: str, source: str, name: str, project_override: str | None) -> WerfConfig:
    """Parse the rendered text; when templates changed it, say that line numbers are the rendered file's."""
    try:
        return parse_werf_config(rendered, filename=name, project_override=project_override)
    except ConfigError as error:
        if rendered == source or error.location is None:
            raise
        line = error.location.line
        error.location = dataclasses.replace(error.location, file=f"{name} (rendered)")
        error.hint = (f"{error.hint}\n  note: line {line} is a line of the rendered werf.yaml; "
                      "see it with `shipyard render`") if line else error.hint
        raise


def decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{name} is not valid UTF-8 (byte {error.start})",
                          hint="save the file as UTF-8") from None

