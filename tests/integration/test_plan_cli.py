"""`shipyard plan` end to end: a real git repository, the real CLI process, werf's digest formula."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from shipyard.hashsum import sha3_224_hash, sha256_hash
from support import require_tools
from support.gitrepo import commit_all, git, init_repo

WERF_YAML = """\
project: demo
configVersion: 1
---
image: app
dockerfile: Dockerfile
---
image: tool
dockerfile: tool.Dockerfile
"""
DOCKERFILE = "FROM base:1\nCOPY src /src\nRUN echo built\n"
TOOL_DOCKERFILE = "FROM base:1\nRUN echo tool\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "project", {
        "werf.yaml": WERF_YAML,
        "Dockerfile": DOCKERFILE,
        "tool.Dockerfile": TOOL_DOCKERFILE,
        "src/main.txt": "v1\n",
        "README.md": "not copied\n",
    })


def shipyard(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # An empty private home: plan asks the local stages storage (buildah) and must not see the user's.
    home = tempfile.mkdtemp(prefix="shipyard-plan-home-")
    try:
        return subprocess.run([sys.executable, "-m", "shipyard", *args], capture_output=True, text=True,
                              cwd=cwd, timeout=120, env={**os.environ, "SHIPYARD_HOME": home})
    finally:
        shutil.rmtree(home, ignore_errors=True)


def plan_digests(repo: Path, *extra: str) -> dict[str, str]:
    done = shipyard("plan", "--dir", str(repo), "--json", *extra)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    return {image["name"]: image["stages"][-1]["digest"] for image in document["images"]}


def expected_digest(*dependencies: str, platform: str = "") -> str:
    """werf-internals §1.4a computed independently: H3([platform], "1.2", "dockerfile", H256(D))."""
    prefix = (platform,) if platform else ()
    return sha3_224_hash(*prefix, "1.2", "dockerfile", sha256_hash(*dependencies))


def test_plan_matches_werf_formula_with_git_object_ids(project: Path) -> None:
    # `COPY src /src` matches the whole src directory, so the ls-tree checksum is the tree id of src.
    tree_id = git(project, "rev-parse", "HEAD:src")
    files = sha256_hash(sha256_hash(tree_id))
    digests = plan_digests(project)
    assert digests["app"] == expected_digest("base:1", "COPY src /src", files, "RUN echo built")
    assert digests["tool"] == expected_digest("base:1", "RUN echo tool")


def test_tags_survive_unrelated_commits_and_change_with_copied_files(project: Path) -> None:
    before = plan_digests(project)
    commit_all(project, "empty commit")
    assert plan_digests(project) == before
    (project / "README.md").write_text("edited, never copied\n")
    commit_all(project)
    assert plan_digests(project) == before
    (project / "src" / "main.txt").write_text("v2\n")
    commit_all(project)
    after = plan_digests(project)
    assert after["app"] != before["app"]
    assert after["tool"] == before["tool"]


def test_dockerignored_file_does_not_change_the_digest(project: Path) -> None:
    (project / ".dockerignore").write_text("src/*.log\n")
    commit_all(project)
    before = plan_digests(project)
    (project / "src" / "debug.log").write_text("noise\n")
    commit_all(project)
    assert plan_digests(project) == before


def test_platform_enters_the_digest_except_linux_amd64(project: Path) -> None:
    amd64 = plan_digests(project, "--platform", "linux/amd64")
    arm64 = plan_digests(project, "--platform", "linux/arm64")
    assert amd64["tool"] == expected_digest("base:1", "RUN echo tool")
    assert arm64["tool"] != amd64["tool"]


def test_uncommitted_werf_yaml_is_refused_with_the_way_out(project: Path) -> None:
    (project / "werf.yaml").write_text(WERF_YAML.replace("project: demo", "project: changed"))
    done = shipyard("plan", "--dir", str(project))
    assert done.returncode == 1
    assert "werf.yaml" in done.stderr and "uncommitted" in done.stderr
    assert "--loose-giterminism" in done.stderr and "Traceback" not in done.stderr
    loose = shipyard("plan", "--dir", str(project), "--loose-giterminism", "--json")
    assert loose.returncode == 0, loose.stderr
    assert json.loads(loose.stdout)["project"] == "changed"


def test_uncommitted_copied_file_is_refused_but_dev_mode_hashes_it(project: Path) -> None:
    committed = plan_digests(project)
    (project / "src" / "main.txt").write_text("work in progress\n")
    done = shipyard("plan", "--dir", str(project))
    assert done.returncode == 1
    assert "src/main.txt" in done.stderr and "Traceback" not in done.stderr
    assert plan_digests(project, "--dev")["app"] != committed["app"]


def test_invalid_config_points_at_the_line(project: Path) -> None:
    (project / "werf.yaml").write_text(WERF_YAML + "dockerfil: x\n")
    commit_all(project)
    done = shipyard("plan", "--dir", str(project))
    assert done.returncode == 1
    assert "werf.yaml:" in done.stderr and "dockerfil" in done.stderr
    assert "Traceback" not in done.stderr


def test_not_a_git_repository(tmp_path: Path) -> None:
    require_tools("git")
    (tmp_path / "werf.yaml").write_text(WERF_YAML)
    done = shipyard("plan", "--dir", str(tmp_path))
    assert done.returncode == 1
    assert "git" in done.stderr and "Traceback" not in done.stderr


def test_image_selection_and_unknown_image(project: Path) -> None:
    done = shipyard("plan", "--dir", str(project), "--json", "t*")
    assert done.returncode == 0, done.stderr
    assert [image["name"] for image in json.loads(done.stdout)["images"]] == ["tool"]
    missing = shipyard("plan", "--dir", str(project), "nope")
    assert missing.returncode == 1 and "nope" in missing.stderr


def test_debug_digest_prints_every_input(project: Path) -> None:
    done = shipyard("plan", "--dir", str(project), "--debug-digest", "tool")
    assert done.returncode == 0, done.stderr
    assert "RUN echo tool" in done.stdout and "1.2" in done.stdout


def test_help_and_version() -> None:
    for command in ((), ("build",), ("plan",), ("render",)):
        done = shipyard(*command, "--help")
        assert done.returncode == 0 and "Usage:" in done.stdout
    assert "--repo" in shipyard("build", "--help").stdout
    assert shipyard("--version").stdout.startswith("shipyard, version ")


def test_secrets_do_not_enter_digests(project: Path) -> None:
    """werf does not hash secrets: adding one keeps every tag; its value never reaches plan's output."""
    before = plan_digests(project)
    secret = "secrets:\n- id: token\n  value: s3cr3t\n"
    (project / "werf.yaml").write_text(WERF_YAML.replace("tool.Dockerfile\n", f"tool.Dockerfile\n{secret}"))
    (project / "werf-giterminism.yaml").write_text(
        "giterminismConfigVersion: 1\nconfig:\n  secrets:\n    allowValueIds: [token]\n")
    commit_all(project)
    assert plan_digests(project) == before
    done = shipyard("plan", "--dir", str(project), "--debug-digest")
    assert done.returncode == 0, done.stderr
    assert "s3cr3t" not in done.stdout + done.stderr
