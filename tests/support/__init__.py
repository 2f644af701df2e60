"""Shared helpers for tests: tool requirements that skip locally and fail in CI."""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_tools(*tools: str) -> None:
    """Skip the calling test when a system tool is missing; under CI=true, fail instead."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if not missing:
        return
    message = f"missing system tool(s): {', '.join(missing)} (install them with scripts/setup)"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)
