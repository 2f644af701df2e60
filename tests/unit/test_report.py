"""The build report: werf's exact JSON and envfile bytes, --build-report-path, atomic writes, reading back."""

# ruff: noqa: E501 (golden texts keep werf's long image names on one line)

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from shipyard.errors import ShipyardError
from shipyard.opstats import OperationStats
from shipyard.report import (
    BuildReport,
    ImageRecord,
    StageRecord,
    image_env_prefix,
    report_format,
    report_target,
    runtime_in_container,
    to_envfile,
    to_json,
    write_report,
)
from shipyard.report_read import read_report
from support import require_tools

REPO = "localhost:5000/demo-app"
BACKEND_TAG = "b94607bcb6e03a6ee07c8dc912739d6ab8ef2efc985227fa82d3de6f-1752510311968"
FROM_TAG = "6f40fd07cdb62e03d7238e1fccb3341379bcd677ff6d7575317f3783-1752501287209"
INSTALL_TAG = "079dfdd3f51a800c269cdfdd5e4febfcc1676b2c0d533f520255961c-1752501317353"
COMMIT = "4f0a4c2a6e2e3b8bd1f3f9a1c6d0f1e2a3b4c5d6"


def two_image_report() -> BuildReport:
    backend_stage = StageRecord(
        name="dockerfile",
        docker_image_name=f"{REPO}:{BACKEND_TAG}",
        docker_tag=BACKEND_TAG,
        docker_image_id="sha256:" + "a" * 64,
        docker_image_digest="sha256:" + "b" * 64,
        created_at=1752510311000000000,
        size=7340032,
        source_type="registry",
        base_image_pulled=True,
        rebuilt=True,
        build_time=3.5,
        commit=COMMIT,
    )
    from_stage = StageRecord(
        name="from",
        docker_image_name=f"{REPO}:{FROM_TAG}",
        docker_tag=FROM_TAG,
        docker_image_id="sha256:2ae3fbc31d2b5f0d7d105a74693ed14bec6b106ad43c660b9162dfa00d24d4d0",
        docker_image_digest="sha256:c4449ccfaee03e5b601290909e4d69178c40e39c9d2daf57d1fd74093beb4e10",
        created_at=1752501286000000000,
        size=20960798,
    )
    install_stage = StageRecord(
        name="install",
        docker_image_name=f"{REPO}:{INSTALL_TAG}",
        docker_tag=INSTALL_TAG,
        docker_image_id="sha256:9b3a32dfe5a4aa46d96547e3f8e678626f96741776d78656ea72cab7117612bf",
        docker_image_digest="sha256:54f564edebb6e0699dc0e43de4165488f86fbc76b0c89d88311d7cc06ae397f5",
        created_at=1752501316000000000,
        size=20960980,
        commit=COMMIT,
    )
    backend = ImageRecord(
        werf_image_name="backend",
        config_type="dockerfile",
        docker_repo=REPO,
        docker_tag=BACKEND_TAG,
        docker_image_id=backend_stage.docker_image_id,
        docker_image_digest=backend_stage.docker_image_digest,
        docker_image_name=backend_stage.docker_image_name,
        target_platform="linux/amd64",
        rebuilt=True,
        size=7340032,
        build_time=3.5,
        commit=COMMIT,
        stages=(backend_stage,),
    )
    frontend = ImageRecord(
        werf_image_name="frontend",
        config_type="stapel",
        docker_repo=REPO,
        docker_tag=INSTALL_TAG,
        docker_image_id=install_stage.docker_image_id,
        docker_image_digest=install_stage.docker_image_digest,
        docker_image_name=install_stage.docker_image_name,
        target_platform="linux/amd64",
        size=20960980,
        commit=COMMIT,
        stages=(from_stage, install_stage),
    )
    return BuildReport(
        runtime_backend="buildah",
        images={"frontend": frontend, "backend": backend},  # unsorted on purpose
        operations={
            "stage lock wait (storage)": OperationStats(1, 0.25, 0.25, 0.25, 0.25),
            "image push": OperationStats(2, 3.0, 2.0, 1.5, 2.0),
        },
        stage_cache={"found in repo stages storage": 2, "built": 1},
    )


# Written by hand from werf's structs (pkg/build/build_report.go) and Go's json.MarshalIndent rules.
GOLDEN_JSON = """{
	"Runtime": {
		"Backend": "buildah",
		"InContainer": false
	},
	"Images": {
		"backend": {
			"WerfImageName": "backend",
			"ConfigType": "dockerfile",
			"DockerRepo": "localhost:5000/demo-app",
			"DockerTag": "b94607bcb6e03a6ee07c8dc912739d6ab8ef2efc985227fa82d3de6f-1752510311968",
			"DockerImageID": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			"DockerImageDigest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
			"DockerImageName": "localhost:5000/demo-app:b94607bcb6e03a6ee07c8dc912739d6ab8ef2efc985227fa82d3de6f-1752510311968",
			"TargetPlatform": "linux/amd64",
			"Rebuilt": true,
			"Final": true,
			"Size": 7340032,
			"BuildTime": "3.50",
			"Commit": "4f0a4c2a6e2e3b8bd1f3f9a1c6d0f1e2a3b4c5d6",
			"Stages": [
				{
					"Name": "dockerfile",
					"DockerImageName": "localhost:5000/demo-app:b94607bcb6e03a6ee07c8dc912739d6ab8ef2efc985227fa82d3de6f-1752510311968",
					"DockerTag": "b94607bcb6e03a6ee07c8dc912739d6ab8ef2efc985227fa82d3de6f-1752510311968",
					"DockerImageID": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
					"DockerImageDigest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
					"CreatedAt": 1752510311000000000,
					"Size": 7340032,
					"SourceType": "registry",
					"BaseImagePulled": true,
					"Rebuilt": true,
					"BuildTime": "3.50",
					"Commit": "4f0a4c2a6e2e3b8bd1f3f9a1c6d0f1e2a3b4c5d6"
				}
			]
		},
		"frontend": {
			"WerfImageName": "frontend",
			"ConfigType": "stapel",
			"DockerRepo": "localhost:5000/demo-app",
			"DockerTag": "079dfdd3f51a800c269cdfdd5e4febfcc1676b2c0d533f520255961c-1752501317353",
			"DockerImageID": "sha256:9b3a32dfe5a4aa46d96547e3f8e678626f96741776d78656ea72cab7117612bf",
			"DockerImageDigest": "sha256:54f564edebb6e0699dc0e43de4165488f86fbc76b0c89d88311d7cc06ae397f5",
			"DockerImageName": "localhost:5000/demo-app:079dfdd3f51a800c269cdfdd5e4febfcc1676b2c0d533f520255961c-1752501317353",
			"TargetPlatform": "linux/amd64",
			"Rebuilt": false,
			"Final": true,
			"Size": 20960980,
			"BuildTime": "0.00",
			"Commit": "4f0a4c2a6e2e3b8bd1f3f9a1c6d0f1e2a3b4c5d6",
			"Stages": [
				{
					"Name": "from",
					"DockerImageName": "localhost:5000/demo-app:6f40fd07cdb62e03d7238e1fccb3341379bcd677ff6d7575317f3783-1752501287209",
					"DockerTag": "6f40fd07cdb62e03d7238e1fccb3341379bcd677ff6d7575317f3783-1752501287209",
					"DockerImageID": "sha256:2ae3fbc31d2b5f0d7d105a74693ed14bec6b106ad43c660b9162dfa00d24d4d0",
					"DockerImageDigest": "sha256:c4449ccfaee03e5b601290909e4d69178c40e39c9d2daf57d1fd74093beb4e10",
					"CreatedAt": 1752501286000000000,
					"Size": 20960798,
					"SourceType": "",
					"BaseImagePulled": false,
					"Rebuilt": false,
					"BuildTime": "0.00",
					"Commit": ""
				},
				{
					"Name": "install",
					"DockerImageName": "localhost:5000/demo-app:079dfdd3f51a800c269cdfdd5e4febfcc1676b2c0d533f520255961c-1752501317353",
					"DockerTag": "079dfdd3f51a800c269cdfdd5e4febfcc1676b2c0d533f520255961c-1752501317353",
					"DockerImageID": "sha256:9b3a32dfe5a4aa46d96547e3f8e678626f96741776d78656ea72cab7117612bf",
					"DockerImageDigest": "sha256:54f564edebb6e0699dc0e43de4165488f86fbc76b0c89d88311d7cc06ae397f5",
					"CreatedAt": 1752501316000000000,
					"Size": 20960980,
					"SourceType": "",
					"BaseImagePulled": false,
					"Rebuilt": false,
					"BuildTime": "0.00",
					"Commit": "4f0a4c2a6e2e3b8bd1f3f9a1c6d0f1e2a3b4c5d6"
				}
			]
		}
	},
	"ImagesByPlatform": {},
	"Operations": {
		"image push": {
			"Count": 2,
			"TotalTimeSeconds": 3,
			"WallTimeSeconds": 2,
			"AvgTimeSeconds": 1.5,
			"MaxTimeSeconds": 2
		},
		"stage lock wait (storage)": {
			"Count": 1,
			"TotalTimeSeconds": 0.25,
			"WallTimeSeconds": 0.25,
			"AvgTimeSeconds": 0.25,
			"MaxTimeSeconds": 0.25
		}
	},
	"StageCache": {
		"built": 1,
		"found in repo stages storage": 2
	}
}
"""

GOLDEN_ENVFILE = f"""\
WERF_BACKEND_DOCKER_IMAGE_NAME={REPO}:{BACKEND_TAG}
WERF_BACKEND_DOCKER_IMAGE_ID=sha256:{"a" * 64}
WERF_BACKEND_DOCKER_IMAGE_DIGEST=sha256:{"b" * 64}
WERF_BACKEND_DOCKER_REPO={REPO}
WERF_BACKEND_DOCKER_TAG={BACKEND_TAG}
WERF_BACKEND_WERF_IMAGE_NAME=backend
WERF_BACKEND_FINAL=true
WERF_FRONTEND_DOCKER_IMAGE_NAME={REPO}:{INSTALL_TAG}
WERF_FRONTEND_DOCKER_IMAGE_ID=sha256:9b3a32dfe5a4aa46d96547e3f8e678626f96741776d78656ea72cab7117612bf
WERF_FRONTEND_DOCKER_IMAGE_DIGEST=sha256:54f564edebb6e0699dc0e43de4165488f86fbc76b0c89d88311d7cc06ae397f5
WERF_FRONTEND_DOCKER_REPO={REPO}
WERF_FRONTEND_DOCKER_TAG={INSTALL_TAG}
WERF_FRONTEND_WERF_IMAGE_NAME=frontend
WERF_FRONTEND_FINAL=true
"""


def one_image_report(name: str = "app", **image_fields: Any) -> BuildReport:
    fields: dict[str, Any] = {
        "werf_image_name": name,
        "docker_repo": "registry.example.com/app",
        "docker_tag": "v1",
        "docker_image_id": "sha256:id",
        "docker_image_name": "registry.example.com/app:v1",
        **image_fields,
    }
    return BuildReport(runtime_backend="docker", images={name: ImageRecord(**fields)})


# --- JSON ---------------------------------------------------------------------------------------------------


def test_json_matches_werfs_bytes_for_two_images() -> None:
    assert to_json(two_image_report()) == GOLDEN_JSON


def test_operations_and_stage_cache_are_omitted_when_empty_and_images_by_platform_is_kept() -> None:
    text = to_json(BuildReport(runtime_backend="docker", in_container=True))
    assert text == '{\n\t"Runtime": {\n\t\t"Backend": "docker",\n\t\t"InContainer": true\n\t},\n' + (
        '\t"Images": {},\n\t"ImagesByPlatform": {}\n}\n'
    )


def test_stages_are_omitted_when_an_image_has_none() -> None:
    assert '"Stages"' not in to_json(one_image_report())


def test_images_by_platform_nests_sorted_platform_records() -> None:
    image = one_image_report().images["app"]
    report = BuildReport(
        runtime_backend="buildah", images_by_platform={"app": {"linux/arm64": image, "linux/amd64": image}}
    )
    document = json.loads(to_json(report))
    assert list(document["ImagesByPlatform"]["app"]) == ["linux/amd64", "linux/arm64"]


def test_strings_are_escaped_as_go_escapes_them() -> None:
    text = to_json(one_image_report(commit='<a&b> "q" \\ \n\t\b\f\x01 é \u2028'))
    assert '"Commit": "\\u003ca\\u0026b\\u003e \\"q\\" \\\\ \\n\\t\\b\\f\\u0001 é \\u2028"' in text


@pytest.mark.parametrize(
    ("seconds", "written"),
    [
        (3.0, "3"),
        (1.5, "1.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (123456789.0, "123456789"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (2.5e-6, "0.0000025"),
        (0.0, "0"),
    ],
)
def test_operation_seconds_are_written_as_go_float64(seconds: float, written: str) -> None:
    stats = OperationStats(1, seconds, seconds, seconds, seconds)
    text = to_json(BuildReport(runtime_backend="docker", operations={"image pull": stats}))
    assert f'"TotalTimeSeconds": {written},' in text


def test_build_time_is_a_two_decimal_string() -> None:
    assert '"BuildTime": "12.35"' in to_json(one_image_report(build_time=12.3456))


def test_in_container_follows_werf_containerized_yes_only() -> None:
    assert runtime_in_container({"WERF_CONTAINERIZED": "yes"})
    assert not runtime_in_container({"WERF_CONTAINERIZED": "true"})
    assert not runtime_in_container({})


# --- envfile ------------------------------------------------------------------------------------------------


def test_envfile_lists_images_sorted_with_werfs_fields() -> None:
    assert to_envfile(two_image_report()) == GOLDEN_ENVFILE


def test_nameless_image_uses_the_bare_werf_prefix() -> None:
    text = to_envfile(one_image_report(name=""))
    assert text.splitlines() == [
        "WERF_DOCKER_IMAGE_NAME=registry.example.com/app:v1",
        "WERF_DOCKER_IMAGE_ID=sha256:id",
        "WERF_DOCKER_IMAGE_DIGEST=",
        "WERF_DOCKER_REPO=registry.example.com/app",
        "WERF_DOCKER_TAG=v1",
        "WERF_WERF_IMAGE_NAME=",
        "WERF_FINAL=true",
    ]


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("backend", "WERF_BACKEND_"),
        ("my-app/stage/build.v2", "WERF_MY_APP_STAGE_BUILD_V2_"),
        ("with space+plus", "WERF_WITH SPACE+PLUS_"),  # only / - . are replaced
        ("straße", "WERF_STRAßE_"),  # Go upper-cases rune by rune: ß stays
        ("", "WERF_"),
    ],
)
def test_image_env_prefix(name: str, prefix: str) -> None:
    assert image_env_prefix(name) == prefix


def test_final_false_is_written_lowercase() -> None:
    assert "WERF_APP_FINAL=false\n" in to_envfile(one_image_report(final=False))


# --- --build-report-path ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "path", "format_"),
    [
        ("report.json", "report.json", "json"),
        ("out/report.env", "out/report.env", "envfile"),
        ("report", "report.json", "json"),
        ("dir.d/report", "dir.d/report.json", "json"),
        (".env", ".env", "envfile"),
    ],
)
def test_report_target(given: str, path: str, format_: str) -> None:
    assert report_target(given) == (Path(path), format_)
    assert report_format(given) == format_


@pytest.mark.parametrize("given", ["report.yaml", "report.JSON", ".werf-build-report"])
def test_other_extensions_are_rejected_with_a_hint(given: str) -> None:
    with pytest.raises(ShipyardError, match="unknown extension") as caught:
        report_target(given)
    assert caught.value.hint is not None
    assert ".json" in caught.value.hint


# --- writing ------------------------------------------------------------------------------------------------


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    report = two_image_report()
    written = write_report(report, tmp_path / "report.json")
    assert written.read_text() == GOLDEN_JSON
    assert read_report(written) == report


def test_write_picks_envfile_by_extension_and_appends_json_without_one(tmp_path: Path) -> None:
    assert write_report(two_image_report(), tmp_path / "r.env").read_text() == GOLDEN_ENVFILE
    assert write_report(two_image_report(), tmp_path / "r") == tmp_path / "r.json"
    assert (tmp_path / "r.json").read_text() == GOLDEN_JSON


def test_written_file_is_0644_and_no_temp_file_remains(tmp_path: Path) -> None:
    path = write_report(two_image_report(), tmp_path / "report.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["report.json"]


class _WriterThatFailsHalfway:
    """A temp file whose write stores half the data, then fails as a full disk would."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __enter__(self) -> _WriterThatFailsHalfway:
        return self

    def __exit__(self, *_: object) -> None:
        self._real.close()

    def write(self, data: bytes) -> int:
        self._real.write(data[: len(data) // 2])
        self._real.flush()
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_write_failing_midway_keeps_the_old_report_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    write_report(one_image_report(), target)
    old = target.read_text()
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, mode: _WriterThatFailsHalfway(real_fdopen(fd, mode)))

    with pytest.raises(ShipyardError, match="No space left on device"):
        write_report(two_image_report(), target)

    assert target.read_text() == old
    assert os.listdir(tmp_path) == ["report.json"]


def test_a_failing_fsync_keeps_the_old_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.json"
    write_report(one_image_report(), target)
    old = target.read_text()

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(ShipyardError, match="Input/output error"):
        write_report(two_image_report(), target)
    assert target.read_text() == old
    assert os.listdir(tmp_path) == ["report.json"]


def test_readers_only_ever_see_a_whole_report(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    small, large = to_json(one_image_report()), GOLDEN_JSON
    write_report(one_image_report(), target)
    seen: set[str] = set()
    done = threading.Event()

    def read_until_done() -> None:
        while not done.is_set():
            seen.add(target.read_text())

    reader = threading.Thread(target=read_until_done)
    reader.start()
    try:
        for _ in range(100):
            write_report(two_image_report(), target)
            write_report(one_image_report(), target)
    finally:
        done.set()
        reader.join()
    assert seen <= {small, large}


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ShipyardError, match="unable to write report to") as caught:
        write_report(one_image_report(), tmp_path / "missing" / "report.json")
    assert caught.value.hint is not None


# --- reading ------------------------------------------------------------------------------------------------

# The example from werf's "Build process" docs (an older werf: no Runtime, ConfigType or Commit fields).
WERF_DOCS_EXAMPLE = """{
  "Images": {
    "frontend": {
      "WerfImageName": "frontend",
      "DockerRepo": "localhost:5000/demo-app",
      "DockerTag": "079dfdd3f51a800c269cdfdd5e4febfcc1676b2c0d533f520255961c-1752501317353",
      "DockerImageID": "sha256:9b3a32dfe5a4aa46d96547e3f8e678626f96741776d78656ea72cab7117612bf",
      "DockerImageDigest": "sha256:54f564edebb6e0699dc0e43de4165488f86fbc76b0c89d88311d7cc06ae397f5",
      "DockerImageName": "localhost:5000/demo-app:079dfdd3f51a800c269cdfdd5e4febfcc1676b2c0d533f520255961c-1752501317353",
      "Rebuilt": false,
      "Final": true,
      "Size": 20960980,
      "BuildTime": "0.00",
      "Stages": [
        {
          "Name": "from",
          "DockerImageName": "localhost:5000/demo-app:6f40fd07cdb62e03d7238e1fccb3341379bcd677ff6d7575317f3783-1752501287209",
          "DockerTag": "6f40fd07cdb62e03d7238e1fccb3341379bcd677ff6d7575317f3783-1752501287209",
          "DockerImageID": "sha256:2ae3fbc31d2b5f0d7d105a74693ed14bec6b106ad43c660b9162dfa00d24d4d0",
          "DockerImageDigest": "sha256:c4449ccfaee03e5b601290909e4d69178c40e39c9d2daf57d1fd74093beb4e10",
          "CreatedAt": 1752501286000000000,
          "Size": 20960798,
          "SourceType": "",
          "BaseImagePulled": false,
          "Rebuilt": false,
          "BuildTime": "0.00"
        }
      ]
    }
  },
  "ImagesByPlatform": {}
}
"""


def test_reads_the_report_example_from_werfs_docs(tmp_path: Path) -> None:
    path = tmp_path / "werf.json"
    path.write_text(WERF_DOCS_EXAMPLE)
    report = read_report(path)
    frontend = report.images["frontend"]
    assert frontend.docker_tag == INSTALL_TAG
    assert frontend.config_type == ""  # absent field -> Go's zero value
    assert [stage.name for stage in frontend.stages] == ["from"]
    assert frontend.stages[0].created_at == 1752501286000000000


def _report_file(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(document))
    return path


def _one_image_document() -> dict[str, Any]:
    stage = StageRecord(name="s", docker_image_name="n", docker_tag="t", docker_image_id="i")
    document: dict[str, Any] = json.loads(to_json(one_image_report(stages=(stage,))))
    return document


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.update(Images={}), "build report contains no images"),
        (lambda d: d["Images"]["app"].update(DockerRepo=""), "image 'app' has empty DockerRepo"),
        (lambda d: d["Images"]["app"].pop("DockerImageID"), "image 'app' has empty DockerImageID"),
        (lambda d: d["Images"]["app"]["Stages"][0].update(Name=""), "image 'app' stage #0 has empty Name"),
        (
            lambda d: d["Images"]["app"]["Stages"][0].update(DockerImageID=""),
            "image 'app' stage 's' has empty DockerImageID",
        ),
        (
            lambda d: d.update(ImagesByPlatform={"app": {"linux/arm64": {"WerfImageName": "app"}}}),
            r"image 'app\[linux/arm64\]' has empty DockerImageName",
        ),
    ],
)
def test_reading_checks_the_fields_werf_requires(tmp_path: Path, damage: Any, message: str) -> None:
    document = _one_image_document()
    damage(document)
    with pytest.raises(ShipyardError, match=message):
        read_report(_report_file(tmp_path, document))


def test_an_empty_digest_is_accepted_as_werf_does_for_local_storage(tmp_path: Path) -> None:
    document = _one_image_document()
    document["Images"]["app"]["DockerImageDigest"] = ""
    assert read_report(_report_file(tmp_path, document)).images["app"].docker_image_digest == ""


def test_a_nameless_image_cannot_be_read_back_as_in_werf(tmp_path: Path) -> None:
    path = write_report(one_image_report(name=""), tmp_path / "report.json")
    with pytest.raises(ShipyardError, match="has empty WerfImageName"):
        read_report(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "unable to parse build report file"),
        ("[]", "report: expected an object"),
        ('{"Images": {"app": {"Size": "12"}}}', "Images.app.Size: expected an integer"),
        ('{"Images": {"app": {"Final": 1}}}', "Images.app.Final: expected true or false"),
        ('{"Images": {"app": {"BuildTime": "soon"}}}', "Images.app.BuildTime: expected a string of seconds"),
        ('{"Images": {"app": {"Stages": {}}}}', "Images.app.Stages: expected an array"),
    ],
)
def test_malformed_reports_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "report.json"
    path.write_text(text)
    with pytest.raises(ShipyardError, match=message):
        read_report(path)


def test_a_missing_report_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ShipyardError, match="unable to read build report file"):
        read_report(tmp_path / "absent.json")


# --- the jq one-liner from werf's documentation -------------------------------------------------------------

SEED_JQ_FILTER = ".Images | to_entries | map({key: .key, value: .value.DockerImageName}) | from_entries"


def test_the_documented_jq_one_liner_extracts_final_image_names(tmp_path: Path) -> None:
    require_tools("jq")
    path = write_report(two_image_report(), tmp_path / ".werf-build-report.json")
    result = subprocess.run(
        ["jq", "-r", SEED_JQ_FILTER, str(path)], capture_output=True, text=True, check=True
    )
    assert result.stdout == (
        f'{{\n  "backend": "{REPO}:{BACKEND_TAG}",\n  "frontend": "{REPO}:{INSTALL_TAG}"\n}}\n'
    )
