"""The pure parts of the buildah backend: command lines, names, inspect JSON, error hints."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from shipyard.backends.base import ContainerBackend, DockerfileBuild, RegistryAccess
from shipyard.backends.buildah import BuildahBackend, registry_flags
from shipyard.backends.buildah_output import (
    failure_hint,
    local_image,
    name_repository,
    normalize_name,
    readable_lines,
    unix_nanos,
)


def test_the_constructor_does_no_io(tmp_path: Path) -> None:
    backend: ContainerBackend = BuildahBackend(tmp_path / "missing-root", tmp_path / "missing-runroot")
    assert backend.name == "buildah"
    assert list(tmp_path.iterdir()) == []


def test_bud_arguments_carry_every_build_setting() -> None:
    backend = BuildahBackend(Path("/r"), Path("/rr"), pull_access=RegistryAccess(tls_verify=False))
    build = DockerfileBuild(
        context_dir=Path("/ctx"), dockerfile=Path("/x/Dockerfile"), target="app",
        build_args={"A": "1", "B": "two words"}, labels={"werf": "proj"}, add_hosts=("db:10.0.0.1",),
        network="host", platform="linux/arm64")
    arguments = backend.bud_arguments(build, iidfile=Path("/t/iid"), ignorefile=Path("/t/ignore"))
    assert arguments[:2] == ["--isolation", "chroot"] and arguments[-1] == "/ctx"
    pairs = list(itertools.pairwise(arguments))
    for expected in [("-f", "/x/Dockerfile"), ("--iidfile", "/t/iid"), ("--ignorefile", "/t/ignore"),
                     ("--format", "docker"), ("--target", "app"), ("--build-arg", "A=1"),
                     ("--build-arg", "B=two words"), ("--label", "werf=proj"), ("--add-host", "db:10.0.0.1"),
                     ("--network", "host"), ("--platform", "linux/arm64")]:
        assert expected in pairs
    assert {"--layers", "--force-rm", "--pull=false", "--tls-verify=false"} <= set(arguments)


def test_bud_arguments_leave_defaults_to_buildah() -> None:
    build = DockerfileBuild(context_dir=Path("/ctx"), dockerfile=Path("/ctx/Dockerfile"))
    arguments = BuildahBackend(Path("/r"), Path("/rr")).bud_arguments(
        build, iidfile=Path("/i"), ignorefile=Path("/g"))
    for flag in ("--target", "--network", "--platform", "--tls-verify=false", "--build-arg", "--label"):
        assert flag not in arguments


def test_registry_flags() -> None:
    assert registry_flags(RegistryAccess()) == []
    access = RegistryAccess(tls_verify=False, cert_dir=Path("/certs"), auth_file=Path("/auth.json"))
    assert registry_flags(access) == [
        "--tls-verify=false", "--cert-dir", "/certs", "--authfile", "/auth.json"]


@pytest.mark.parametrize(("name", "normalized", "repository"), [
    ("localhost/proj:abc-123", "proj:abc-123", "proj"),
    ("localhost/group/proj:t", "group/proj:t", "group/proj"),
    ("127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b"),
    ("127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b"),
    ("localhost/proj@sha256:00ff", "proj@sha256:00ff", "proj"),
])
def test_names_lose_buildahs_localhost_prefix(name: str, normalized: str, repository: str) -> None:
    assert normalize_name(name) == normalized
    assert name_repository(normalized) == repository


def test_unix_nanos_keeps_nanosecond_precision() -> None:
    assert unix_nanos("1970-01-01T00:00:00Z") == 0
    assert unix_nanos("2026-11-22T20:48:23.067508834Z") == 1795380503_067508834
    assert unix_nanos("2026-11-22T21:48:23.5+01:00") == 1795380503_500000000
    with pytest.raises(ValueError, match="RFC 3339"):
        unix_nanos("yesterday")


def test_local_image_from_inspect_json() -> None:
    manifest = {"layers": [{"size": 2126848}, {"size": 3584}], "config": {"size": 2141}}
    inspected = {
        "OCIv1": {"created": "2026-11-22T20:48:23.067508834Z", "config": {"Labels": {"werf": "proj"}}},
        "Docker": {"created": "2026-11-22T20:48:23.067508834Z", "config": {"Labels": {"werf": "proj"}}},
        "Manifest": json.dumps(manifest),
    }
    image = local_image(inspected, image_id="sha256:ab", names=("proj:t",))
    assert image.image_id == "sha256:ab" and image.names == ("proj:t",)
    assert image.labels == {"werf": "proj"}
    assert image.created_unix_nanos == 1795380503_067508834
    assert image.size == 2126848 + 3584


def test_an_image_without_labels() -> None:
    image = local_image({"OCIv1": {"config": {}}}, image_id="sha256:ab", names=())
    assert image.labels == {} and image.size == 0 and image.created_unix_nanos == 0


def test_logrus_lines_become_readable() -> None:
    line = ('time="2026-11-22T20:48:30Z" level=warning msg="Failed, retrying in 2s ... (1/3). Error: '
            'Get \\"http://127.0.0.1:5399/v2/\\": connect: connection refused"')
    assert list(readable_lines([line, "STEP 1/2: FROM x"])) == [
        'warning: Failed, retrying in 2s ... (1/3). Error: Get "http://127.0.0.1:5399/v2/": connect: '
        "connection refused", "STEP 1/2: FROM x"]


@pytest.mark.parametrize(("output", "building", "expected"), [
    ('Error: building at STEP "RUN false": exit status 1', True, "instruction of the Dockerfile failed"),
    ('Error: building at STEP "ECHO ": Build error: Unknown instruction: "ECHO"', True, "heredocs"),
    ("reading manifest latest in 127.0.0.1:5001/base/x: manifest unknown: manifest unknown", True,
     "is the FROM image in a registry shipyard can reach?"),
    ("reading manifest latest in 127.0.0.1:5001/base/x: manifest unknown", False, "not in that registry"),
    ('pinging container registry registry-1.docker.io: Get "https://registry-1.docker.io/v2/": dial tcp: '
     "lookup registry-1.docker.io: no such host", True, "is the FROM image in a registry"),
    ("dial tcp 127.0.0.1:5399: connect: connection refused", False, "is the registry running"),
    ('Get "https://127.0.0.1:5001/v2/": http: server gave HTTP response to HTTPS client', True,
     "--insecure-registry"),
    ("x509: certificate signed by unknown authority", False, "--skip-tls-verify-registry"),
    ("unauthorized: authentication required", False, "cr login"),
    ("something else entirely", False, None),
])
def test_failure_hints(output: str, building: bool, expected: str | None) -> None:
    hint = failure_hint([output], building=building)
    assert hint == expected if expected is None else expected in (hint or "")
