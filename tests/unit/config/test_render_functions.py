"""werf's template data and functions in isolation: env defaults and gating, commit date format."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from shipyard.config.giterminism import parse_giterminism_config
from shipyard.config.project_files import Mode, ProjectFiles
from shipyard.config.render import FunctionFailures, env_function, go_time_string
from shipyard.config.template import GoError
from shipyard.errors import GiterminismError


class EmptyTree:
    def read(self, path: str) -> bytes | None:
        return None

    def uncommitted(self, paths: Sequence[str]) -> list[str]:
        return []

    def list_files(self, scope: str = "") -> list[str]:
        return []

    def exists(self, path: str) -> bool:
        return False

    def is_dir(self, path: str) -> bool:
        return False


def files(mode: Mode, allowed: str = "[]") -> ProjectFiles:
    giterminism = parse_giterminism_config(
        f"giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: {allowed}\n")
    return ProjectFiles(EmptyTree(), Path("/nonexistent"), mode, giterminism)


def test_env_in_loose_mode_uses_value_default_or_empty() -> None:
    env = env_function(files("loose"), {"SET": "v", "EMPTY": ""}, FunctionFailures())
    assert env("SET") == "v"
    assert env("EMPTY", "fallback") == "fallback"
    assert env("MISSING", "fallback") == "fallback"
    assert env("MISSING") == ""


def test_env_in_strict_mode_needs_an_allowance_and_a_value() -> None:
    failures = FunctionFailures()
    environ = {"APP_VERSION": "1", "CI_JOB": "7"}
    env = env_function(files("strict", "[APP_VERSION, /CI_.*/]"), environ, failures)
    assert env("APP_VERSION") == "1" and env("CI_JOB") == "7"
    with pytest.raises(GoError, match="giterminism does not allow"):
        env("HOME")
    assert isinstance(failures.first, GiterminismError)
    with pytest.raises(GoError, match="not set"):
        env("CI_MISSING")
    assert env("CI_MISSING", "d") == "d"


def test_commit_date_is_go_time_string_in_utc() -> None:
    assert go_time_string(0) == "1970-01-01 00:00:00 +0000 UTC"
    assert go_time_string(1795381061) == "2026-11-22 20:57:41 +0000 UTC"
