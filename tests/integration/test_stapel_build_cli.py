"""Stapel images end to end (werf's e2e scenarios in spirit): real git, buildah, the registry, the CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support import require_tools
from support.gitrepo import commit_all, git, init_repo, write_files
from support.project import Project, run_in_image, skopeo

WERF_YAML = """\
project: stapeltest
configVersion: 1
---
image: app
from: {base}
git:
- add: /
  to: /app
  excludePaths: [werf.yaml]
  stageDependencies:
    install: ["deps/*"]
shell:
  beforeInstall:
  - echo before > /before.txt
  install:
  - echo "installing $(cat /app/deps/list.txt)"
  - cat /app/deps/list.txt > /installed.txt
  - echo "$WERF_COMMIT_HASH" > /commit.txt
  setup:
  - ls /app/src > /setup.txt
"""

BUILDER_APP_YAML = """\
project: importtest
configVersion: 1
---
image: builder
from: {base}
git:
- add: /src
  to: /src
shell:
  install:
  - mkdir -p /app/build
  - "printf '#!/bin/sh\\necho hello from %s\\n' \\"$(cat /src/name.txt)\\" > /app/build/app"
  - chmod +x /app/build/app
---
image: app
from: {base}
import:
- image: builder
  add: /app/build/app
  to: /usr/local/bin/app
  after: install
"""


@pytest.fixture
def stapel(tmp_path: Path, registry_repo: str, busybox_image: object) -> Iterator[Project]:
    require_tools("git", "buildah", "skopeo")
    path = init_repo(tmp_path / "project", {
        "werf.yaml": WERF_YAML.format(base=busybox_image.remote),  # type: ignore[attr-defined]
        "deps/list.txt": "dep-a\n",
        "src/main.txt": "v1\n",
        "src/other.txt": "other\n",
    })
    project = Project(path=path, home=tmp_path / "home", repo=registry_repo)
    yield project
    project.remove_images()


def image_labels(reference: str) -> dict[str, str]:
    config = json.loads(skopeo("inspect", "--tls-verify=false", "--config", f"docker://{reference}"))
    return dict(config["config"]["Labels"])


def stage_events(output: str, event: str) -> list[str]:
    """The stages (`image/stage`) of every line with `event` ("Building stage", "Use previously built")."""
    return [match.group(1) for match in re.finditer(rf"^(\S+): {event}", output, flags=re.MULTILINE)]


def final_image(project: Project, *args: str) -> tuple[str, str]:
    """Build with a report; (final image name, build output)."""
    report = project.path.parent / "report.json"
    done = project.build("--save-build-report", "--build-report-path", str(report), *args)
    images = json.loads(report.read_text())["Images"]
    return str(images["app"]["DockerImageName"]), done.stdout


def test_git_and_shell_stages_build_then_a_second_build_only_reuses(stapel: Project) -> None:
    image, output = final_image(stapel)
    assert stage_events(output, "Building stage") == [
        "app/from", "app/beforeInstall", "app/gitArchive", "app/install", "app/setup"]
    assert "app/install │ installing dep-a" in output  # the user's commands speak to the user
    head = git(stapel.path, "rev-parse", "HEAD")
    assert run_in_image(stapel, image, "cat", "/before.txt", "/installed.txt", "/commit.txt",
                        "/setup.txt") == f"before\ndep-a\n{head}\nmain.txt\nother.txt\n"
    assert run_in_image(stapel, image, "cat", "/app/src/main.txt") == "v1\n"
    assert "werf.yaml" not in run_in_image(stapel, image, "ls", "/app")

    again, output = final_image(stapel)
    assert again == image
    assert stage_events(output, "Building stage") == []
    assert stage_events(output, "Use previously built image") == [
        "app/from", "app/beforeInstall", "app/gitArchive", "app/install", "app/setup"]

    write_files(stapel.path, {"src/main.txt": "v2\n"})
    commit_all(stapel.path, "v2")
    final_image(stapel)
    record = json.loads((stapel.path.parent / "report.json").read_text())["Images"]["app"]
    stages = [(stage["Name"], stage["Rebuilt"], stage["Commit"]) for stage in record["Stages"]]
    assert stages == [("from", False, head), ("beforeInstall", False, head), ("gitArchive", False, head),
                      ("install", False, head), ("setup", False, head),
                      ("gitLatestPatch", True, git(stapel.path, "rev-parse", "HEAD"))]
    assert record["Rebuilt"] is True and record["DockerImageName"] == record["Stages"][-1]["DockerImageName"]

    # werf's labels (werf-internals §3.3): the chain, the content digest, and the git commit per mapping
    by_name = {stage["Name"]: stage for stage in record["Stages"]}
    archive = image_labels(by_name["gitArchive"]["DockerImageName"])
    install = image_labels(by_name["install"]["DockerImageName"])
    patch = image_labels(by_name["gitLatestPatch"]["DockerImageName"])
    git_keys = sorted(key for key in archive if key.startswith("werf-git-"))
    assert sorted(key.rsplit("-", 1)[1] for key in git_keys) == ["commit", "merge", "type"]
    commit_key = next(key for key in git_keys if key.endswith("-commit"))
    assert archive[commit_key] == install[commit_key] == head
    assert patch[commit_key] == git(stapel.path, "rev-parse", "HEAD")
    assert archive[commit_key.replace("-commit", "-type")] == "directory"
    assert install["werf.io/parent-stage-id"] == by_name["gitArchive"]["DockerTag"]
    assert install["werf.io/base-image-id"] == by_name["gitArchive"]["DockerImageID"]
    assert install["werf"] == "stapeltest" and install["werf-project-repo-commit"] == head
    assert re.fullmatch(r"[0-9a-f]{56}", install["werf-stage-content-digest"])


def test_a_stage_dependency_rebuilds_install_and_what_follows(stapel: Project) -> None:
    final_image(stapel)
    write_files(stapel.path, {"deps/list.txt": "dep-a\ndep-b\n"})
    commit_all(stapel.path, "new dependency")
    image, output = final_image(stapel)
    assert stage_events(output, "Building stage") == ["app/install", "app/setup"]
    assert "app/gitArchive" in stage_events(output, "Use previously built image")
    # install ran on the files of the new commit: gitArchive's older files were patched first
    assert run_in_image(stapel, image, "cat", "/installed.txt", "/app/deps/list.txt") == (
        "dep-a\ndep-b\ndep-a\ndep-b\n")


def test_another_file_only_adds_a_latest_patch_and_an_empty_commit_rebuilds_nothing(stapel: Project) -> None:
    first, _ = final_image(stapel)
    write_files(stapel.path, {"src/main.txt": "v2\n", "src/new.txt": "new\n"})
    (stapel.path / "src" / "other.txt").unlink()
    commit_all(stapel.path, "edit, add, delete")
    patched, output = final_image(stapel)
    assert stage_events(output, "Building stage") == ["app/gitLatestPatch"]
    assert patched != first
    assert run_in_image(stapel, patched, "ls", "/app/src") == "main.txt\nnew.txt\n"
    assert run_in_image(stapel, patched, "cat", "/app/src/main.txt") == "v2\n"

    commit_all(stapel.path, "empty")
    again, output = final_image(stapel)
    assert stage_events(output, "Building stage") == []
    assert again == patched


def test_a_commit_of_another_branch_is_not_reused(stapel: Project) -> None:
    """§1.5: gitArchive of an unrelated branch has the same digest but is not an ancestor of HEAD."""
    git(stapel.path, "checkout", "-q", "-b", "other")
    write_files(stapel.path, {"src/main.txt": "from another branch\n"})
    commit_all(stapel.path, "other branch")
    final_image(stapel)
    git(stapel.path, "checkout", "-q", "main")
    write_files(stapel.path, {"src/main.txt": "main branch\n"})
    commit_all(stapel.path, "main branch")
    image, output = final_image(stapel)
    assert "app/gitArchive" in stage_events(output, "Building stage")
    assert run_in_image(stapel, image, "cat", "/app/src/main.txt") == "main branch\n"


@pytest.mark.parametrize("keyword", ["image", "artifact"])  # `artifact:` is werf's deprecated spelling
def test_imported_binary_from_builder_runs(tmp_path: Path, registry_repo: str, busybox_image: object,
                                           keyword: str) -> None:
    require_tools("git", "buildah", "skopeo")
    werf_yaml = BUILDER_APP_YAML.format(base=busybox_image.remote)  # type: ignore[attr-defined]
    if keyword == "artifact":
        werf_yaml = werf_yaml.replace("image: builder", "artifact: builder")
    path = init_repo(tmp_path / "project", {
        "werf.yaml": werf_yaml,
        "src/name.txt": "shipyard\n",
        "README.md": "not imported\n",
    })
    project = Project(path=path, home=tmp_path / "home", repo=registry_repo)
    image, output = final_image(project)
    assert "app/dependenciesAfterInstall" in stage_events(output, "Building stage")
    assert run_in_image(project, image, "/usr/local/bin/app") == "hello from shipyard\n"
    operations = json.loads((project.path.parent / "report.json").read_text())["Operations"]
    assert {"git archive", "import checksum", "image build", "image push"} <= operations.keys()
    assert operations["import checksum"]["Count"] == 1

    # Only README changes: the builder's install stage is reused, so app's import checksum is the same.
    write_files(path, {"README.md": "still not imported\n"})
    commit_all(path, "docs")
    again, output = final_image(project)
    assert again == image
    assert stage_events(output, "Building stage") == []


def test_plan_shows_the_stored_stages_and_what_a_change_adds(stapel: Project) -> None:
    image, _ = final_image(stapel)
    done = stapel.shipyard("plan", "--repo", stapel.repo)
    assert done.returncode == 0, done.stderr
    assert f"final tag: {image}" in done.stdout
    assert "gitLatestPatch" not in done.stdout
    write_files(stapel.path, {"src/main.txt": "changed\n"})
    commit_all(stapel.path, "change")
    done = stapel.shipyard("plan", "--repo", stapel.repo)
    assert "final tag:" not in done.stdout
    line = re.compile(r"^  (\w+) +[0-9a-f]{56}  (in storage|to build)$", flags=re.MULTILINE)
    states = dict(line.findall(done.stdout))
    assert states == {"from": "in storage", "beforeInstall": "in storage", "gitArchive": "in storage",
                      "install": "in storage", "setup": "in storage", "gitLatestPatch": "to build"}
    document = json.loads(stapel.shipyard("plan", "--repo", stapel.repo, "--json").stdout)
    assert [stage["stored"] for stage in document["images"][0]["stages"]] == [True] * 5 + [False]


ALLOW_FROM_LATEST = "giterminismConfigVersion: 1\nconfig:\n  stapel:\n    allowFromLatest: true\n"
FROM_LATEST_YAML = """\
project: latesttest
configVersion: 1
---
image: app
from: {base}
fromLatest: true
shell:
  install:
  - cat /marker.txt > /seen.txt
"""


def push_base(project: Project, busybox: str, reference: str, marker: str) -> None:
    """A base image with /marker.txt pushed to `reference` (a tag that moves between calls)."""
    container = project.buildah("from", "--quiet", "--tls-verify=false", busybox).strip()
    try:
        project.buildah("run", "--isolation", "chroot", container, "--", "sh", "-c",
                        f"echo {marker} > /marker.txt")
        project.buildah("commit", "--quiet", container, reference)
    finally:
        project.buildah("rm", container)
    project.buildah("push", "--tls-verify=false", reference)


def test_from_latest_rebuilds_when_the_base_tag_moves(tmp_path: Path, registry_repo: str,
                                                      busybox_image: object) -> None:
    require_tools("git", "buildah", "skopeo")
    base = f"{registry_repo}-base:current"
    path = init_repo(tmp_path / "project", {
        "werf.yaml": FROM_LATEST_YAML.format(base=base),
        "werf-giterminism.yaml": ALLOW_FROM_LATEST,
    })
    project = Project(path=path, home=tmp_path / "home", repo=registry_repo)
    maker = Project(path=path, home=tmp_path / "base-maker", repo=registry_repo)  # another host's store
    busybox = busybox_image.remote  # type: ignore[attr-defined]
    push_base(maker, busybox, base, "v1")
    first, _ = final_image(project)
    assert run_in_image(project, first, "cat", "/seen.txt") == "v1\n"
    same, output = final_image(project)
    assert same == first and stage_events(output, "Building stage") == []

    push_base(maker, busybox, base, "v2")  # our store still has v1 under that tag: it must be pulled again
    second, output = final_image(project)
    assert stage_events(output, "Building stage") == ["app/from", "app/install"]
    assert run_in_image(project, second, "cat", "/seen.txt") == "v2\n"


def registry_tags(repo: str) -> list[str]:
    done = subprocess.run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{repo}"],
                          capture_output=True, text=True, timeout=60)
    return list(json.loads(done.stdout)["Tags"]) if done.returncode == 0 else []


def stage_tags(repo: str) -> list[str]:
    return [tag for tag in registry_tags(repo) if re.fullmatch(r"[0-9a-f]{56}-\d+", tag)]


def test_two_concurrent_builders_publish_each_stage_once(stapel: Project) -> None:
    processes = [subprocess.Popen([sys.executable, "-m", "shipyard", "build", "--repo", stapel.repo,
                                   "--dir", str(stapel.path)], env=stapel.env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = []
    for process in processes:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output
        outputs.append(output)
    digests = [tag.split("-")[0] for tag in stage_tags(stapel.repo)]
    assert len(digests) == 5 and len(set(digests)) == 5, digests
    finals = {re.search(r"app: (\S+)", output).group(1) for output in outputs}  # type: ignore[union-attr]
    assert len(finals) == 1  # both builders end on the same stored stage


def build_until_setup_runs(project: Project, *, seconds: int,
                           start_new_session: bool = False) -> subprocess.Popen[str]:
    """Start a build whose setup sleeps `seconds`; return once setup is building."""
    config = project.path / "werf.yaml"
    config.write_text(config.read_text().replace("  setup:\n", f"  setup:\n  - sleep {seconds}\n"))
    commit_all(project.path, "slow setup")
    process = subprocess.Popen([sys.executable, "-m", "shipyard", "build", "--repo", project.repo,
                                "--dir", str(project.path)], env=project.env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=start_new_session)
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if "app/setup: Building stage" in line or time.monotonic() > deadline:
            break
    return process


def test_a_killed_build_keeps_the_finished_stages_and_publishes_no_half_stage(stapel: Project) -> None:
    werf_yaml = (stapel.path / "werf.yaml").read_text()
    process = build_until_setup_runs(stapel, seconds=10, start_new_session=True)
    time.sleep(2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert len(stage_tags(stapel.repo)) == 4  # from, beforeInstall, gitArchive, install: setup is not there
    assert "shipyard-stapel-" in stapel.buildah("containers", "--format", "{{.ContainerName}}")

    (stapel.path / "werf.yaml").write_text(werf_yaml)
    commit_all(stapel.path, "fast setup")
    image, output = final_image(stapel)
    assert stage_events(output, "Building stage") == ["app/setup"]
    # the next build removed the killed build's working container (its owner is gone)
    assert "shipyard-stapel-" not in stapel.buildah("containers", "--format", "{{.ContainerName}}")
    assert run_in_image(stapel, image, "cat", "/setup.txt") == "main.txt\nother.txt\n"


def test_dev_mode_builds_the_work_tree(stapel: Project) -> None:
    final_image(stapel)
    write_files(stapel.path, {"src/main.txt": "uncommitted\n"})
    image, output = final_image(stapel, "--dev")
    assert stage_events(output, "Building stage") == ["app/gitLatestPatch"]
    assert run_in_image(stapel, image, "cat", "/app/src/main.txt") == "uncommitted\n"
    again, output = final_image(stapel, "--dev")  # the same work tree: the same synthetic commit
    assert again == image and stage_events(output, "Building stage") == []


def test_a_failing_command_names_the_stage_shows_its_output_and_publishes_nothing(stapel: Project) -> None:
    werf_yaml = (stapel.path / "werf.yaml").read_text()
    (stapel.path / "werf.yaml").write_text(werf_yaml.replace(
        "  setup:\n", "  setup:\n  - echo checking\n  - ls /no/such/dir\n  - echo never-printed\n"))
    commit_all(stapel.path, "broken setup")
    done = stapel.shipyard("build", "--repo", stapel.repo)
    assert done.returncode == 1
    assert "image 'app', stage setup: the setup commands failed" in done.stderr
    assert "checking" in done.stdout and "never-printed" not in done.stdout + done.stderr
    assert "/no/such/dir" in done.stderr  # the last output lines come with the error
    assert "Traceback" not in done.stderr
    assert len(stage_tags(stapel.repo)) == 4  # from, beforeInstall, gitArchive, install


def test_sigterm_stops_the_build_and_removes_its_container(stapel: Project) -> None:
    """A cancelled CI job sends SIGTERM: the running command is stopped, its container removed."""
    process = build_until_setup_runs(stapel, seconds=20)
    assert process.stdout is not None
    time.sleep(2)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    output = process.stdout.read()
    assert process.wait(timeout=60) == 143, output
    assert time.monotonic() - started < 15  # did not wait for the 20 s command
    assert "Terminated." in output and "Traceback" not in output
    assert "shipyard-stapel-" not in stapel.buildah("containers", "--format", "{{.ContainerName}}")
    assert len(stage_tags(stapel.repo)) == 4


def test_another_platform_is_refused_clearly(stapel: Project) -> None:
    done = stapel.shipyard("build", "--repo", stapel.repo, "--platform", "linux/arm64")
    assert done.returncode != 0
    assert "Stapel images are built for the host platform" in done.stderr and "Traceback" not in done.stderr
    assert stage_tags(stapel.repo) == []


def test_require_built_images_names_the_first_missing_stage(stapel: Project) -> None:
    final_image(stapel)
    final_image(stapel, "--require-built-images")  # everything stored: fine
    write_files(stapel.path, {"src/main.txt": "v2\n"})
    commit_all(stapel.path, "v2")
    done = stapel.shipyard("build", "--repo", stapel.repo, "--require-built-images")
    assert done.returncode != 0
    assert "stage gitLatestPatch" in done.stderr and "--require-built-images" in done.stderr
    assert "Building stage" not in done.stdout


def test_a_stage_whose_layers_vanished_is_rejected_and_rebuilt(stapel: Project, registry: Any) -> None:
    """werf §4.2.7: a selected stage that cannot be fetched gets a -rejected record and the image is built
    again without it (here the setup stage's own layer was deleted from the registry's storage)."""
    first, _ = final_image(stapel)
    setup_tag = first.rsplit(":", 1)[1]
    manifest = json.loads(skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{first}"))
    layer = manifest["layers"][-1]["digest"].split(":", 1)[1]
    blob = registry.data_dir / "docker/registry/v2/blobs/sha256" / layer[:2] / layer / "data"
    blob.unlink()
    write_files(stapel.path, {"src/main.txt": "v2\n"})
    commit_all(stapel.path, "v2")
    stapel.clear_local_store()  # another host: the setup stage must be pulled to build the patch on it

    image, output = final_image(stapel)
    assert "is rejected, building the image again" in output
    # first attempt: gitLatestPatch on setup, whose pull fails; second: setup anew, at the new commit, so
    # no patch is left to apply
    assert stage_events(output, "Building stage") == ["app/gitLatestPatch", "app/setup"]
    assert f"{setup_tag}-rejected" in registry_tags(stapel.repo)
    files = run_in_image(stapel, image, "cat", "/setup.txt", "/app/src/main.txt")
    assert files == "main.txt\nother.txt\nv2\n"
