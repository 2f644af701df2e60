"""`shipyard cr login/logout` against the real registry, with a private auth file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def shipyard(auth_file: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shipyard", "cr", *args], input=stdin, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "REGISTRY_AUTH_FILE": str(auth_file)})


def test_login_stores_checked_credentials_and_logout_removes_them(tmp_path: Path, registry: Any) -> None:
    auth_file = tmp_path / "auth.json"
    done = shipyard(auth_file, "login", "-u", "ci", "--password-stdin", registry.address, stdin="s3cret\n")
    assert done.returncode == 0, done.stderr
    assert "s3cret" not in done.stdout + done.stderr
    entry = json.loads(auth_file.read_text())["auths"][registry.address]
    assert entry["auth"] == "Y2k6czNjcmV0"  # base64("ci:s3cret")
    assert oct(auth_file.stat().st_mode & 0o777) == "0o600"
    out = shipyard(auth_file, "logout", f"http://{registry.address}/")
    assert out.returncode == 0 and registry.address not in json.loads(auth_file.read_text()).get("auths", {})


def test_login_refuses_without_user_and_reports_unreachable_registry(tmp_path: Path) -> None:
    auth_file = tmp_path / "auth.json"
    no_user = shipyard(auth_file, "login", "-p", "x", "127.0.0.1:9")
    assert no_user.returncode == 1 and "--username" in no_user.stderr
    unreachable = shipyard(auth_file, "login", "-u", "u", "-p", "x", "127.0.0.1:9")
    assert unreachable.returncode == 1 and "127.0.0.1:9" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr and not auth_file.exists()
