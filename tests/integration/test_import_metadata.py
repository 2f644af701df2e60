"""Import-metadata records (werf-internals §1.4.4, §3.1, §4.4): `import-metadata-<id>` meta images in a real
registry, and `werf-import-metadata/<project>:<id>` local images in a real buildah store."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from shipyard.backends.buildah import BuildahBackend
from shipyard.registry.auth import Credentials
from shipyard.registry.client import RegistryClient
from shipyard.registry.meta_image import push_meta_image
from shipyard.registry.reference import parse_repository
from shipyard.storage.import_metadata import ImportMetadata, import_metadata_tag
from shipyard.storage.local_storage import LocalStagesStorage
from shipyard.storage.registry_storage import RegistryStagesStorage
from support.recording import RecordingTransport

Registry = Any  # conftest fixture objects
BuildahStore = Any
PROJECT = "demo-project"


@pytest.fixture
def client_and_recorder(registry: Registry) -> Iterator[tuple[RegistryClient, RecordingTransport]]:
    recorder = RecordingTransport()
    with RegistryClient(registry.address, insecure=True, credentials=Credentials(),
                        transport=recorder) as client:
        yield client, recorder


def record() -> ImportMetadata:
    return ImportMetadata(secrets.token_hex(32), f"{secrets.token_hex(28)}-1700000000000",
                          secrets.token_hex(16))


def test_a_record_round_trips_through_the_registry(
        registry_repo: str, client_and_recorder: tuple[RegistryClient, RecordingTransport]) -> None:
    client, recorder = client_and_recorder
    metadata = record()
    first_run = RegistryStagesStorage(client, registry_repo, PROJECT)
    assert first_run.get_import_metadata(metadata.import_source_id) is None
    assert recorder.kinds() == ["GET tags"]  # absent from the listing: no manifest asked for
    first_run.put_import_metadata(metadata)
    assert first_run.get_import_metadata(metadata.import_source_id) == metadata

    recorder.requests.clear()
    next_run = RegistryStagesStorage(client, registry_repo, PROJECT)
    assert next_run.get_import_metadata(metadata.import_source_id) == metadata
    assert next_run.get_import_metadata(metadata.import_source_id) == metadata  # read once per run
    assert recorder.kinds() == ["GET tags", "GET manifests", "GET blobs"]

    recorder.requests.clear()
    next_run.put_import_metadata(metadata)  # the same checksum is stored: nothing is written
    assert recorder.kinds() == []


def test_the_record_carries_werfs_labels(
        registry_repo: str, client_and_recorder: tuple[RegistryClient, RecordingTransport]) -> None:
    client, _ = client_and_recorder
    metadata = record()
    RegistryStagesStorage(client, registry_repo, PROJECT).put_import_metadata(metadata)
    path = parse_repository(registry_repo).path
    tag = import_metadata_tag(metadata.import_source_id)
    assert tag in client.list_tags(path)
    assert len(tag) == len("import-metadata-") + 64
    manifest = client.get_manifest(path, tag)
    config = client.get_blob(path, manifest.document["config"]["digest"])
    labels = json.loads(config)["config"]["Labels"]
    assert labels == {"import-source-id": metadata.import_source_id,
                      "source-stage-id": metadata.source_stage_id,
                      "checksum": metadata.checksum, "werf": PROJECT}


def test_a_record_without_a_checksum_is_rewritten(
        registry_repo: str, client_and_recorder: tuple[RegistryClient, RecordingTransport]) -> None:
    client, recorder = client_and_recorder
    metadata = record()
    path = parse_repository(registry_repo).path
    push_meta_image(client, path, import_metadata_tag(metadata.import_source_id),
                    {"import-source-id": metadata.import_source_id, "source-stage-id": "x", "checksum": "",
                     "werf": PROJECT})
    storage = RegistryStagesStorage(client, registry_repo, PROJECT)
    assert storage.get_import_metadata(metadata.import_source_id) is None
    recorder.requests.clear()
    storage.put_import_metadata(metadata)
    assert "PUT manifests" in recorder.kinds()
    assert RegistryStagesStorage(client, registry_repo, PROJECT).get_import_metadata(
        metadata.import_source_id) == metadata


def test_a_record_round_trips_through_the_local_store(buildah_store: BuildahStore) -> None:
    project = f"proj-{secrets.token_hex(4)}"
    backend = BuildahBackend(buildah_store.root, buildah_store.runroot, buildah_store.driver)
    metadata = record()
    first_run = LocalStagesStorage(backend, project)
    assert first_run.get_import_metadata(metadata.import_source_id) is None
    first_run.put_import_metadata(metadata)

    name = f"werf-import-metadata/{project}:{metadata.import_source_id}"
    image = backend.inspect(name)
    assert image is not None
    assert image.labels["checksum"] == metadata.checksum
    assert image.labels["werf"] == project
    assert LocalStagesStorage(backend, project).get_import_metadata(metadata.import_source_id) == metadata

    changed = ImportMetadata(metadata.import_source_id, metadata.source_stage_id, secrets.token_hex(16))
    LocalStagesStorage(backend, project).put_import_metadata(changed)
    assert LocalStagesStorage(backend, project).get_import_metadata(metadata.import_source_id) == changed
