"""Rendering werf.yaml as werf does: the template engine plus werf's data (.Files, .Env, .Commit), the
giterminism-gated `env` function and the project's `.werf/**/*.tmpl` templates (werf-internals §9.1)."""

from __future__ import annotations

import datetime as dt
import os
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shipyard.config.giterminism import glob_matches
from shipyard.config.project_files import GITERMINISM_NAME, Mode, ProjectFiles, join
from shipyard.config.template.errors import GoError, TemplateError
from shipyard.errors import ConfigError, GiterminismError, ShipyardError

DEFAULT_TEMPLATES_DIR = ".werf"


@dataclass(frozen=True)
class RenderRequest:
    text: str
    name: str  # the config file name as the user knows it, e.g. "werf.yaml"
    prefix: str  # project dir, repo-relative
    environment: str  # --env
    commit: str
    commit_time_unix: int
    templates_dir: str | None = None  # --config-templates-dir, project-relative


class FunctionFailures:
    """Keeps the shipyard error a template function hit, so it surfaces with its own hint rather than as an
    anonymous `error calling NAME` (the engine knows nothing of shipyard errors)."""

    def __init__(self) -> None:
        self.first: ShipyardError | None = None

    def go_error(self, error: ShipyardError) -> GoError:
        self.first = self.first or error
        return GoError(error.message)


class TemplateFiles:
    """`.Files`: project files (paths relative to the project dir) from the commit, giterminism-aware."""

    def __init__(self, files: ProjectFiles, prefix: str, failures: FunctionFailures) -> None:
        self._files = files
        self._prefix = prefix
        self._failures = failures

    def _read(self, path: str) -> bytes | None:
        rendering = self._files.giterminism.config.go_template_rendering
        try:
            return self._files.read(join(self._prefix, path), allowed=rendering.allows_uncommitted_file,
                                    allow_key="config.goTemplateRendering.allowUncommittedFiles")
        except ShipyardError as error:
            raise self._failures.go_error(error) from None

    def Get(self, path: str) -> str:
        data = self._read(path)
        if data is None:
            raise GoError(f"the file {path!r} not found in the project git repository")
        return data.decode("utf-8", errors="replace")

    def Glob(self, pattern: str) -> dict[str, object]:
        result: dict[str, object] = {}
        for path in self._files.list_files(self._prefix):
            relative = posixpath.relpath(path, self._prefix) if self._prefix else path
            if glob_matches(pattern, relative):
                result[relative] = self.Get(relative)
        return result

    def Exists(self, path: str) -> bool:
        return self._files.exists(join(self._prefix, path))

    def IsDir(self, path: str) -> bool:
        return self._files.is_dir(join(self._prefix, path))


def go_time_string(unix: int) -> str:
    """Go's time.Time.String() of the commit time, in UTC ("2006-01-02 15:04:05 +0000 UTC")."""
    moment = dt.datetime.fromtimestamp(unix, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def env_function(files: ProjectFiles, environ: Mapping[str, str],
                 failures: FunctionFailures) -> Callable[..., str]:
    mode: Mode = files.mode
    allows = files.giterminism.config.go_template_rendering.allows_env

    def env(name: str, *default: str) -> str:
        if mode == "strict" and not allows(name):
            raise failures.go_error(GiterminismError(
                f"werf.yaml uses the environment variable {name!r}, which giterminism does not allow",
                hint=f"allow it in {GITERMINISM_NAME} (config.goTemplateRendering.allowEnvVariables: "
                f"[{name}]) or run with --loose-giterminism",
            ))
        value = environ.get(name, "")
        if value:
            return value
        if default:
            return default[0]
        if mode == "strict" and name not in environ:
            raise GoError(f"the environment variable {name!r} is not set "
                          f"(give a default: env {name!r} \"value\")")
        return ""

    return env


def project_templates(files: ProjectFiles, prefix: str, templates_dir: str | None) -> dict[str, str]:
    """Every `**/*.tmpl` under the templates dir, named by its path relative to that dir."""
    directory = join(prefix, templates_dir or DEFAULT_TEMPLATES_DIR)
    templates: dict[str, str] = {}
    for path in files.list_files(directory):
        if path.endswith(".tmpl"):
            data = files.read(path, allowed=files.giterminism.config.allows_uncommitted_template,
                              allow_key="config.allowUncommittedTemplates")
            if data is not None:
                templates[posixpath.relpath(path, directory)] = data.decode("utf-8", errors="replace")
    return templates


def render_config(request: RenderRequest, files: ProjectFiles,
                  environ: Mapping[str, str] | None = None) -> str:
    if "{{" not in request.text:
        # No action, so Go's output is the text itself: skip the engine (~70 ms of imports per run).
        return request.text
    from shipyard.config.template import render

    failures = FunctionFailures()
    data = {
        "Files": TemplateFiles(files, request.prefix, failures),
        "Env": request.environment,
        "Commit": {
            "Hash": request.commit,
            "Date": {"Human": go_time_string(request.commit_time_unix),
                     "Unix": str(request.commit_time_unix)},
        },
    }
    functions = {"env": env_function(files, os.environ if environ is None else environ, failures)}
    templates = project_templates(files, request.prefix, request.templates_dir)
    try:
        return render(request.text, name=request.name, data=data, functions=functions, templates=templates)
    except TemplateError as error:
        if failures.first is not None:
            # Go's message gives the place; the shipyard error gives the reason's kind and the way out.
            raise type(failures.first)(str(error), hint=failures.first.hint) from None
        raise ConfigError(str(error), hint="fix the Go template expression at that line and column "
                          "(`shipyard render` prints the result once it renders)") from None
