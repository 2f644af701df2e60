"""Build secrets end to end (seed: "Using build secrets"): a Dockerfile RUN --mount=type=secret and Stapel
shell commands read them at /run/secrets/<id>; their values reach no layer, config, log or report."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

from support import require_tools
from support.gitrepo import init_repo
from support.project import Project, run_in_image

TOKEN, API_KEY, FILE_SECRET = "t0ken-s3cr3t-value", "api-k3y-s3cr3t-value", "f1le-s3cr3t-value"
SECRETS = [TOKEN, API_KEY, FILE_SECRET]

WERF_YAML = """\
project: secrets
configVersion: 1
---
image: dockerfile
dockerfile: Dockerfile
args:
  BASE: {base}
secrets:
- id: token
  value: {token}
- env: API_KEY
- src: {creds}
---
image: stapel
from: {base}
secrets:
- id: token
  value: {token}
- env: API_KEY
- src: {creds}
shell:
  install:
  - test "$(md5sum < /run/secrets/token)" = "{token_md5}  -"
  - echo "token is $(cat /run/secrets/token)"
  - test "$(md5sum < /run/secrets/API_KEY)" = "{api_key_md5}  -"
  - test "$(md5sum < /run/secrets/creds.txt)" = "{file_secret_md5}  -"
  - (echo tamper > /run/secrets/creds.txt) 2>/dev/null || echo "secret files are read-only"
  - echo ok > /checked
"""
DOCKERFILE = """\
ARG BASE
FROM $BASE
RUN --mount=type=secret,id=token --mount=type=secret,id=API_KEY --mount=type=secret,id=creds.txt \\
    test "$(md5sum < /run/secrets/token)" = "{token_md5}  -" && \\
    test "$(md5sum < /run/secrets/API_KEY)" = "{api_key_md5}  -" && \\
    test "$(md5sum < /run/secrets/creds.txt)" = "{file_secret_md5}  -" && \\
    echo "token is $(cat /run/secrets/token)" && echo ok > /checked
"""


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def layer_and_config_bytes(project: Project, image: str, destination: Path) -> bytes:
    """Every layer (decompressed) and the config of `image`, as copied from the registry."""
    subprocess.run(["skopeo", "copy", "--src-tls-verify=false", f"docker://{image}", f"dir:{destination}"],
                   check=True, capture_output=True, timeout=120)
    content = b""
    for blob in destination.iterdir():
        data = blob.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                for member in archive.getmembers():
                    extracted = archive.extractfile(member) if member.isfile() else None
                    content += member.name.encode() + b"\n" + (extracted.read() if extracted else b"")
        else:
            content += data
    return content


def test_secrets_reach_the_commands_and_nothing_else(tmp_path: Path, registry_repo: str,
                                                     busybox_image: object) -> None:
    require_tools("git", "buildah", "skopeo")
    creds = tmp_path / "creds.txt"
    creds.write_text(FILE_SECRET + "\n")
    # the commands compare checksums: a secret written in a RUN line would be in the image's history
    values = {"base": busybox_image.remote, "creds": creds, "token": TOKEN,  # type: ignore[attr-defined]
              "token_md5": md5(TOKEN), "api_key_md5": md5(API_KEY),
              "file_secret_md5": md5(FILE_SECRET + "\n")}
    path = init_repo(tmp_path / "project", {
        "werf.yaml": WERF_YAML.format(**values),
        "Dockerfile": DOCKERFILE.format(**values),
        "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  secrets:\n"
                                 f"    allowEnvVariables: [API_KEY]\n    allowFiles: [{creds}]\n"
                                 "    allowValueIds: [token]\n",
    })
    project = Project(path=path, home=tmp_path / "home", repo=registry_repo)
    report = tmp_path / "report.json"
    try:
        done = subprocess.run([sys.executable, "-m", "shipyard", "build", "--dir", str(path), "--repo",
                               registry_repo, "--save-build-report", "--build-report-path", str(report)],
                              capture_output=True, text=True, timeout=300,
                              env={**project.env(), "API_KEY": API_KEY})
        assert done.returncode == 0, done.stdout + done.stderr
        assert "stapel/install │ token is ******" in done.stdout  # the user's echo, masked
        assert "stapel/install │ secret files are read-only" in done.stdout
        assert creds.read_text() == FILE_SECRET + "\n"
        logs = b"".join(log.read_bytes() for log in (project.home / "logs").rglob("*.log"))
        assert b"token is ******" in logs
        images = json.loads(report.read_text())["Images"]
        for name in ("dockerfile", "stapel"):
            image = images[name]["DockerImageName"]
            assert run_in_image(project, image, "cat", "/checked") == "ok\n"
            stored = layer_and_config_bytes(project, image, tmp_path / f"copy-{name}")
            for secret in SECRETS:
                assert secret.encode() not in stored, f"{name}: a secret value is in a layer or the config"
        assert b"secrets/token" not in layer_and_config_bytes(project, images["stapel"]["DockerImageName"],
                                                              tmp_path / "stapel-again")
        for secret in SECRETS:
            assert secret not in done.stdout + done.stderr
            assert secret.encode() not in logs
            assert secret not in report.read_text()
    finally:
        project.remove_images()
