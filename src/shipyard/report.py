"""The build report (werf-internals §7): records, werf's JSON and envfile texts, the atomic write.

The JSON is byte-for-byte what werf writes (Go's `json.MarshalIndent(report, "", "\\t")` + "\\n": struct
fields in werf's order, map keys sorted, Go's string escaping and float formatting), so CI scripts such as
`jq '.Images | to_entries | …'` keep working. Deliberate differences from werf:
* envfile images are sorted by name (werf iterates a Go map: random order), so the file is stable;
* the file is replaced atomically (temp file + fsync + rename), never left half-written;
* werf's `StagesSkipped` (its anchor-reuse shortcut) has no counterpart here and is never written.
Reading a report back lives in report_read.

Secrets never appear in a report: it carries only image names, tags, ids, digests, sizes, timings, commit ids
and operation counters, never build args, secrets, credentials or environment values, so it is safe to keep
as a CI artifact.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple

from shipyard.errors import ShipyardError
from shipyard.opstats import OperationStats

ReportFormat = Literal["json", "envfile"]
DEFAULT_REPORT_PATH = ".werf-build-report.json"


# Field declaration order is werf's struct order, and each JSON name is the attribute in CamelCase
# (`docker_image_id` -> `DockerImageID`), so a record's JSON needs no second table to keep in step.
_AS_SECONDS_STRING: Mapping[str, str] = {"kind": "seconds"}  # a float written as werf's "%.2f" string


@dataclass(frozen=True, kw_only=True)
class StageRecord:
    """One stage of an image as published (werf's ReportStageRecord)."""

    name: str  # werf's stage name: "dockerfile", "FROM", "install"; "<name> (<platform>)" in manifest lists
    docker_image_name: str  # "REPO:DIGEST-TS"
    docker_tag: str  # "DIGEST-TS"
    docker_image_id: str  # config digest "sha256:…"
    docker_image_digest: str = ""  # manifest digest "sha256:…"; "" when unknown (local storage)
    created_at: int = 0  # image creation, unix nanoseconds
    size: int = 0  # sum of compressed layer sizes
    source_type: str = ""  # "", "secondary", "registry", "repo", "cache-repo"
    base_image_pulled: bool = False
    rebuilt: bool = False
    build_time: float = field(default=0.0, metadata=_AS_SECONDS_STRING)
    commit: str = ""  # werf-project-repo-commit label


@dataclass(frozen=True, kw_only=True)
class ImageRecord:
    """One werf image (werf's ReportImageRecord): its last non-empty stage, then every stage."""

    werf_image_name: str
    config_type: str = ""  # "stapel" | "dockerfile" | "staged" | "unknown"; "" for manifest lists
    docker_repo: str
    docker_tag: str
    docker_image_id: str
    docker_image_digest: str = ""
    docker_image_name: str
    target_platform: str = ""  # "" for a manifest list
    rebuilt: bool = False
    final: bool = True
    size: int = 0
    build_time: float = field(default=0.0, metadata=_AS_SECONDS_STRING)
    commit: str = ""
    stages: tuple[StageRecord, ...] = ()  # werf: `json:"Stages,omitempty"`


@dataclass(frozen=True)
class BuildReport:
    runtime_backend: str  # "buildah" | "docker"
    in_container: bool = False
    images: Mapping[str, ImageRecord] = field(default_factory=dict)
    images_by_platform: Mapping[str, Mapping[str, ImageRecord]] = field(default_factory=dict)
    operations: Mapping[str, OperationStats] = field(default_factory=dict)  # omitted from JSON when empty
    stage_cache: Mapping[str, int] = field(default_factory=dict)  # omitted from JSON when empty


def runtime_in_container(environ: Mapping[str, str]) -> bool:
    """werf's Runtime.InContainer: true only when WERF_CONTAINERIZED is exactly "yes"."""
    return environ.get("WERF_CONTAINERIZED") == "yes"


def json_name(attribute: str) -> str:
    """werf's JSON name of a record attribute: `docker_image_id` -> `DockerImageID`."""
    return "".join("ID" if word == "id" else word.capitalize() for word in attribute.split("_"))


FieldTable = tuple[tuple[str, str, str], ...]


def _field_table(record_type: type) -> FieldTable:
    """(attribute, werf's JSON name, kind) per scalar field; kind is the annotation or "seconds"."""
    return tuple(
        (each.name, json_name(each.name), each.metadata.get("kind", str(each.type)))
        for each in fields(record_type)
        if each.name != "stages"
    )


STAGE_FIELDS = _field_table(StageRecord)
IMAGE_FIELDS = _field_table(ImageRecord)
OPERATION_FIELDS = _field_table(OperationStats)


# --- JSON, as Go writes it ---------------------------------------------------------------------------------


def to_json(report: BuildReport) -> str:
    """The report exactly as werf's `json.MarshalIndent(report, "", "\\t")` plus a trailing newline."""
    document: dict[str, object] = {
        "Runtime": {"Backend": report.runtime_backend, "InContainer": report.in_container},
        "Images": _sorted_map(report.images, _image_to_json),
        "ImagesByPlatform": _sorted_map(
            report.images_by_platform, lambda by_platform: _sorted_map(by_platform, _image_to_json)
        ),
    }
    if report.operations:
        document["Operations"] = _sorted_map(
            report.operations, lambda s: _fields_to_json(s, OPERATION_FIELDS)
        )
    if report.stage_cache:
        document["StageCache"] = _sorted_map(report.stage_cache, lambda count: count)
    return _marshal_indent(document) + "\n"


def _sorted_map(mapping: Mapping[str, Any], convert: Callable[[Any], object]) -> dict[str, object]:
    # Go marshals map keys in byte order of their UTF-8 encoding, which is code point order.
    return {str(key): convert(mapping[key]) for key in sorted(mapping)}


def _image_to_json(image: ImageRecord) -> dict[str, object]:
    document = _fields_to_json(image, IMAGE_FIELDS)
    if image.stages:  # werf: `json:"Stages,omitempty"`
        document["Stages"] = [_fields_to_json(stage, STAGE_FIELDS) for stage in image.stages]
    return document


def _fields_to_json(record: object, table: FieldTable) -> dict[str, object]:
    document: dict[str, object] = {}
    for attr, name, kind in table:
        value = getattr(record, attr)
        document[name] = f"{value:.2f}" if kind == "seconds" else value
    return document


def _marshal_indent(value: object, depth: int = 0) -> str:
    if isinstance(value, dict | list):
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        if not value:
            return opening + closing
        inner = "\t" * (depth + 1)
        if isinstance(value, dict):
            items = [f"{inner}{_go_string(k)}: {_marshal_indent(v, depth + 1)}" for k, v in value.items()]
        else:
            items = [inner + _marshal_indent(v, depth + 1) for v in value]
        return opening + "\n" + ",\n".join(items) + "\n" + "\t" * depth + closing
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return _go_string(value)
    raise TypeError(f"cannot marshal {type(value).__name__}")


# Go's encoding/json escapes HTML-significant characters and the JS line separators too (escapeHTML=true).
_GO_ESCAPES = {
    '"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
}  # fmt: skip
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\<>&\u2028\u2029\ud800-\udfff]')


def _go_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _GO_ESCAPES:
        return _GO_ESCAPES[char]
    if char >= "\ud800":  # a lone surrogate is invalid UTF-8: Go writes the replacement character
        return "\\ufffd"
    return f"\\u{ord(char):04x}"


def _go_string(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_go_escape, text) + '"'


def _go_float(number: float) -> str:
    """A float64 as Go's encoding/json writes it: shortest digits; exponent outside [1e-6, 1e21)."""
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"JSON cannot represent {number}")
    magnitude = abs(number)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        # repr's exponent form matches Go's 'e' format; encoding/json then trims "e-07" to "e-7".
        return re.sub(r"e-0(\d)$", r"e-\1", repr(number))
    return format(Decimal(repr(number)).normalize(), "f")


# --- envfile -----------------------------------------------------------------------------------------------


def image_env_prefix(werf_image_name: str) -> str:
    """werf's `imageEnvPrefix`: "WERF_<NAME>_" with `/ - .` as `_`; a nameless image gets plain "WERF_"."""
    if not werf_image_name:
        return "WERF_"
    normalized = _go_upper(werf_image_name)
    for separator in "/-.":
        normalized = normalized.replace(separator, "_")
    return f"WERF_{normalized}_"


def _go_upper(text: str) -> str:
    # Go's strings.ToUpper maps rune by rune; Python's full case mapping may expand one ("ß" -> "SS").
    return "".join(upper if len(upper := char.upper()) == 1 else char for char in text)


def to_envfile(report: BuildReport) -> str:
    """werf's envfile lines for every image, images sorted by name, fields in werf's order."""
    lines: list[str] = []
    for name in sorted(report.images):
        image, prefix = report.images[name], image_env_prefix(name)
        lines += [
            f"{prefix}DOCKER_IMAGE_NAME={image.docker_image_name}",
            f"{prefix}DOCKER_IMAGE_ID={image.docker_image_id}",
            f"{prefix}DOCKER_IMAGE_DIGEST={image.docker_image_digest}",
            f"{prefix}DOCKER_REPO={image.docker_repo}",
            f"{prefix}DOCKER_TAG={image.docker_tag}",
            f"{prefix}WERF_IMAGE_NAME={image.werf_image_name}",
            f"{prefix}FINAL={'true' if image.final else 'false'}",
        ]
    return "".join(line + "\n" for line in lines)


def render_report(report: BuildReport, report_format: ReportFormat) -> str:
    return to_json(report) if report_format == "json" else to_envfile(report)


# --- where and how to write --------------------------------------------------------------------------------


class ReportTarget(NamedTuple):
    path: Path
    format: ReportFormat


def report_target(path: str | os.PathLike[str]) -> ReportTarget:
    """werf's --build-report-path rule: `.json` → JSON, `.env` → envfile, no extension → `+.json`, else error.

    The extension is Go's filepath.Ext, so a dot-file such as `.werf-build-report` has the extension
    `.werf-build-report` and is rejected, as werf rejects it.
    """
    text = os.fspath(path)
    extension = _go_extension(text)
    if extension == ".json":
        return ReportTarget(Path(text), "json")
    if extension == ".env":
        return ReportTarget(Path(text), "envfile")
    if extension == "":
        return ReportTarget(Path(text + ".json"), "json")
    raise ShipyardError(
        f"invalid build report path {text!r}: unknown extension {extension!r}",
        hint="name the file *.json (JSON) or *.env (envfile); without an extension, .json is appended",
    )


def report_format(path: str | os.PathLike[str]) -> ReportFormat:
    return report_target(path).format


def _go_extension(path: str) -> str:
    for index in range(len(path) - 1, -1, -1):
        if path[index] == "/":
            break
        if path[index] == ".":
            return path[index:]
    return ""


def write_report(report: BuildReport, path: str | os.PathLike[str]) -> Path:
    """Write the report in the format its path names; return the path written (maybe with `.json` added).

    Readers see either the previous file or the complete new one: the text goes to a temp file in the same
    directory, is fsynced, then renamed over the target.
    """
    target = report_target(path)
    _write_atomically(target.path, render_report(report, target.format).encode())
    return target.path


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise _write_error(path, err) from err
    replaced = False
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fchmod(temp.fileno(), 0o644)  # mkstemp creates 0600; werf writes 0644
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
        replaced = True
    except OSError as err:
        raise _write_error(path, err) from err
    finally:
        if not replaced:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; some filesystems refuse to open or fsync a directory: best effort.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_error(path: Path, err: OSError) -> ShipyardError:
    return ShipyardError(
        f"unable to write report to {path}: {err.strerror or err}",
        hint="check that the directory of --build-report-path exists and is writable",
    )
