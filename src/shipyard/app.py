"""Wiring: turns parsed command-line options into the objects that do the work. The only place that picks
concrete adapters (git, backends, storages, lockers)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from shipyard import output
from shipyard.config.load import ConfigRequest, LoadedConfig, load_config, project_prefix
from shipyard.config.project_files import Mode, ProjectFiles
from shipyard.config.selection import select_images
from shipyard.errors import UsageError
from shipyard.gitrepo import GitRepo, Snapshot
from shipyard.planning import Planner, PlanRequest


def giterminism_mode(options: dict[str, Any]) -> Mode:
    if options.get("dev"):
        return "dev"
    return "loose" if options.get("loose_giterminism") else "strict"


def load_project(options: dict[str, Any]) -> tuple[LoadedConfig, ProjectFiles, Snapshot]:
    project_dir = Path(options["project_dir"])
    if not project_dir.is_dir():
        raise UsageError(f"project directory {project_dir} does not exist", hint="check --dir / WERF_DIR")
    repo = GitRepo.discover(project_dir)
    mode = giterminism_mode(options)
    snapshot = repo.snapshot(mode)
    request = ConfigRequest(
        prefix=project_prefix(repo.root, project_dir),
        mode=mode,
        config_path=options.get("config_path"),
        templates_dir=options.get("config_templates_dir"),
        environment=str(options.get("environment") or ""),
        commit=repo.head_commit,
        commit_time_unix=repo.head_commit_time,
        project_override=os.environ.get("WERF_PROJECT_NAME") or None,
    )
    loaded, files = load_config(snapshot, repo.root, request)
    return loaded, files, snapshot


def run(command: str, options: dict[str, Any]) -> None:
    if command == "render":
        loaded, _, _ = load_project(options)
        output.print_rendered(loaded.rendered)
    elif command == "plan":
        run_plan(options)
    elif command == "build":
        run_build(options)
    elif command in ("cr-login", "cr-logout"):
        from shipyard import app_registry

        app_registry.run(command, options)
    else:  # pragma: no cover - cli.py only passes known commands
        raise AssertionError(command)


def run_plan(options: dict[str, Any]) -> None:
    loaded, files, snapshot = load_project(options)
    names = select_images(loaded.config, tuple(options.get("images") or ()))
    planner = Planner(loaded.config, files, snapshot, loaded.project_dir)
    request = PlanRequest(image_names=names, cli_platforms=tuple(options.get("platforms") or ()))
    planned = planner.plan(request)
    for warning in planner.warnings:
        output.warn(warning)
    from shipyard.app_build import find_stored

    result = find_stored(options, planner, loaded.config, planned, snapshot)
    if options.get("as_json"):
        output.print_plan_json(loaded.config.meta.project, snapshot.commit, result.images, result.final_names,
                               result.stored_stages)
    else:
        output.print_plan(loaded.config.meta.project, snapshot.commit, result.images, result.final_names,
                          result.stored_stages,
                          debug_digest=bool(options.get("debug_digest")))


def run_build(options: dict[str, Any]) -> None:
    from shipyard.app_build import run_build as build_images

    loaded, files, snapshot = load_project(options)
    names = select_images(loaded.config, tuple(options.get("images") or ()))
    planner = Planner(loaded.config, files, snapshot, loaded.project_dir)
    build_images(options, loaded.config, names, planner, snapshot)
    for warning in planner.warnings:
        output.warn(warning)
