"""All terminal output. Commands hand over plain data; this module decides how it looks."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence

from shipyard.build import BuildEvents, ImageOutcome
from shipyard.errors import ShipyardError
from shipyard.stages.model import PlannedImage
from shipyard.storage.description import StageDescription


def warn(message: str) -> None:
    sys.stderr.write(f"Warning: {message}\n")


def print_rendered(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def print_plan(project: str, commit: str, images: Sequence[PlannedImage], stored: Sequence[str | None],
               stored_stages: Sequence[Collection[str]], *, debug_digest: bool) -> None:
    write = sys.stdout.write
    write(f"Project {project} at commit {commit[:12]}\n")
    for image, stored_name, found in zip(images, stored, stored_stages, strict=True):
        kind = "final" if image.final else "intermediate"
        write(f"\nimage {image.name or '~'} [{image.platform}] ({image.config_type}, {kind})\n")
        if image.not_supported:
            write(f"  (no digests: {image.not_supported})\n")
        for stage in image.stages:
            state = "in storage" if stage.name in found else "to build"
            write(f"  {stage.name:<24} {stage.digest}  {state}\n")
            if debug_digest:
                for number, value in enumerate(stage.digest_inputs):
                    write(f"    digest arg {number}: {value}\n")
                for number, line in enumerate(stage.dependency_inputs):
                    write(f"    dependency {number}: {line}\n")
        if stored_name:
            write(f"  final tag: {stored_name}\n")


def print_plan_json(project: str, commit: str, images: Sequence[PlannedImage],
                    stored: Sequence[str | None], stored_stages: Sequence[Collection[str]]) -> None:
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
                "stages": [{"name": stage.name, "digest": stage.digest, "stored": stage.name in found}
                           for stage in image.stages],
                "finalImageName": stored_name or "",
            }
            for image, stored_name, found in zip(images, stored, stored_stages, strict=True)
        ],
    }
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")


def stage_label(image: PlannedImage) -> str:
    stage = image.last_stage
    platform = f" [{image.platform}]" if image.platform != "linux/amd64" else ""
    return f"{image.name or '~'}{platform}" + (f"/{stage.name}" if stage else "")


_OUTPUT_LOCK = threading.Lock()


def _line(text: str) -> None:
    """One whole line per write: images build in parallel threads and their lines must not interleave."""
    with _OUTPUT_LOCK:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


class TerminalBuildEvents(BuildEvents):
    """One line per stage event, prefixed with the image, as CI logs want them. The backend's own output is
    kept in a log file per image (and its last lines come with a failure) instead of flooding the log."""

    def write(self, text: str) -> None:
        _line(text)

    def reused(self, image: PlannedImage, stage: StageDescription, seconds: float) -> None:
        self.write(f"{stage_label(image)}: Use previously built image {stage.image_name} ({seconds:.2f}s)")

    def building(self, image: PlannedImage, digest: str) -> None:
        self.write(f"{stage_label(image)}: Building stage (digest {digest})")

    def built(self, image: PlannedImage, stage: StageDescription, seconds: float) -> None:
        self.write(f"{stage_label(image)}: Built and published {stage.image_name} ({seconds:.2f}s)")

    def discarded(self, image: PlannedImage, stage: StageDescription) -> None:
        self.write(f"{stage_label(image)}: Discarding newly built image: another builder published "
                   f"{stage.image_name} first")

    def waiting_for_lock(self, image: PlannedImage, lock_name: str) -> None:
        self.write(f"{stage_label(image)}: Waiting for lock {lock_name}")

    def warning(self, image: PlannedImage, message: str) -> None:
        self.write(f"{stage_label(image)}: Warning: {message}")

    def command_output(self, image: PlannedImage, line: str) -> None:
        self.write(f"{stage_label(image)} │ {line}")

    def failed(self, image: PlannedImage, error: Exception) -> None:
        message = error.message if isinstance(error, ShipyardError) else f"{type(error).__name__}: {error}"
        self.write(f"{stage_label(image)}: FAILED: {message}")


@contextlib.contextmanager
def build_events() -> Iterator[TerminalBuildEvents]:
    """A live view on a terminal, plain lines otherwise (CI, pipes)."""
    if not sys.stdout.isatty():
        yield TerminalBuildEvents()
        return
    from shipyard.progress import LiveBuildEvents

    with LiveBuildEvents() as events:
        yield events


def print_concurrent_plan(sets: Sequence[Sequence[tuple[str, str]]], finals: Mapping[str, bool],
                          limit: int) -> None:
    """werf's block, so users recognise it: which images may build together (a dependant still starts as
    soon as its own dependencies are done, not when the whole previous set is)."""
    bound = f"no more than {limit} images" if limit > 0 else "no limit on images"
    platforms = {platform for image_set in sets for _, platform in image_set}
    lines = [f"Concurrent builds plan ({bound} at the same time)"]
    for number, image_set in enumerate(sets):
        lines.append(f"Set #{number}:")
        for index, (name, platform) in enumerate(image_set, start=1):
            prefix = "🛳️  " if finals.get(name, True) else "🏗️  "
            shown = f" [{platform}]" if len(platforms) > 1 or platform != "linux/amd64" else ""
            lines.append(f"- {prefix}({index}/{len(image_set)}) image {name or '~'}{shown}")
    sys.stdout.write("\n".join(lines) + "\n\n")
    sys.stdout.flush()


def print_build_summary(outcomes: Sequence[ImageOutcome]) -> None:
    print("\nBuild summary", flush=True)
    for outcome in outcomes:
        state = "built" if outcome.rebuilt else "reused"
        print(f"  {outcome.image.name or '~'}: {outcome.stage.image_name} ({state}, "
              f"{outcome.build_seconds:.2f}s)", flush=True)
