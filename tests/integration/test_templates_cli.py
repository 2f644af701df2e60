"""werf.yaml as a Go template end to end: werf's data and functions, giterminism, located errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.gitrepo import commit_all, git, init_repo

TEMPLATED = """\
{{ $_ := set . "Base" "base:1" }}
project: tpl
configVersion: 1
{{- range $name := list "api" "worker" }}
---
image: {{ $name }}
dockerfile: Dockerfile
args:
  BASE: {{ $.Base }}
  VERSION: {{ $.Files.Get "VERSION" | trim | quote }}
  COMMIT: {{ $.Commit.Hash | trunc 12 }}
{{- include "labels" $name }}
{{- end }}
"""
HELPERS = '{{- define "labels" }}\n  ROLE: {{ . | upper }}{{ end }}'
DOCKERFILE = "ARG BASE\nFROM $BASE\nARG VERSION\nRUN echo $VERSION\n"


def shipyard(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shipyard", *args, "--dir", str(repo)], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "SHIPYARD_HOME": str(repo.parent / "home"), **(env or {})})


def project(tmp_path: Path, werf_yaml: str = TEMPLATED, **files: str) -> Path:
    return init_repo(tmp_path / "project", {
        "werf.yaml": werf_yaml, "Dockerfile": DOCKERFILE, "VERSION": "1.4.2\n",
        ".werf/helpers.tmpl": HELPERS, **files,
    })


def test_render_uses_werf_data_functions_and_project_templates(tmp_path: Path) -> None:
    repo = project(tmp_path)
    done = shipyard(repo, "render")
    assert done.returncode == 0, done.stderr
    commit = git(repo, "rev-parse", "HEAD")
    assert "image: worker" in done.stdout and "BASE: base:1" in done.stdout
    assert 'VERSION: "1.4.2"' in done.stdout and f"COMMIT: {commit[:12]}" in done.stdout
    assert "ROLE: API" in done.stdout
    planned = shipyard(repo, "plan", "--json")
    assert planned.returncode == 0, planned.stderr
    assert [image["name"] for image in json.loads(planned.stdout)["images"]] == ["api", "worker"]


def test_env_needs_a_giterminism_allowance(tmp_path: Path) -> None:
    werf_yaml = 'project: {{ env "PROJECT_NAME" }}\nconfigVersion: 1\n'
    repo = project(tmp_path, werf_yaml)
    refused = shipyard(repo, "render", env={"PROJECT_NAME": "fromenv"})
    assert refused.returncode == 1
    assert "PROJECT_NAME" in refused.stderr and "allowEnvVariables" in refused.stderr
    assert "Traceback" not in refused.stderr
    loose = shipyard(repo, "render", "--loose-giterminism", env={"PROJECT_NAME": "fromenv"})
    assert loose.returncode == 0 and "project: fromenv" in loose.stdout
    allowance = "config:\n  goTemplateRendering:\n    allowEnvVariables: [/PROJECT_.*/]\n"
    (repo / "werf-giterminism.yaml").write_text("giterminismConfigVersion: 1\n" + allowance)
    commit_all(repo)
    allowed = shipyard(repo, "render", env={"PROJECT_NAME": "fromenv"})
    assert allowed.returncode == 0, allowed.stderr
    assert "project: fromenv" in allowed.stdout


def test_template_error_points_at_line_and_column(tmp_path: Path) -> None:
    repo = project(tmp_path, 'project: demo\nconfigVersion: 1\n---\nimage: {{ required "name it" .Name }}\n')
    done = shipyard(repo, "plan")
    assert done.returncode == 1
    assert "template: werf.yaml:4:" in done.stderr and "name it" in done.stderr
    assert "Traceback" not in done.stderr


def test_config_error_after_rendering_names_the_rendered_line(tmp_path: Path) -> None:
    werf_yaml = "{{/* a comment line */}}\nproject: demo\nconfigVersion: 1\n---\nimage: x\ndockerfil: y\n"
    repo = project(tmp_path, werf_yaml)
    done = shipyard(repo, "plan")
    assert done.returncode == 1
    assert "werf.yaml (rendered):6:" in done.stderr and "shipyard render" in done.stderr


def test_uncommitted_files_read_by_templates_are_refused(tmp_path: Path) -> None:
    repo = project(tmp_path)
    (repo / "VERSION").write_text("2.0.0\n")
    done = shipyard(repo, "render")
    assert done.returncode == 1 and "VERSION" in done.stderr and "allowUncommittedFiles" in done.stderr
    dev = shipyard(repo, "render", "--dev")
    assert dev.returncode == 0 and 'VERSION: "2.0.0"' in dev.stdout
