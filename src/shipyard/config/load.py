"""Find werf.yaml and the files it names, read them from the git commit (giterminism), parse the config.

The project tree is passed in (app.py builds it from gitrepo): this module never touches git itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from shipyard.config.giterminism import GiterminismConfig, parse_giterminism_config
from shipyard.config.model import WerfConfig
from shipyard.config.validate import parse_werf_config
from shipyard.errors import ConfigError, GiterminismError

Mode = Literal["strict", "loose", "dev"]
CONFIG_NAMES = ("werf.yaml", "werf.yml")
GITERMINISM_NAME = "werf-giterminism.yaml"


class ProjectTree(Protocol):
    """The files of the commit being built (strict) or of the work tree (loose/dev)."""

    def read(self, path: str) -> bytes | None: ...

    def uncommitted(self, paths: Sequence[str]) -> list[str]: ...


@dataclass(frozen=True)
class LoadedConfig:
    config: WerfConfig
    rendered: str
    config_file: str  # repo-relative posix path
    project_dir: str  # repo-relative posix path, "" for the repository root
    giterminism: GiterminismConfig


class ProjectFiles:
    """Giterminism-aware reads: a file differing from the commit is an error unless something allows it."""

    def __init__(
        self, tree: ProjectTree, work_tree: Path, mode: Mode, giterminism: GiterminismConfig
    ) -> None:
        self._tree = tree
        self._work_tree = work_tree
        self._mode = mode
        self.giterminism = giterminism

    @property
    def mode(self) -> Mode:
        return self._mode

    def read(self, path: str, *, allowed: Callable[[str], bool], allow_key: str) -> bytes | None:
        """Read a repo-relative file; in strict mode refuse uncommitted content unless `allowed(path)`."""
        if self._mode == "strict" and self._tree.uncommitted([path]):
            if not allowed(path):
                raise uncommitted_error([path], allow_key)
            disk = self._work_tree / path
            return disk.read_bytes() if disk.is_file() else None
        return self._tree.read(path)


def uncommitted_error(paths: Sequence[str], allow_key: str) -> GiterminismError:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return GiterminismError(
        f"uncommitted changes in {shown}: shipyard reads the project from the git HEAD commit (giterminism)",
        hint=f"commit the change (git add … && git commit), allow it in {GITERMINISM_NAME} "
        f"(`{allow_key}`), or run with --dev or --loose-giterminism to use the work tree",
    )


def project_prefix(repo_root: Path, project_dir: Path) -> str:
    """The project directory relative to the repository root, posix style ("" for the root)."""
    relative = project_dir.resolve().relative_to(repo_root.resolve())
    return "" if str(relative) == "." else relative.as_posix()


def join(prefix: str, path: str) -> str:
    return str(PurePosixPath(prefix, path)) if prefix else str(PurePosixPath(path))


def load_giterminism(tree: ProjectTree, work_tree: Path, prefix: str, mode: Mode) -> GiterminismConfig:
    """werf-giterminism.yaml itself must be committed (nothing could allow otherwise)."""
    path = join(prefix, GITERMINISM_NAME)
    files = ProjectFiles(tree, work_tree, mode, GiterminismConfig())
    data = files.read(path, allowed=lambda _: False, allow_key="--loose-giterminism")
    if data is None:
        return GiterminismConfig()
    return parse_giterminism_config(decode(data, GITERMINISM_NAME), filename=GITERMINISM_NAME)


def load_config(
    tree: ProjectTree,
    *,
    work_tree: Path,
    prefix: str,
    mode: Mode,
    config_path: str | None,
    project_override: str | None,
) -> tuple[LoadedConfig, ProjectFiles]:
    giterminism = load_giterminism(tree, work_tree, prefix, mode)
    files = ProjectFiles(tree, work_tree, mode, giterminism)
    names = (config_path,) if config_path else CONFIG_NAMES
    for name in names:
        path = join(prefix, name)
        data = files.read(path, allowed=lambda _: giterminism.config.allow_uncommitted,
                          allow_key="config.allowUncommitted: true")
        if data is not None:
            text = decode(data, name)
            refuse_templates(text, name)
            config = parse_werf_config(text, filename=name, project_override=project_override)
            return LoadedConfig(config, text, path, prefix, giterminism), files
    where = f"in {prefix}" if prefix else "at the repository root"
    raise ConfigError(
        f"no {' or '.join(names)} found {where} of commit HEAD",
        hint="create werf.yaml in the project directory and commit it, or point --dir/--config at it",
    )


def decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{name} is not valid UTF-8 (byte {error.start})",
                          hint="save the file as UTF-8") from None


def refuse_templates(text: str, name: str) -> None:
    """Go templates get their own engine; until it is wired in, say so instead of misreading `{{`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if "{{" in line:
            from shipyard.errors import Location

            raise ConfigError(
                "Go templates in werf.yaml are not supported yet",
                hint="render the file yourself for now (the template engine is coming in the next release)",
                location=Location(name, number),
            )
