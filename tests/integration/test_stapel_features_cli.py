"""Stapel directives end to end in one project: fromImage, `from: scratch`, remote git over file://, owner
and group, mounts, dependencies with targetEnv, imports from a named stage and from a Dockerfile image,
docker: and imageSpec, a Dockerfile image built FROM a Stapel one; plus gitCache for big patches, remote
branches and the shallow-clone error. Real git, buildah, registry and CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support import require_tools
from support.gitrepo import commit_all, git, init_repo, write_files
from support.project import Project, run_in_image, skopeo

WERF_YAML = """\
project: features
configVersion: 1
---
image: base
from: {base}
shell:
  beforeInstall:
  - echo base > /base.txt
docker:
  ENV:
    GREETING: hello
  WORKDIR: /srv
  CMD: cat /base.txt
---
image: tool
from: {base}
shell:
  install:
  - mkdir -p /opt/tool && echo tool-v1 > /opt/tool/version
  setup:
  - echo after-setup > /opt/tool/late
---
image: app
fromImage: base
git:
- add: /src
  to: /srv/app
  owner: 1000
  group: 1000
  includePaths: ["*.txt"]
- url: {remote}
  tag: v1
  add: /lib
  to: /srv/lib
mount:
- from: tmp_dir
  to: /var/tmp/scratch
- from: build_dir
  to: /var/cache/build
dependencies:
- image: tool
  after: install
  imports:
  - type: ImageName
    targetEnv: TOOL_IMAGE
import:
- image: tool
  stage: install
  add: /opt/tool
  to: /opt/tool
  owner: 1000
  group: 1000
  after: install
shell:
  install:
  - echo "tool=$TOOL_IMAGE" > /install-env.txt
  - echo cached >> /var/cache/build/runs.txt
  - echo scratch > /var/tmp/scratch/file
  setup:
  - echo "tool=$TOOL_IMAGE" > /setup-env.txt
imageSpec:
  author: shipyard tests
  config:
    labels:
      org.example.image: "%image%"
    removeLabels: ["/werf-mount-.*/"]
    env:
      MODE: production
---
image: empty
from: scratch
import:
- image: tool
  add: /opt/tool/version
  to: /version
  before: install
- image: dockerfile-src
  add: /made-by-dockerfile.txt
  to: /from-dockerfile.txt
  before: install
---
image: dockerfile-src
dockerfile: src.Dockerfile
args:
  BASE: {base}
---
image: on-tool
dockerfile: on-tool.Dockerfile
dependencies:
- image: tool
  imports:
  - type: ImageName
    targetBuildArg: TOOL_IMAGE
"""
SRC_DOCKERFILE = "ARG BASE\nFROM $BASE\nRUN echo dockerfile > /made-by-dockerfile.txt\n"
ON_TOOL_DOCKERFILE = "ARG TOOL_IMAGE\nFROM $TOOL_IMAGE\nRUN cp /opt/tool/late /seen-late.txt\n"
GITERMINISM = """\
giterminismConfigVersion: 1
config:
  stapel:
    mount:
      allowBuildDir: true
"""


@pytest.fixture
def features(tmp_path: Path, registry_repo: str, busybox_image: object) -> Iterator[Project]:
    require_tools("git", "buildah", "skopeo")
    remote = init_repo(tmp_path / "remote", {"lib/helper.sh": "echo helper\n", "lib/README": "lib v1\n"})
    git(remote, "tag", "v1")
    write_files(remote, {"lib/README": "lib v2, after the tag\n"})
    commit_all(remote, "after the tag")
    path = init_repo(tmp_path / "project", {
        "werf.yaml": WERF_YAML.format(base=busybox_image.remote,  # type: ignore[attr-defined]
                                      remote=f"file://{remote}"),
        "werf-giterminism.yaml": GITERMINISM,
        "src.Dockerfile": SRC_DOCKERFILE,
        "on-tool.Dockerfile": ON_TOOL_DOCKERFILE,
        "src/main.txt": "main\n",
        "src/skip.md": "not included\n",
    })
    project = Project(path=path, home=tmp_path / "home", repo=registry_repo)
    yield project
    project.remove_images()


def build_report(project: Project, *args: str) -> tuple[dict[str, Any], str]:
    report = project.path.parent / "report.json"
    done = project.build("--save-build-report", "--build-report-path", str(report), *args)
    return json.loads(report.read_text())["Images"], done.stdout


def image_config(reference: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(skopeo("inspect", "--tls-verify=false", "--config",
                                                 f"docker://{reference}"))
    return document


def built(output: str) -> list[str]:
    return re.findall(r"^(\S+): Building stage", output, flags=re.MULTILINE)


def test_stapel_directives_build_what_werf_builds(features: Project) -> None:
    images, output = build_report(features)
    names = ("app", "tool", "empty", "on-tool")
    app, tool, empty, on_tool = (images[name]["DockerImageName"] for name in names)
    assert [stage for stage in built(output) if stage.startswith("app/")] == [
        "app/from", "app/gitArchive", "app/install", "app/dependenciesAfterInstall", "app/setup",
        "app/imageSpec"]

    # git: owner/group, includePaths, the remote mapping at its tag
    listing = run_in_image(features, app, "sh", "-c",
                           "stat -c '%u:%g %n' /srv/app/main.txt; ls /srv/app; cat /srv/lib/README")
    assert listing == "1000:1000 /srv/app/main.txt\nmain.txt\nlib v1\n"
    # fromImage: base's files and docker: config; imageSpec on top
    config = image_config(app)
    assert run_in_image(features, app, "cat", "/base.txt") == "base\n"
    assert config["config"]["WorkingDir"] == "/srv"
    assert config["config"]["Cmd"] == ["/bin/sh", "-c", "cat /base.txt"]
    env = dict(item.split("=", 1) for item in config["config"]["Env"])
    assert env["GREETING"] == "hello" and env["MODE"] == "production"
    assert config["author"] == "shipyard tests"
    labels = config["config"]["Labels"]
    assert labels["org.example.image"] == "app"
    assert not [key for key in labels if key.startswith("werf-mount-")]
    assert labels["werf"] == "features"
    # dependencies: the env is there from importsAfterInstall on, not in install (built before it)
    assert env["TOOL_IMAGE"] == tool
    assert run_in_image(features, app, "cat", "/install-env.txt", "/setup-env.txt") == f"tool=\ntool={tool}\n"
    # import from the tool's install stage (its setup file is not there), with owner and group
    assert run_in_image(features, app, "ls", "/opt/tool") == "version\n"
    assert run_in_image(features, app, "stat", "-c", "%u:%g", "/opt/tool/version") == "1000:1000\n"
    # mounts: build_dir keeps its content on the host, tmp_dir and build_dir leave nothing in the image
    runs = list((features.home / "shared_context" / "mounts" / "projects" / "features").glob("*/runs.txt"))
    assert len(runs) == 1 and runs[0].read_text() == "cached\n"
    assert run_in_image(features, app, "sh", "-c", "ls -A /var/cache/build /var/tmp/scratch") == (
        "/var/cache/build:\n\n/var/tmp/scratch:\n")
    # from: scratch with an import: only the imported file
    container = features.buildah("from", "--quiet", "--tls-verify=false", empty).strip()
    try:
        root = Path(features.buildah("mount", container).strip())
        assert sorted(path.name for path in root.iterdir()) == ["from-dockerfile.txt", "version"]
        assert (root / "version").read_text() == "tool-v1\n"
        assert (root / "from-dockerfile.txt").read_text() == "dockerfile\n"  # from a Dockerfile image
    finally:
        features.buildah("rm", container)

    # plan knows every final tag before a build: fromImage, imports and dependencies from stored stages
    done = features.shipyard("plan", "--repo", features.repo)
    assert done.returncode == 0, done.stderr
    for name in ("base", "tool", "app", "empty", "dockerfile-src", "on-tool"):
        assert f"final tag: {images[name]['DockerImageName']}" in done.stdout

    # a Dockerfile image built FROM a Stapel image through a dependency's ImageName build arg
    assert run_in_image(features, on_tool, "cat", "/seen-late.txt") == "after-setup\n"

    again, output = build_report(features)
    assert built(output) == []
    assert {name: record["DockerImageName"] for name, record in again.items()} == {
        name: record["DockerImageName"] for name, record in images.items()}


def test_a_big_patch_goes_to_git_cache(features: Project) -> None:
    build_report(features)
    write_files(features.path, {"src/big.txt": "x" * (1536 * 1024) + "\n"})
    commit_all(features.path, "a big file")
    images, output = build_report(features, "app")
    assert built(output) == ["app/gitCache", "app/imageSpec"]
    app = images["app"]["DockerImageName"]
    assert run_in_image(features, app, "wc", "-c", "/srv/app/big.txt").split()[0] == str(1536 * 1024 + 1)


def test_a_shallow_clone_that_needs_history_fails_with_the_fix(features: Project, tmp_path: Path) -> None:
    build_report(features, "app")
    write_files(features.path, {"src/main.txt": "changed\n"})
    commit_all(features.path, "change")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{features.path}", str(shallow))
    clone = Project(path=shallow, home=features.home, repo=features.repo)
    done = clone.shipyard("build", "--repo", features.repo, "app")
    assert done.returncode != 0
    assert "shallow" in done.stderr and "git fetch --unshallow" in done.stderr
    assert "Traceback" not in done.stderr


REMOTE_BRANCH_YAML = """\
project: remotebranch
configVersion: 1
---
image: app
from: {base}
git:
- url: {remote}
  branch: main
  add: /
  to: /vendor
shell:
  install:
  - cat /vendor/version.txt > /installed-version.txt
"""


def test_a_new_commit_on_a_remote_branch_is_patched_in(tmp_path: Path, registry_repo: str,
                                                       busybox_image: object) -> None:
    require_tools("git", "buildah", "skopeo")
    remote = init_repo(tmp_path / "remote", {"version.txt": "1\n", "old.txt": "old\n"})
    path = init_repo(tmp_path / "project", {
        "werf.yaml": REMOTE_BRANCH_YAML.format(base=busybox_image.remote,  # type: ignore[attr-defined]
                                               remote=f"file://{remote}"),
        "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  stapel:\n    git:\n"
                                 "      allowBranch: true\n",
    })
    project = Project(path=path, home=tmp_path / "home", repo=registry_repo)
    try:
        images, _ = build_report(project)
        first = images["app"]["DockerImageName"]
        assert run_in_image(project, first, "ls", "/vendor") == "old.txt\nversion.txt\n"

        write_files(remote, {"version.txt": "2\n"})
        (remote / "old.txt").unlink()
        commit_all(remote, "v2")
        images, output = build_report(project)
        assert built(output) == ["app/gitLatestPatch"]
        app = images["app"]["DockerImageName"]
        assert run_in_image(project, app, "cat", "/vendor/version.txt", "/installed-version.txt") == "2\n1\n"
        assert run_in_image(project, app, "ls", "/vendor") == "version.txt\n"
    finally:
        project.remove_images()


def test_skip_image_spec_stage_ends_the_image_at_setup(features: Project) -> None:
    images, _ = build_report(features, "app")
    skipped, output = build_report(features, "app", "--skip-image-spec-stage")
    assert built(output) == []  # every other stage is stored already
    record = skipped["app"]
    assert [stage["Name"] for stage in record["Stages"]][-1] == "setup"
    assert record["DockerImageName"] != images["app"]["DockerImageName"]
    assert "org.example.image" not in image_config(record["DockerImageName"])["config"]["Labels"]


FILE_MAPPING_YAML = """\
project: filemapping
configVersion: 1
---
image: app
from: {base}
git:
- add: /config/app.yaml
  to: /etc/app/settings.yaml
  owner: 1000
shell:
  install:
  - cp /etc/app/settings.yaml /installed.yaml
"""


def test_a_single_file_mapping_is_placed_renamed_and_patched(tmp_path: Path, registry_repo: str,
                                                                     busybox_image: object) -> None:
    require_tools("git", "buildah", "skopeo")
    path = init_repo(tmp_path / "project", {
        "werf.yaml": FILE_MAPPING_YAML.format(base=busybox_image.remote),  # type: ignore[attr-defined]
        "config/app.yaml": "version: 1\n",
        "config/other.yaml": "not mapped\n",
    })
    project = Project(path=path, home=tmp_path / "home", repo=registry_repo)
    try:
        images, _ = build_report(project)
        app = images["app"]["DockerImageName"]
        assert run_in_image(project, app, "ls", "/etc/app") == "settings.yaml\n"
        assert run_in_image(project, app, "stat", "-c", "%u %n", "/etc/app/settings.yaml") == (
            "1000 /etc/app/settings.yaml\n")

        write_files(path, {"config/app.yaml": "version: 2\n"})
        commit_all(path, "v2")
        images, output = build_report(project)
        assert built(output) == ["app/gitLatestPatch"]
        app = images["app"]["DockerImageName"]
        assert run_in_image(project, app, "cat", "/etc/app/settings.yaml", "/installed.yaml") == (
            "version: 2\nversion: 1\n")
    finally:
        project.remove_images()
