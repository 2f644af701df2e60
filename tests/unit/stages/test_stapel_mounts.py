"""werf `mount:` labels and host directories (pkg/build/stage/base.go)."""

from __future__ import annotations

from pathlib import Path

from shipyard.config.model import Mount
from shipyard.slug import limited_slug
from shipyard.stages.stapel_mounts import mount_labels, mount_points, mount_sources

MOUNTS = (
    Mount(to="/tmp/a", type="tmp_dir"),
    Mount(to="/tmp/b/", type="tmp_dir"),
    Mount(to="/root/.cache", type="build_dir"),
    Mount(to="/root/.npm", type="custom_dir", from_path="/home/ci/.npm"),
    Mount(to="/usr/share/npm", type="custom_dir", from_path="/home/ci/.npm/"),
)


def test_labels_join_mount_points_by_type_and_name_custom_dirs_by_their_path() -> None:
    assert mount_labels(MOUNTS) == {
        "werf-mount-type-tmp-dir": "/tmp/a;/tmp/b",
        "werf-mount-type-build-dir": "/root/.cache",
        "werf-mount-type-custom-dir---home--ci--.npm": "/root/.npm;/usr/share/npm",
    }


def test_no_mounts_no_labels() -> None:
    assert mount_labels(()) == {}


def test_mount_points_of_the_previous_stage_come_first_and_are_not_repeated() -> None:
    inherited = {"werf-mount-type-tmp-dir": "/old;/tmp/a;;", "werf": "proj",
                 "werf-mount-type-custom-dir---srv--data": "/data"}
    assert mount_labels(MOUNTS[:1], inherited) == {
        "werf-mount-type-tmp-dir": "/old;/tmp/a",
        "werf-mount-type-custom-dir---srv--data": "/data",
    }
    assert mount_points((), inherited)[("custom_dir", "/srv/data")] == ["/data"]


def test_sources_follow_werfs_layout_and_are_created(tmp_path: Path) -> None:
    mounts = (*MOUNTS[:3], Mount(to="/data", type="custom_dir", from_path="relative/dir"))
    sources = mount_sources(mounts, project="proj", home=tmp_path / "home", project_dir=tmp_path / "project",
                            tmp_root=tmp_path / "tmp")
    assert sources == [
        (tmp_path / "tmp" / "mount" / limited_slug("/tmp/a"), "/tmp/a"),
        (tmp_path / "tmp" / "mount" / limited_slug("/tmp/b"), "/tmp/b"),
        (tmp_path / "home" / "shared_context" / "mounts" / "projects" / "proj" / limited_slug("/root/.cache"),
         "/root/.cache"),
        (tmp_path / "project" / "relative" / "dir", "/data"),
    ]
    assert all(host.is_dir() for host, _ in sources)


def test_an_absolute_from_path_is_used_as_it_is(tmp_path: Path) -> None:
    mounts = (Mount(to="/x", type="custom_dir", from_path=str(tmp_path / "abs")),)
    sources = mount_sources(mounts, project="p", home=tmp_path, project_dir=Path("/nonexistent"),
                            tmp_root=tmp_path)
    assert sources == [(tmp_path / "abs", "/x")]
