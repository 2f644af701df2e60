"""buildah's output made into shipyard values: names without buildah's `localhost/`, `buildah inspect` JSON
as a LocalImage, logrus lines made readable, and hints for its error messages. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from shipyard.backends.base import LocalImage

LOCAL_PREFIX = "localhost/"  # buildah's registry part for short names ("proj:tag" is "localhost/proj:tag")
_RFC3339 = re.compile(
    r"(?P<seconds>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(?P<fraction>\d+))?(?P<zone>Z|[+-]\d\d:\d\d)")
_LOGRUS = re.compile(r'time="[^"]*" level=(?P<level>\w+) msg="(?P<message>(?:[^"\\]|\\.)*)"(?P<rest>.*)')

_UNREACHABLE = ("connection refused", "no such host", "i/o timeout", "network is unreachable")
_NOT_FOUND = ("manifest unknown", "name unknown", "repository name not known")
_FROM_HINT = ("is the FROM image in a registry shipyard can reach? Use werf.yaml `args` (an ARG in the FROM "
              "line) to point it at one, e.g. a loopback registry")
# (any of these texts in the output, hint); the first match wins. A failed instruction comes before the
# registry entries: its own output (curl, a package manager) may mention them.
_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Unknown instruction",),
     "check the instruction's spelling; buildah 1.28 cannot build heredocs (RUN <<EOF …), which need "
     "buildah >= 1.33: write those commands inline"),
    (("building at STEP",), "an instruction of the Dockerfile failed; its last output lines are shown above"),
    (("server gave HTTP response to HTTPS client",),
     "the registry speaks plain HTTP: pass --insecure-registry (WERF_INSECURE_REGISTRY=1)"),
    (("x509:",),
     "the registry's TLS certificate is not trusted: put its CA in a certificate directory, or pass "
     "--skip-tls-verify-registry"),
    (("unauthorized", "authentication required", "denied:"),
     "log in first (shipyard cr login REGISTRY) or check the credentials in the auth file"),
    (("no image found in manifest list", "no match for platform"),
     "the image has no variant for the requested platform"),
    (("no space left on device",), "free disk space where the buildah store lives"),
)


def normalize_name(name: str) -> str:
    """The name as the caller wrote it: buildah's "localhost/proj:tag" is "proj:tag"."""
    return name.removeprefix(LOCAL_PREFIX)


def name_repository(name: str) -> str:
    """The repository of an image name: "proj:tag" → "proj", "host:5000/a/b@sha256:…" → "host:5000/a/b"."""
    name = name.split("@", 1)[0]
    colon = name.rfind(":")
    return name[:colon] if colon > name.rfind("/") else name


def local_image(inspected: Mapping[str, Any], *, image_id: str, names: Sequence[str]) -> LocalImage:
    """A LocalImage from `buildah inspect --type image` JSON (without names: `buildah images` has those).

    `size` is the sum of the layer sizes in the stored manifest: exact uncompressed bytes for images built
    here, the compressed sizes for images pulled from a registry (buildah keeps their manifest as is).
    """
    image_config = inspected.get("OCIv1") or inspected.get("Docker") or {}
    labels = (image_config.get("config") or {}).get("Labels") or {}
    return LocalImage(
        image_id=image_id,
        names=tuple(names),
        labels={str(key): str(value) for key, value in labels.items()},
        created_unix_nanos=unix_nanos(image_config.get("created") or "1970-01-01T00:00:00Z"),
        size=manifest_size(inspected.get("Manifest") or "{}"),
    )


def manifest_size(manifest: str) -> int:
    layers = json.loads(manifest).get("layers") or []
    return sum(int(layer.get("size", 0)) for layer in layers)


def unix_nanos(timestamp: str) -> int:
    """An RFC 3339 time with up to nanosecond precision (Go's time.RFC3339Nano) as unix nanoseconds."""
    match = _RFC3339.fullmatch(timestamp.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {timestamp!r}")
    zone = "+00:00" if match["zone"] == "Z" else match["zone"]
    seconds = int(datetime.fromisoformat(match["seconds"] + zone).timestamp())
    fraction = (match["fraction"] or "")[:9].ljust(9, "0")
    return seconds * 1_000_000_000 + int(fraction)


def readable_lines(lines: Iterable[str]) -> Iterator[str]:
    """buildah's logrus lines `time="…" level=warning msg="…"` as `warning: …`; other lines unchanged."""
    for line in lines:
        match = _LOGRUS.fullmatch(line)
        if match is None:
            yield line
            continue
        message = match["message"].replace('\\"', '"').replace("\\\\", "\\")
        yield f"{match['level']}: {message}{match['rest']}"


def failure_hint(output: Sequence[str], *, building: bool = False) -> str | None:
    """What the user can do about a buildah failure, judged from its last output lines."""
    text = "\n".join(output)
    for needles, hint in _HINTS:
        if any(needle in text for needle in needles):
            return hint
    if any(needle in text for needle in _NOT_FOUND):
        return _FROM_HINT if building else "the image is not in that registry: check the name and the tag"
    if any(needle in text for needle in _UNREACHABLE):
        return _FROM_HINT if building else "is the registry running and reachable from this host?"
    return None
