"""Reading a JSON build report back, with the checks werf's LoadBuildReportFromFile makes (werf-internals §7).

Decoding follows Go's encoding/json leniency where werf relies on it: an absent or null field keeps its
zero value and unknown fields are ignored; a value of the wrong JSON type is an error naming the field.
(Go also matches field names case-insensitively; exact names are required here.)
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from shipyard.errors import ShipyardError
from shipyard.opstats import OperationStats
from shipyard.report import (
    IMAGE_FIELDS,
    OPERATION_FIELDS,
    STAGE_FIELDS,
    BuildReport,
    FieldTable,
    ImageRecord,
    StageRecord,
    json_name,
)


class _DecodeError(Exception):
    """A report field has the wrong JSON type; the message names the field."""


def read_report(path: str | os.PathLike[str]) -> BuildReport:
    """Load a JSON report and check the fields werf requires (werf's LoadBuildReportFromFile)."""
    shown = os.fspath(path)
    try:
        document = json.loads(Path(shown).read_text(encoding="utf-8"))
    except OSError as err:
        raise ShipyardError(f"unable to read build report file {shown!r}: {err.strerror or err}") from err
    except ValueError as err:
        raise ShipyardError(f"unable to parse build report file {shown!r}: {err}") from err
    try:
        report = _report_from_json(document)
    except _DecodeError as err:
        raise ShipyardError(f"unable to parse build report file {shown!r}: {err}") from err
    problem = _first_validation_problem(report)
    if problem:
        raise ShipyardError(
            f"invalid build report file {shown!r}: {problem}",
            hint="pass a report written by `build --save-build-report` (JSON format)",
        )
    return report


def _report_from_json(document: object) -> BuildReport:
    root = _object(document, "report")
    runtime = _object(root.get("Runtime"), "Runtime")
    by_platform = _object(root.get("ImagesByPlatform"), "ImagesByPlatform")
    operations = _object(root.get("Operations"), "Operations")
    stage_cache = _object(root.get("StageCache"), "StageCache")
    return BuildReport(
        runtime_backend=_value(runtime.get("Backend"), "str", "Runtime.Backend"),
        in_container=_value(runtime.get("InContainer"), "bool", "Runtime.InContainer"),
        images=_images_from_json(root.get("Images"), "Images"),
        images_by_platform={
            name: _images_from_json(raw, f"ImagesByPlatform.{name}") for name, raw in by_platform.items()
        },
        operations={
            name: OperationStats(**_fields_from_json(raw, OPERATION_FIELDS, f"Operations.{name}"))
            for name, raw in operations.items()
        },
        stage_cache={name: _value(raw, "int", f"StageCache.{name}") for name, raw in stage_cache.items()},
    )


def _images_from_json(document: object, where: str) -> dict[str, ImageRecord]:
    return {name: _image_from_json(raw, f"{where}.{name}") for name, raw in _object(document, where).items()}


def _image_from_json(document: object, where: str) -> ImageRecord:
    values = _fields_from_json(document, IMAGE_FIELDS, where)
    stages = _object(document, where).get("Stages")
    if stages is None:
        stages = []
    if not isinstance(stages, list):
        raise _DecodeError(f"{where}.Stages: expected an array")
    values["stages"] = tuple(
        StageRecord(**_fields_from_json(raw, STAGE_FIELDS, f"{where}.Stages[{index}]"))
        for index, raw in enumerate(stages)
    )
    return ImageRecord(**values)


def _fields_from_json(document: object, table: FieldTable, where: str) -> dict[str, Any]:
    source = _object(document, where)
    return {attr: _value(source.get(name), kind, f"{where}.{name}") for attr, name, kind in table}


def _object(document: object, where: str) -> dict[str, Any]:
    if document is None:  # Go leaves a field at its zero value for null or absent
        return {}
    if not isinstance(document, dict):
        raise _DecodeError(f"{where}: expected an object")
    return document


_ZERO: dict[str, Any] = {"str": "", "int": 0, "bool": False, "float": 0.0, "seconds": 0.0}
_EXPECTED = {
    "str": "a string",
    "int": "an integer",
    "bool": "true or false",
    "float": "a number",
    "seconds": 'a string of seconds such as "1.25"',
}


def _value(raw: object, kind: str, where: str) -> Any:
    if raw is None:
        return _ZERO[kind]
    if kind == "str" and isinstance(raw, str):
        return raw
    if kind == "bool" and isinstance(raw, bool):
        return raw
    if kind == "int" and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind == "float" and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if kind == "seconds" and isinstance(raw, str):
        with contextlib.suppress(ValueError):
            return float(raw)
    raise _DecodeError(f"{where}: expected {_EXPECTED[kind]}, got {json.dumps(raw)[:60]}")


def _first_validation_problem(report: BuildReport) -> str:
    if not report.images:
        return "build report contains no images"
    for name, image in sorted(report.images.items()):
        if problem := _image_problem(name, image):
            return problem
    for name, by_platform in sorted(report.images_by_platform.items()):
        for platform, image in sorted(by_platform.items()):
            if problem := _image_problem(f"{name}[{platform}]", image):
                return problem
    return ""


_REQUIRED_IMAGE_FIELDS = (
    "werf_image_name",
    "docker_image_name",
    "docker_repo",
    "docker_tag",
    "docker_image_id",
)
_REQUIRED_STAGE_FIELDS = ("docker_image_name", "docker_image_id")


def _image_problem(name: str, image: ImageRecord) -> str:
    # werf only warns about an empty DockerImageDigest (expected with local storage), so it is not checked.
    for attr in _REQUIRED_IMAGE_FIELDS:
        if not getattr(image, attr):
            return f"image {name!r} has empty {json_name(attr)}"
    for index, stage in enumerate(image.stages):
        if not stage.name:
            return f"image {name!r} stage #{index} has empty Name"
        for attr in _REQUIRED_STAGE_FIELDS:
            if not getattr(stage, attr):
                return f"image {name!r} stage {stage.name!r} has empty {json_name(attr)}"
    return ""
