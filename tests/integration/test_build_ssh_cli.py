"""The builds' SSH agent (seed: "Using the SSH agent"): RUN --mount=type=ssh and Stapel commands reach the
agent that holds the --ssh-key, and no image keeps its socket or key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support import require_tools
from support.gitrepo import init_repo
from support.project import Project, run_in_image

WERF_YAML = """\
project: sshagent
configVersion: 1
---
image: dockerfile
dockerfile: Dockerfile
args:
  BASE: {base}
---
image: stapel
from: {base}
shell:
  install:
  - test -S "$SSH_AUTH_SOCK" && echo "agent at $SSH_AUTH_SOCK"
  - echo ok > /checked
"""
DOCKERFILE = """\
ARG BASE
FROM $BASE
RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "agent at $SSH_AUTH_SOCK" && echo ok > /checked
"""


def test_the_ssh_key_agent_reaches_both_syntaxes_and_no_image(tmp_path: Path, registry_repo: str,
                                                                busybox_image: object) -> None:
    require_tools("git", "buildah", "skopeo", "ssh-agent", "ssh-add", "ssh-keygen")
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    path = init_repo(tmp_path / "project", {
        "werf.yaml": WERF_YAML.format(base=busybox_image.remote),  # type: ignore[attr-defined]
        "Dockerfile": DOCKERFILE,
    })
    project = Project(path=path, home=tmp_path / "home", repo=registry_repo)
    report = tmp_path / "report.json"
    try:
        env = {key_: value for key_, value in project.env().items() if key_ != "SSH_AUTH_SOCK"}
        done = subprocess.run([sys.executable, "-m", "shipyard", "build", "--dir", str(path), "--repo",
                               registry_repo, "--ssh-key", str(key), "--save-build-report",
                               "--build-report-path", str(report)],
                              capture_output=True, text=True, timeout=300, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "stapel/install │ agent at /.werf/tmp/ssh-auth-sock" in done.stdout
        images = json.loads(report.read_text())["Images"]
        for name in ("dockerfile", "stapel"):
            image = images[name]["DockerImageName"]
            assert run_in_image(project, image, "cat", "/checked") == "ok\n"
        stapel = images["stapel"]["DockerImageName"]
        assert run_in_image(project, stapel, "sh", "-c", "ls -A / | grep -c werf || true") == "0\n"
        config = json.loads(subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--config",
                                            f"docker://{stapel}"], capture_output=True, text=True,
                                           check=True).stdout)
        assert not any(item.startswith("SSH_AUTH_SOCK") for item in config["config"].get("Env") or [])
        # the temporary agent is gone with the build
        assert not list(Path("/tmp").glob("shipyard-ssh-*/agent.sock"))

        without = subprocess.run([sys.executable, "-m", "shipyard", "build", "--dir", str(path), "--repo",
                                  f"{registry_repo}-noagent", "dockerfile"],
                                 capture_output=True, text=True, timeout=300,
                                 env={**env, "HOME": str(tmp_path / "nohome"),
                                      "SHIPYARD_HOME": str(tmp_path / "home-without-agent")})
        assert without.returncode != 0  # no agent at all: the Dockerfile's ssh mount finds no socket
        Project(path=path, home=tmp_path / "home-without-agent", repo=registry_repo).remove_images()
    finally:
        project.remove_images()
