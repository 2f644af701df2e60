"""All terminal output. Commands hand over plain data; this module decides how it looks."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from shipyard.stages.model import PlannedImage


def warn(message: str) -> None:
    sys.stderr.write(f"Warning: {message}\n")


def print_rendered(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def print_plan(project: str, commit: str, images: Sequence[PlannedImage], *, debug_digest: bool) -> None:
    write = sys.stdout.write
    write(f"Project {project} at commit {commit[:12]}\n")
    for image in images:
        kind = "final" if image.final else "intermediate"
        write(f"\nimage {image.name or '~'} [{image.platform}] ({image.config_type}, {kind})\n")
        if image.not_supported:
            write(f"  (no digests: {image.not_supported})\n")
        for stage in image.stages:
            write(f"  {stage.name:<24} {stage.digest}\n")
            if debug_digest:
                for number, value in enumerate(stage.digest_inputs):
                    write(f"    digest arg {number}: {value}\n")
                for number, line in enumerate(stage.dependency_inputs):
                    write(f"    dependency {number}: {line}\n")


def print_plan_json(project: str, commit: str, images: Sequence[PlannedImage]) -> None:
    document = {
        "project": project,
        "commit": commit,
        "images": [
            {
                "name": image.name,
                "platform": image.platform,
                "configType": image.config_type,
                "final": image.final,
                "notSupported": image.not_supported,
                "stages": [{"name": stage.name, "digest": stage.digest} for stage in image.stages],
            }
            for image in images
        ],
    }
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")
