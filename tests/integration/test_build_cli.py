"""`shipyard build` end to end: real git, buildah, the distribution registry and the CLI process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import require_tools
from support.gitrepo import commit_all, git, init_repo
from support.lock_services import running_lock_server, running_redis
from support.project import Project, skopeo

WERF_YAML = """\
project: buildtest
configVersion: 1
---
image: app
dockerfile: Dockerfile
args:
  BASE_IMAGE: {base}
---
image: tool
dockerfile: tool.Dockerfile
args:
  BASE_IMAGE: {base}
"""
DOCKERFILE = """\
ARG BASE_IMAGE
FROM $BASE_IMAGE
COPY src /app/src
RUN echo built > /app/marker
LABEL org.example.role=app
CMD ["/bin/sh", "-c", "cat /app/src/main.txt"]
"""
TOOL_DOCKERFILE = "ARG BASE_IMAGE\nFROM $BASE_IMAGE\nRUN echo tool > /tool.txt\n"


@pytest.fixture
def project(tmp_path: Path, registry_repo: str, busybox_image: object) -> Iterator[Project]:
    require_tools("git", "buildah", "skopeo")
    remote_base = busybox_image.remote
    path = init_repo(tmp_path / "project", {
        "werf.yaml": WERF_YAML.format(base=remote_base),
        "Dockerfile": DOCKERFILE,
        "tool.Dockerfile": TOOL_DOCKERFILE,
        "src/main.txt": "v1\n",
        "README.md": "never copied\n",
    })
    project = Project(path=path, home=tmp_path / "home", repo=registry_repo)
    yield project
    project.remove_images()


def manifest_digest(reference: str) -> str:
    return str(json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{reference}"))["Digest"])


def registry_tags(repo: str) -> list[str]:
    return list(json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{repo}"))["Tags"])


def report(project: Project, *args: str) -> dict[str, object]:
    path = project.path.parent / "report.json"
    project.build("--save-build-report", "--build-report-path", str(path), *args)
    document: dict[str, object] = json.loads(path.read_text())
    return document


def image_record(document: dict[str, object], name: str) -> dict[str, object]:
    images = document["Images"]
    assert isinstance(images, dict)
    record: dict[str, object] = images[name]
    return record


def stage_of(document: dict[str, object], name: str) -> dict[str, object]:
    stages = image_record(document, name)["Stages"]
    assert isinstance(stages, list)
    stage: dict[str, object] = stages[0]
    return stage


def test_first_build_publishes_and_second_build_reuses_without_pulling(project: Project) -> None:
    first = report(project)
    app = image_record(first, "app")
    assert app["Rebuilt"] is True and app["Final"] is True
    assert stage_of(first, "app")["Rebuilt"] is True
    # app and tool share one base: it is pulled once per run, for whichever image came first
    pulled = [stage_of(first, name)["BaseImagePulled"] for name in ("app", "tool")]
    assert sorted(pulled) == [False, True]
    tag = str(app["DockerTag"])
    digest, timestamp = tag.split("-")
    assert len(digest) == 56 and len(timestamp) == 13
    assert tag in registry_tags(project.repo)
    assert app["DockerImageName"] == f"{project.repo}:{tag}"

    project.clear_local_store()
    second = report(project)
    assert image_record(second, "app")["DockerTag"] == tag
    assert image_record(second, "app")["Rebuilt"] is False
    assert project.local_images() == [], "a full cache hit must not pull anything"


def test_unrelated_commits_keep_tags_and_a_copied_file_changes_only_its_image(project: Project) -> None:
    first = report(project)
    commit_all(project.path, "empty commit")
    (project.path / "README.md").write_text("edited\n")
    commit_all(project.path)
    second = report(project)
    for name in ("app", "tool"):
        assert image_record(second, name)["DockerTag"] == image_record(first, name)["DockerTag"]
        assert image_record(second, name)["Rebuilt"] is False

    (project.path / "src" / "main.txt").write_text("v2\n")
    commit_all(project.path)
    third = report(project)
    assert image_record(third, "app")["DockerTag"] != image_record(first, "app")["DockerTag"]
    assert image_record(third, "app")["Rebuilt"] is True
    assert image_record(third, "tool")["DockerTag"] == image_record(first, "tool")["DockerTag"]


def test_built_image_runs_with_committed_files_and_werf_labels(project: Project) -> None:
    document = report(project)
    name = str(image_record(document, "app")["DockerImageName"])
    inspected = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{name}"))
    labels = inspected["Labels"]
    assert labels["werf"] == "buildtest"
    assert labels["org.example.role"] == "app"
    assert labels["werf-project-repo-commit"] == git(project.path, "rev-parse", "HEAD")
    assert len(labels["werf-stage-content-digest"]) == 56
    container = project.buildah("from", "--tls-verify=false", name).strip()
    try:
        output = project.buildah("run", container, "--", "/bin/sh", "-c", "cat /app/src/main.txt /app/marker")
    finally:
        project.buildah("rm", container)
    assert output == "v1\nbuilt\n"


def test_local_storage_without_repo(project: Project) -> None:
    done = project.shipyard("build")
    assert done.returncode == 0, done.stdout + done.stderr
    names = project.buildah("images", "--format", "{{.Name}}:{{.Tag}}").split()
    stage_names = [name for name in names if "buildtest:" in name]
    assert len(stage_names) == 2
    again = project.shipyard("build")
    assert again.returncode == 0
    assert "Use previously built image" in again.stdout + again.stderr


def test_custom_tags_point_at_the_stage_manifest(project: Project) -> None:
    document = report(project, "--add-custom-tag", "%image%-v1")
    tags = registry_tags(project.repo)
    assert "app-v1" in tags and "tool-v1" in tags
    stage_name = image_record(document, "app")["DockerImageName"]
    assert manifest_digest(f"{project.repo}:app-v1") == manifest_digest(str(stage_name))
    assert any(tag.startswith("custom-tag-meta-") for tag in tags)


def test_custom_tags_need_a_repo(project: Project) -> None:
    done = project.shipyard("build", "--add-custom-tag", "x")
    assert done.returncode == 1 and "--repo" in done.stderr and "Traceback" not in done.stderr


def test_killed_build_leaves_no_tag_and_next_build_succeeds(project: Project) -> None:
    (project.path / "tool.Dockerfile").write_text(TOOL_DOCKERFILE + "RUN sleep 30\n")
    commit_all(project.path)
    process = subprocess.Popen([sys.executable, "-m", "shipyard", "build", "--repo", project.repo, "tool",
                                "--dir", str(project.path)], env=project.env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    time.sleep(6)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    stage_tags = [tag for tag in registry_tags_or_empty(project.repo) if len(tag) == 70]
    assert stage_tags == [], "a killed build must not leave a stage tag"
    (project.path / "tool.Dockerfile").write_text(TOOL_DOCKERFILE)
    commit_all(project.path)
    project.build("tool")


def registry_tags_or_empty(repo: str) -> list[str]:
    done = subprocess.run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{repo}"],
                          capture_output=True, text=True, timeout=60)
    return list(json.loads(done.stdout)["Tags"]) if done.returncode == 0 else []


def test_two_concurrent_builds_publish_each_digest_once(project: Project) -> None:
    processes = [subprocess.Popen([sys.executable, "-m", "shipyard", "build", "--repo", project.repo,
                                   "--dir", str(project.path)], env=project.env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    for process in processes:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output
    stage_tags = [tag for tag in registry_tags(project.repo) if len(tag) == 70]
    digests = [tag.split("-")[0] for tag in stage_tags]
    assert len(digests) == 2 and len(set(digests)) == 2, stage_tags


def test_unreachable_registry_is_a_clear_error(project: Project) -> None:
    done = project.shipyard("build", "--repo", "127.0.0.1:9/nothing/here", timeout=120)
    assert done.returncode == 1
    assert "127.0.0.1:9" in done.stderr and "Traceback" not in done.stderr


def test_invalid_repository_name_is_a_clear_error(project: Project) -> None:
    done = project.shipyard("build", "--repo", "127.0.0.1:5000/Upper Case")
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_envfile_report(project: Project) -> None:
    path = project.path.parent / "report.env"
    project.build("--save-build-report", "--build-report-path", str(path))
    lines = path.read_text().splitlines()
    assert any(line.startswith("WERF_APP_DOCKER_IMAGE_NAME=") for line in lines)
    assert "WERF_TOOL_FINAL=true" in lines


def test_failing_instruction_names_the_image_and_shows_its_output(project: Project) -> None:
    (project.path / "tool.Dockerfile").write_text(TOOL_DOCKERFILE + "RUN echo about-to-fail && false\n")
    commit_all(project.path)
    done = project.shipyard("build", "--repo", project.repo, "tool")
    assert done.returncode == 1
    assert "image 'tool'" in done.stderr and "about-to-fail" in done.stderr
    assert "Traceback" not in done.stderr
    assert [tag for tag in registry_tags_or_empty(project.repo) if len(tag) == 70] == []


def test_plan_knows_final_tags_before_building(project: Project) -> None:
    before = project.shipyard("plan", "--repo", project.repo, "--json")
    assert before.returncode == 0, before.stderr
    assert [image["finalImageName"] for image in json.loads(before.stdout)["images"]] == ["", ""]
    document = report(project)
    after = project.shipyard("plan", "--repo", project.repo, "--json")
    planned = {image["name"]: image for image in json.loads(after.stdout)["images"]}
    for name in ("app", "tool"):
        assert planned[name]["finalImageName"] == image_record(document, name)["DockerImageName"]
        assert planned[name]["stages"][0]["stored"] is True


def build_on_hosts(project: Project, tmp_path: Path, hosts: int, *extra: str) -> list[dict[str, object]]:
    """`hosts` builds started together, each with its own SHIPYARD_HOME (no shared file lock, own image
    store, as on separate machines); returns their reports."""
    processes, reports = [], []
    for host in range(hosts):
        report_path = tmp_path / f"report-{host}.json"
        env = {**project.env(), "SHIPYARD_HOME": str(tmp_path / f"host-{host}")}
        command = [sys.executable, "-m", "shipyard", "build", "--repo", project.repo, *extra, "--dir",
                   str(project.path), "--save-build-report", "--build-report-path", str(report_path)]
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True))
        reports.append(report_path)
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    return [json.loads(path.read_text()) for path in reports]


def final_tags(report_document: dict[str, object]) -> dict[str, object]:
    return {name: image_record(report_document, name)["DockerTag"] for name in ("app", "tool")}


@pytest.mark.parametrize("service", ["http", "redis"])
def test_four_hosts_publish_each_digest_once_through_a_lock_service(
        project: Project, tmp_path: Path, service: str) -> None:
    with contextlib.ExitStack() as stack:
        if service == "http":
            address = stack.enter_context(running_lock_server(lease_ttl=10.0)).url
        else:
            address = stack.enter_context(running_redis(tmp_path / "redis")).url
        reports = build_on_hosts(project, tmp_path, 4, "--synchronization", address)
    stage_tags = [tag for tag in registry_tags(project.repo) if len(tag) == 70]
    digests = [tag.split("-")[0] for tag in stage_tags]
    assert len(digests) == 2 and len(set(digests)) == 2, stage_tags
    assert all(final_tags(report) == final_tags(reports[0]) for report in reports)
    assert sum(image_record(r, name)["Rebuilt"] is True for r in reports for name in ("app", "tool")) == 2
    if service == "http":
        assert any(tag.startswith("client-id-") for tag in registry_tags(project.repo))


def test_without_a_lock_service_hosts_duplicate_work_but_the_oldest_stage_wins(
        project: Project, tmp_path: Path) -> None:
    build_on_hosts(project, tmp_path, 4)
    stage_tags = sorted(tag for tag in registry_tags(project.repo) if len(tag) == 70)
    by_digest: dict[str, list[str]] = {}
    for tag in stage_tags:
        by_digest.setdefault(tag.split("-")[0], []).append(tag)
    assert len(by_digest) == 2
    duplicates = len(stage_tags) - len(by_digest)
    print(f"no lock service: {len(stage_tags)} stage tags for 2 digests, {duplicates} duplicate builds")
    # Whatever was duplicated, every later build settles on the oldest stage of each digest.
    after = report(project)
    for name in ("app", "tool"):
        tag = str(image_record(after, name)["DockerTag"])
        assert tag == min(by_digest[tag.split("-")[0]], key=lambda t: int(t.split("-")[1]))
