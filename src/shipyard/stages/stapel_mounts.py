"""Stapel `mount:` directives: the service labels a stage records and the host directories its commands see.

werf (`pkg/build/stage/base.go`: `getServiceMounts`/`getCustomMounts`, `addServiceMountsLabels`,
`addServiceMountsVolumes`, `addCustomMountLabels`, `addCustomMountVolumes`):

* mount points come from the previous built stage's labels first, then from the config (`path.Clean(to)`),
  without duplicates and in that order; so a mount declared once keeps being mounted (and labelled) in every
  later stage, and in images built FROM an image that carries the labels;
* labels: `werf-mount-type-tmp-dir` / `werf-mount-type-build-dir` = the mount points joined by `;`, and
  `werf-mount-type-custom-dir-<fromPath>` with every `/` of `filepath.Clean(fromPath)` replaced by `--`;
* host directories (created when missing): tmp_dir → `<image tmp dir>/mount/<LimitedSlug(to)>` (werf's image
  tmp dir lives for one build and is shared by the stages of that image), build_dir →
  `~/.werf/shared_context/mounts/projects/<project>/<LimitedSlug(to)>`, fromPath → the path itself (`~`
  expanded, made absolute).

Everything here is pure except `mount_sources`, which creates the host directories it returns.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from shipyard.config.model import Mount
from shipyard.slug import limited_slug

TMP_DIR_LABEL = "werf-mount-type-tmp-dir"
BUILD_DIR_LABEL = "werf-mount-type-build-dir"
CUSTOM_DIR_LABEL_PREFIX = "werf-mount-type-custom-dir-"
_SERVICE_LABELS = {"tmp_dir": TMP_DIR_LABEL, "build_dir": BUILD_DIR_LABEL}


def mount_points(mounts: Sequence[Mount], inherited_labels: Mapping[str, str] | None = None,
                 ) -> dict[tuple[str, str], list[str]]:
    """(type, fromPath) → mount points: ("tmp_dir", ""), ("build_dir", ""), ("custom_dir", cleaned fromPath).

    Points recorded in `inherited_labels` (the previous built stage's labels) come first, as in werf.
    """
    points: dict[tuple[str, str], list[str]] = {}
    for key, value in (inherited_labels or {}).items():
        group = _group_of_label(key)
        if group is not None:
            points[group] = _unique(point for point in value.split(";") if point)
    for mount in mounts:
        custom = mount.type not in _SERVICE_LABELS
        group = ("custom_dir", _go_clean(mount.from_path)) if custom else (mount.type, "")
        points[group] = _unique([*points.get(group, []), _go_clean(mount.to)])
    return points


def mount_labels(mounts: Sequence[Mount],
                 inherited_labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """The `werf-mount-type-*` labels of a stage with `mounts` on top of an image with `inherited_labels`."""
    labels: dict[str, str] = {}
    for (kind, from_path), points in mount_points(mounts, inherited_labels).items():
        labels[_label_of_group(kind, from_path)] = ";".join(points)
    return labels


def mount_sources(mounts: Sequence[Mount], *, project: str, home: Path, project_dir: Path, tmp_root: Path,
                  inherited_labels: Mapping[str, str] | None = None) -> list[tuple[Path, str]]:
    """(host directory, container path) for every mount point, each host directory created if missing.

    `home` stands for werf's `~/.werf`; `tmp_root` for werf's per-build tmp dir of the image; a relative
    `fromPath` is taken relative to `project_dir`.
    """
    sources: list[tuple[Path, str]] = []
    for (kind, from_path), points in mount_points(mounts, inherited_labels).items():
        for point in points:
            target = posixpath.join("/", point)
            host = _host_directory(kind, from_path, target, project=project, home=home,
                                   project_dir=project_dir, tmp_root=tmp_root)
            host.mkdir(parents=True, exist_ok=True)
            sources.append((host, target))
    return sources


def _host_directory(kind: str, from_path: str, target: str, *, project: str, home: Path, project_dir: Path,
                    tmp_root: Path) -> Path:
    if kind == "tmp_dir":
        return tmp_root / "mount" / limited_slug(target)
    if kind == "build_dir":
        return home / "shared_context" / "mounts" / "projects" / project / limited_slug(target)
    return project_dir / Path(from_path).expanduser()  # an absolute path replaces project_dir


def _group_of_label(key: str) -> tuple[str, str] | None:
    for kind, label in _SERVICE_LABELS.items():
        if key == label:
            return kind, ""
    if key.startswith(CUSTOM_DIR_LABEL_PREFIX):
        return "custom_dir", key[len(CUSTOM_DIR_LABEL_PREFIX):].replace("--", "/")
    return None


def _label_of_group(kind: str, from_path: str) -> str:
    if kind in _SERVICE_LABELS:
        return _SERVICE_LABELS[kind]
    return CUSTOM_DIR_LABEL_PREFIX + from_path.replace("/", "--")


def _unique(points: Iterable[str]) -> list[str]:
    result: list[str] = []
    for point in points:
        if point not in result:
            result.append(point)
    return result


def _go_clean(path: str) -> str:
    """Go path.Clean ("" → ".", "//a" → "/a")."""
    cleaned = posixpath.normpath(path) if path else "."
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned
