"""A push refused because another push of a shared blob was unfinished is retried; other failures are not.

A fake `buildah` script stands in for the real one (the integration tests push to the real registry)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shipyard.backends.base import RegistryAccess
from shipyard.backends.buildah import BuildahBackend
from shipyard.backends.process import BackendError

FAKE_BUILDAH = """#!/bin/sh
# fails the first pushes with the message, then writes the digest file
count_file={state}/count
count=$(cat "$count_file" 2>/dev/null || echo 0)
count=$((count + 1))
echo "$count" > "$count_file"
if [ "$count" -le {failures} ]; then
    echo "Error: writing manifest: {message}" >&2
    exit 125
fi
while [ $# -gt 0 ]; do
    if [ "$1" = "--digestfile" ]; then echo "sha256:{digest}" > "$2"; fi
    shift
done
"""


def fake_backend(tmp_path: Path, failures: int, message: str) -> BuildahBackend:
    script = tmp_path / "buildah"
    script.write_text(FAKE_BUILDAH.format(state=tmp_path, failures=failures, message=message,
                                          digest="a" * 64))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return BuildahBackend(tmp_path / "root", tmp_path / "runroot", executable=str(script))


def pushes(tmp_path: Path) -> int:
    return int((tmp_path / "count").read_text())


def test_a_shared_blob_race_is_retried(tmp_path: Path) -> None:
    backend = fake_backend(tmp_path, 1, "manifest blob unknown: blob unknown to registry")
    pushed = backend.push("127.0.0.1:5000/app:tag", RegistryAccess(tls_verify=False))
    assert pushed.manifest_digest == "sha256:" + "a" * 64
    assert pushes(tmp_path) == 2


def test_other_push_failures_are_not_retried(tmp_path: Path) -> None:
    backend = fake_backend(tmp_path, 1, "unauthorized: authentication required")
    with pytest.raises(BackendError, match="could not push"):
        backend.push("127.0.0.1:5000/app:tag", RegistryAccess(tls_verify=False))
    assert pushes(tmp_path) == 1


def test_a_race_that_persists_fails_after_three_attempts(tmp_path: Path) -> None:
    backend = fake_backend(tmp_path, 5, "digest invalid: provided digest did not match uploaded content")
    with pytest.raises(BackendError, match="could not push"):
        backend.push("127.0.0.1:5000/app:tag", RegistryAccess(tls_verify=False))
    assert pushes(tmp_path) == 3
