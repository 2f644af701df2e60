"""BuildahBackend with the real buildah, the session registry and the busybox base image: a context
materialised from a git commit is built, inspected, run, tagged, listed, pushed and removed."""

from __future__ import annotations

import json
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shipyard import context
from shipyard.backends.base import DockerfileBuild, RegistryAccess
from shipyard.backends.buildah import BuildahBackend
from shipyard.backends.process import BackendError
from shipyard.gitrepo import GitRepo
from support import require_tools
from support.gitrepo import commit_all, init_repo, write_files

Fixture = Any  # conftest's BuildahStore / Registry / BaseImage (conftest is not importable by name)
INSECURE = RegistryAccess(tls_verify=False)

DOCKERFILE = """\
ARG BASE
FROM $BASE AS app
ARG GREETING=hello
ENV GREETING_ENV=$GREETING
COPY . /app
RUN echo "$GREETING_ENV from RUN" > /greeting
CMD ["cat", "/greeting"]

FROM app AS never-built
RUN echo "this stage is not the target" && false
"""
PROJECT_FILES = {
    "Dockerfile": DOCKERFILE,
    ".dockerignore": "ignored.txt\n",
    "app.txt": "committed\n",
    "ignored.txt": "must not reach the image\n",
    "bin/tool.sh": "#!/bin/sh\necho tool\n",
}


@dataclass(frozen=True)
class Built:
    backend: BuildahBackend
    image_id: str
    log: list[str]
    labels: dict[str, str]


def backend_for(store: Fixture) -> BuildahBackend:
    return BuildahBackend(store.root, store.runroot, store.driver, pull_access=INSECURE)


def materialized_build(repo: Path, destination: Path, **settings: Any) -> DockerfileBuild:
    snapshot = GitRepo.discover(repo).snapshot("strict")
    ignore, _ = context.dockerignore_matcher(snapshot, "", "Dockerfile")
    dockerfile = snapshot.read("Dockerfile")
    assert dockerfile is not None
    context_dir, dockerfile_path = context.materialize_context(
        snapshot, context_dir="", dockerignore=ignore, dockerfile_content=dockerfile, destination=destination)
    return DockerfileBuild(context_dir=context_dir, dockerfile=dockerfile_path, **settings)


def run_in_image(store: Fixture, image: str, *command: str) -> str:
    container = store.run("from", "--quiet", image).stdout.strip()
    try:
        return str(store.run("run", container, "--", *command).stdout)
    finally:
        store.run("rm", container)


@pytest.fixture(scope="module")
def built(buildah_store: Fixture, busybox_image: Fixture, tmp_path_factory: pytest.TempPathFactory) -> Built:
    require_tools("buildah", "git")
    repo = init_repo(tmp_path_factory.mktemp("project") / "repo", PROJECT_FILES, commit=False)
    (repo / "bin/tool.sh").chmod(0o755)
    commit_all(repo, "initial")
    write_files(repo, {"uncommitted.txt": "only in the work tree\n", "app.txt": "modified, not committed\n"})
    labels = {"werf": "shipyard-test", "werf-stage-content-digest": secrets.token_hex(8)}
    build = materialized_build(repo, tmp_path_factory.mktemp("build") / "out", target="app", labels=labels,
                               build_args={"BASE": busybox_image.remote, "GREETING": "hi"})
    backend = backend_for(buildah_store)
    log: list[str] = []
    image_id = backend.build_dockerfile(build, log.append)
    # a name of its own: removing a test's last name for it would delete the image (rmi semantics)
    backend.tag(image_id, f"sy-built-{secrets.token_hex(3)}:keep")
    return Built(backend, image_id, log, labels)


def test_build_streams_the_log_and_returns_the_image_id(built: Built) -> None:
    assert built.image_id.startswith("sha256:") and len(built.image_id) == len("sha256:") + 64
    assert any(line.startswith("STEP ") and "RUN echo" in line for line in built.log)
    assert not any("this stage is not the target" in line for line in built.log)


def test_labels_and_config_are_on_the_image(built: Built, buildah_store: Fixture) -> None:
    image = built.backend.inspect(built.image_id)
    assert image is not None and image.image_id == built.image_id
    assert built.labels.items() <= image.labels.items()
    assert image.size > 0 and image.created_unix_nanos > 0
    raw = json.loads(buildah_store.run("inspect", "--type", "image", built.image_id).stdout)
    config = raw["Docker"]["config"]
    assert config["Cmd"] == ["cat", "/greeting"]
    assert "GREETING_ENV=hi" in config["Env"]
    assert raw["Manifest"] and json.loads(raw["Manifest"])["mediaType"].startswith("application/vnd.docker")


def test_the_image_runs_and_holds_exactly_the_committed_files(built: Built, buildah_store: Fixture) -> None:
    assert run_in_image(buildah_store, built.image_id, "cat", "/greeting") == "hi from RUN\n"
    files = run_in_image(buildah_store, built.image_id, "find", "/app", "!", "-type", "d").split()
    assert sorted(files) == ["/app/.dockerignore", "/app/Dockerfile", "/app/app.txt", "/app/bin/tool.sh"]
    assert run_in_image(buildah_store, built.image_id, "cat", "/app/app.txt") == "committed\n"
    assert run_in_image(buildah_store, built.image_id, "/app/bin/tool.sh") == "tool\n"


def test_push_returns_the_manifest_digest_and_the_registry_has_the_labels(
        built: Built, registry_repo: str) -> None:
    require_tools("skopeo")
    reference = f"{registry_repo}:stage-1"
    built.backend.tag(built.image_id, reference)
    pushed = built.backend.push(reference, INSECURE)
    assert pushed.reference == reference and pushed.manifest_digest.startswith("sha256:")
    done = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{reference}"],
                          capture_output=True, text=True, check=True, timeout=60)
    remote = json.loads(done.stdout)
    assert remote["Digest"] == pushed.manifest_digest
    assert built.labels.items() <= remote["Labels"].items()
    built.backend.remove(reference)


def test_pull_returns_the_image_id(built: Built, busybox_image: Fixture) -> None:
    assert built.backend.pull(busybox_image.remote, INSECURE) == f"sha256:{busybox_image.image_id}"


def test_list_images_finds_project_tags_by_short_name(built: Built) -> None:
    project = f"sy-list-{secrets.token_hex(3)}"
    tags = [f"{project}:{secrets.token_hex(8)}-{1700000000000 + n}" for n in range(2)]
    for tag in tags:
        built.backend.tag(built.image_id, tag)
    built.backend.tag(built.image_id, f"{project}-other:x")
    try:
        found = built.backend.list_images(project)
        assert [image.image_id for image in found] == [built.image_id]
        assert set(tags) | {f"{project}-other:x"} <= set(found[0].names)
        assert not any(name.startswith("localhost/") for name in found[0].names)
        assert found[0].labels["werf"] == "shipyard-test"
        assert built.backend.list_images(f"{project}-missing") == []
        assert sorted(built.backend.list_image_names(project)) == sorted(tags)  # names only, one listing
        assert built.backend.inspect(tags[0]) == found[0]
    finally:
        for tag in [*tags, f"{project}-other:x"]:
            built.backend.remove(tag)


def test_remove_untags_only_and_ignores_missing_images(built: Built) -> None:
    first, second = (f"sy-rm-{secrets.token_hex(3)}:{name}" for name in ("a", "b"))
    built.backend.tag(built.image_id, first)
    built.backend.tag(built.image_id, second)
    built.backend.remove(first)
    remaining = built.backend.inspect(second)
    assert remaining is not None and first not in remaining.names
    built.backend.remove(first)  # already gone
    built.backend.remove("sy-never-existed:tag")
    assert built.backend.inspect(first) is None
    built.backend.remove(second)
    assert built.backend.inspect(second) is None
    assert built.backend.inspect(built.image_id) is not None  # the image itself is untouched


def test_a_failing_run_is_a_backend_error_with_the_output_tail(
        buildah_store: Fixture, busybox_image: Fixture, tmp_path: Path) -> None:
    require_tools("buildah", "git")
    dockerfile = "FROM " + busybox_image.local + '\nRUN echo "about to fail" && exit 7\n'
    repo = init_repo(tmp_path / "repo", {"Dockerfile": dockerfile})
    containers_before = buildah_store.run("containers", "--quiet").stdout.split()
    build = materialized_build(repo, tmp_path / "out")
    with pytest.raises(BackendError) as failure:
        backend_for(buildah_store).build_dockerfile(build, lambda _: None)
    error = failure.value
    # buildah exits with the failed RUN's own exit code
    assert error.message == "buildah could not build the last stage of Dockerfile: exit code 7"
    assert error.returncode == 7
    assert "about to fail" in error.output_tail
    assert any('building at STEP "RUN echo' in line for line in error.output_tail)
    assert error.hint is not None and "instruction" in error.hint
    assert "Traceback" not in error.render() and error.__suppress_context__
    # --force-rm: a failed build leaves no working container behind
    assert buildah_store.run("containers", "--quiet").stdout.split() == containers_before


def test_a_missing_base_image_explains_where_to_look(
        buildah_store: Fixture, registry: Fixture, tmp_path: Path) -> None:
    require_tools("buildah", "git")
    missing = registry.repo("base/not-there") + ":latest"
    repo = init_repo(tmp_path / "repo", {"Dockerfile": f"FROM {missing}\nRUN true\n"})
    build = materialized_build(repo, tmp_path / "out")
    with pytest.raises(BackendError) as failure:
        backend_for(buildah_store).build_dockerfile(build, lambda _: None)
    assert "manifest unknown" in "\n".join(failure.value.output_tail)
    assert failure.value.hint is not None and "FROM image" in failure.value.hint


def test_network_none_is_refused_before_running_buildah(buildah_store: Fixture, tmp_path: Path) -> None:
    build = DockerfileBuild(context_dir=tmp_path, dockerfile=tmp_path / "Dockerfile", network="none")
    with pytest.raises(BackendError, match="chroot isolation"):
        backend_for(buildah_store).build_dockerfile(build, lambda _: None)
