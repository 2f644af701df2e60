"""Import-metadata records: the checksum werf computed once for an import source (werf-internals §1.4.4,
§3.1, §4.4). Pure.

werf `pkg/storage/import_metadata.go` (`ImportMetadata`, `ToLabelsMap`, `newImportMetadataFromLabels`),
`pkg/image/const.go` (label names), `pkg/storage/repo_stages_storage.go` (`import-metadata-%s` tags,
`PutImportMetadata` adds `werf=<project>`), `pkg/storage/local_stages_storage.go` (local images
`werf-import-metadata/<project>:<importSourceID>`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shipyard.storage.naming import WERF_LABEL

IMPORT_METADATA_PREFIX = "import-metadata-"  # RepoImportMetadata_ImageTagPrefix
LOCAL_IMPORT_METADATA_REPOSITORY = "werf-import-metadata"  # LocalImportMetadata_ImageNameFormat's repository
IMPORT_SOURCE_ID_LABEL = "import-source-id"  # image.WerfImportMetadataImportSourceIDLabel
SOURCE_STAGE_ID_LABEL = "source-stage-id"  # image.WerfImportMetadataSourceStageIDLabel
CHECKSUM_LABEL = "checksum"  # image.WerfImportMetadataChecksumLabel


@dataclass(frozen=True)
class ImportMetadata:
    import_source_id: str  # 64 hex (stapel_deps.import_source_id)
    source_stage_id: str  # DIGEST-TS of the source stage
    checksum: str  # the import checksum (stapel_imports.import_checksum)


def import_metadata_tag(import_source_id: str) -> str:
    """The record's tag in `--repo`."""
    return f"{IMPORT_METADATA_PREFIX}{import_source_id}"


def local_import_metadata_name(project: str, import_source_id: str) -> str:
    """The record's local image name (the local stages storage)."""
    return f"{LOCAL_IMPORT_METADATA_REPOSITORY}/{project}:{import_source_id}"


def import_metadata_labels(metadata: ImportMetadata, project: str) -> dict[str, str]:
    """The labels of the record's meta image: werf's `ToLabelsMap` plus `werf=<project>`."""
    return {
        IMPORT_SOURCE_ID_LABEL: metadata.import_source_id,
        SOURCE_STAGE_ID_LABEL: metadata.source_stage_id,
        CHECKSUM_LABEL: metadata.checksum,
        WERF_LABEL: project,
    }


def import_metadata_from_labels(import_source_id: str, labels: Mapping[str, str]) -> ImportMetadata | None:
    """The record a meta image carries; None when it has no checksum (werf then recomputes and rewrites it).

    The id is the one asked for (the tag names it), whatever the `import-source-id` label says.
    """
    checksum = labels.get(CHECKSUM_LABEL, "")
    if not checksum:
        return None
    return ImportMetadata(import_source_id, labels.get(SOURCE_STAGE_ID_LABEL, ""), checksum)
