"""Parallel builds and image dependencies end to end (real buildah, registry and CLI).

Overlap is proven by the order of events, not by timings: with parallel builds every "Building stage" line of
independent images comes before the first "Built" line; sequentially they alternate.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support import require_tools
from support.gitrepo import init_repo

SLEEPY = "ARG BASE_IMAGE\nFROM $BASE_IMAGE\nRUN sleep 2 && echo {name} > /{name}.txt\n"


def werf_yaml(base: str, names: list[str], extra: str = "") -> str:
    images = "".join(f"---\nimage: {name}\ndockerfile: {name}.Dockerfile\nargs:\n  BASE_IMAGE: {base}\n"
                     for name in names)
    return f"project: partest\nconfigVersion: 1\n{images}{extra}"


class Project:
    def __init__(self, path: Path, repo: str) -> None:
        self.path = path
        self.repo = repo
        self.home = path.parent / "home"

    def shipyard(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "SHIPYARD_HOME": str(self.home)}
        return subprocess.run([sys.executable, "-m", "shipyard", "build", "--repo", self.repo, *args,
                               "--dir", str(self.path)], capture_output=True, text=True, env=env, timeout=300)

    def buildah(self, *args: str) -> str:
        store = ["--root", str(self.home / "buildah" / "root"),
                 "--runroot", str(self.home / "buildah" / "runroot")]
        return subprocess.run(["buildah", *store, *args], capture_output=True, text=True, check=True,
                              timeout=120).stdout


def sleepy_files(base: str, names: list[str]) -> dict[str, str]:
    return {"werf.yaml": werf_yaml(base, names), **{f"{n}.Dockerfile": SLEEPY.format(name=n) for n in names}}


def new_project(tmp_path: Path, registry_repo: str, files: dict[str, str]) -> Project:
    require_tools("git", "buildah", "skopeo")
    return Project(init_repo(tmp_path / "project", files), registry_repo)


def event_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "/dockerfile: " in line]


def first_index(lines: list[str], image: str, event: str) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith(f"{image}/") and event in line)


@pytest.fixture
def base(busybox_image: Any) -> str:
    return str(busybox_image.remote)


def test_independent_images_build_concurrently(tmp_path: Path, registry_repo: str, base: str) -> None:
    names = ["a", "b", "c"]
    project = new_project(tmp_path, registry_repo, sleepy_files(base, names))
    done = project.shipyard()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Concurrent builds plan (no more than 5 images at the same time)" in done.stdout
    lines = event_lines(done.stdout)
    first_built = min(first_index(lines, n, "Built and published") for n in names)
    assert all(first_index(lines, n, "Building stage") < first_built for n in names), lines


def test_no_parallel_builds_one_image_at_a_time(tmp_path: Path, registry_repo: str, base: str) -> None:
    names = ["a", "b"]
    project = new_project(tmp_path, registry_repo, sleepy_files(base, names))
    done = project.shipyard("--parallel=false")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = event_lines(done.stdout)
    assert first_index(lines, "a", "Built and published") < first_index(lines, "b", "Building stage"), lines


DEPENDENCIES = """\
---
image: app
dockerfile: app.Dockerfile
dependencies:
- image: base
  imports:
  - type: ImageName
    targetBuildArg: BASE_IMAGE
  - type: ImageDigest
    targetBuildArg: BASE_DIGEST
"""
# app is FROM its dependency (ImageName) and records the dependency's manifest digest (ImageDigest)
APP_DOCKERFILE = ("ARG BASE_IMAGE\nFROM $BASE_IMAGE\n"
                  "ARG BASE_DIGEST\nRUN echo $BASE_DIGEST > /dep-digest.txt\n")


def test_dependant_gets_the_real_name_and_digest_of_its_dependency(tmp_path: Path, registry_repo: str,
                                                                   base: str) -> None:
    files = {"werf.yaml": werf_yaml(base, ["base"], DEPENDENCIES), "app.Dockerfile": APP_DOCKERFILE,
             "base.Dockerfile": SLEEPY.format(name="base")}
    project = new_project(tmp_path, registry_repo, files)
    report_path = tmp_path / "report.json"
    done = project.shipyard("app", "--save-build-report", "--build-report-path", str(report_path))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = event_lines(done.stdout)
    assert first_index(lines, "base", "Built and published") < first_index(lines, "app", "Building stage")
    images = json.loads(report_path.read_text())["Images"]
    assert set(images) == {"base", "app"}, "selecting app builds its dependency too"
    app_name = images["app"]["DockerImageName"]
    container = project.buildah("from", "--tls-verify=false", app_name).strip()
    try:
        content = project.buildah("run", container, "--", "cat", "/base.txt", "/dep-digest.txt")
    finally:
        project.buildah("rm", container)
    assert content == f"base\n{images['base']['DockerImageDigest']}\n"

    # Nothing changed: the dependant's digest (built from the dependency's name) is stable, so all is reused.
    again = project.shipyard("app")
    assert again.returncode == 0 and "Building stage" not in again.stdout, again.stdout


def test_a_failure_lets_running_images_finish_and_starts_nothing_new(tmp_path: Path, registry_repo: str,
                                                                    base: str) -> None:
    app_on_broken = DEPENDENCIES.replace("- image: base", "- image: broken")
    files = {
        "werf.yaml": werf_yaml(base, ["broken", "slow"]) + app_on_broken,
        "broken.Dockerfile": "ARG BASE_IMAGE\nFROM $BASE_IMAGE\nRUN echo breaking && false\n",
        "slow.Dockerfile": SLEEPY.format(name="slow"),
        "app.Dockerfile": APP_DOCKERFILE,
    }
    project = new_project(tmp_path, registry_repo, files)
    done = project.shipyard()
    assert done.returncode == 1
    assert "image 'broken'" in done.stderr and "breaking" in done.stderr and "Traceback" not in done.stderr
    log_path = Path(done.stderr.split("full build log: ")[1].split()[0])
    assert "breaking" in log_path.read_text(), "the whole build output is kept for later reading"
    lines = event_lines(done.stdout)
    assert any(line.startswith("slow/") and "Built and published" in line for line in lines), lines
    assert any(line.startswith("broken/dockerfile: FAILED: image 'broken'") for line in lines), lines
    assert not any(line.startswith("app/") for line in lines), "a dependant of a failed image must not start"


def test_trace_file_has_a_track_per_worker_with_builds_and_lookups(tmp_path: Path, registry_repo: str,
                                                                   base: str) -> None:
    project = new_project(tmp_path, registry_repo, sleepy_files(base, ["a", "b"]))
    trace_path = tmp_path / "trace.json"
    done = project.shipyard("--trace-file", str(trace_path))
    assert done.returncode == 0, done.stdout + done.stderr
    events = json.loads(trace_path.read_text())["traceEvents"]
    spans = [event for event in events if event["ph"] == "X"]
    assert {event["name"] for event in spans} >= {"build a", "build b", "lookup a", "push a", "lock a"}
    builds = [event for event in spans if event["cat"] == "build"]
    assert len({event["tid"] for event in builds}) == 2, "the two builds ran on two worker tracks"
    named = {event["tid"] for event in events if event["ph"] == "M" and event["name"] == "thread_name"}
    assert {event["tid"] for event in spans} <= named


def test_a_terminal_gets_a_live_line_per_running_image(tmp_path: Path, registry_repo: str, base: str) -> None:
    require_tools("script")
    project = new_project(tmp_path, registry_repo, sleepy_files(base, ["a", "b"]))
    command = shlex.join([sys.executable, "-m", "shipyard", "build", "--repo", project.repo,
                          "--dir", str(project.path)])
    env = {**os.environ, "SHIPYARD_HOME": str(project.home), "TERM": "xterm", "COLUMNS": "160"}
    # `script` gives the command a pseudo-terminal, as a developer's shell would
    done = subprocess.run(["script", "-qefc", command, "/dev/null"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stdout
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", done.stdout)
    assert re.search(r"a/dockerfile\s+building\s+\d+\.\ds", screen), screen
    assert "a/dockerfile: Built and published" in screen and "b/dockerfile: Built and published" in screen


SEED_WERF_YAML = """\
project: seed
configVersion: 1
---
image: backend
dockerfile: Dockerfile
context: backend
args: {{BASE_IMAGE: {base}}}
---
image: frontend
dockerfile: Dockerfile
context: frontend
target: application
args: {{BASE_IMAGE: {base}}}
---
image: frontend-assets
dockerfile: Dockerfile
context: frontend
target: assets
args: {{BASE_IMAGE: {base}}}
"""
FRONTEND_DOCKERFILE = """\
ARG BASE_IMAGE
FROM $BASE_IMAGE AS application
RUN sleep 2 && mkdir -p /app/public && date +%s%N > /app/public/compiled.txt

FROM $BASE_IMAGE AS assets
COPY --from=application /app/public /srv/assets
"""


def test_seed_example_builds_the_shared_dockerfile_stage_once(tmp_path: Path, registry_repo: str,
                                                              base: str) -> None:
    files = {"werf.yaml": SEED_WERF_YAML.format(base=base), "frontend/Dockerfile": FRONTEND_DOCKERFILE,
             "backend/Dockerfile": SLEEPY.format(name="backend")}
    project = new_project(tmp_path, registry_repo, files)
    report_path = tmp_path / "report.json"
    done = project.shipyard("--save-build-report", "--build-report-path", str(report_path))
    assert done.returncode == 0, done.stdout + done.stderr
    plan = done.stdout.split("Set #1:")
    assert "image backend" in plan[0] and "image frontend\n" in plan[0] and "frontend-assets" in plan[1]
    images = json.loads(report_path.read_text())["Images"]
    inside: dict[str, str] = {}
    paths = {"frontend": "/app/public/compiled.txt", "frontend-assets": "/srv/assets/compiled.txt"}
    for name, path in paths.items():
        container = project.buildah("from", "--tls-verify=false", images[name]["DockerImageName"]).strip()
        try:
            inside[name] = project.buildah("run", container, "--", "cat", path)
        finally:
            project.buildah("rm", container)
    assert inside["frontend"] == inside["frontend-assets"], "the application stage ran once, for both images"
