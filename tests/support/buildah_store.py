"""Helpers for tests that drive a private buildah store (the conftest `buildah_store` fixture)."""

from __future__ import annotations

from typing import Any

Fixture = Any  # conftest's BuildahStore (conftest is not importable by name)


def run_in_image(store: Fixture, image: str, script: str) -> str:
    container = store.run("from", "--quiet", image).stdout.strip()
    try:
        return str(store.run("run", container, "--", "/bin/sh", "-c", script).stdout)
    finally:
        store.run("rm", container)
