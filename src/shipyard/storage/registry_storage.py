"""Stages kept in a container registry repository (`--repo`), as werf's `RepoStagesStorage` keeps them
(`pkg/storage/repo_stages_storage.go`, werf-internals §3).

Reading a stage costs a manifest GET and a config blob GET, never a layer. Descriptions are memoised
for the run (stage tags are never rewritten); there is no disk cache of descriptions (werf has one in
`~/.werf/local_cache/manifests`, §4.1). werf's `GetStageDescription` also asks the registry for each
candidate's `-rejected` record; here the tag listing answers that (selection.stage_candidates).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from shipyard.registry.client import RegistryClient
from shipyard.registry.meta_image import push_meta_image
from shipyard.registry.reference import RegistryError, parse_repository, validate_tag
from shipyard.storage.base import StageUnavailableError, Warn, ignore_warning
from shipyard.storage.description import (
    BrokenStageImageError,
    LazyLabels,
    StageDescription,
    config_digest,
    description_from_registry,
)
from shipyard.storage.import_metadata import (
    ImportMetadata,
    import_metadata_from_labels,
    import_metadata_labels,
    import_metadata_tag,
)
from shipyard.storage.listing import TagListing
from shipyard.storage.lookup import StageFinder
from shipyard.storage.naming import (
    CUSTOM_TAG_STAGE_ID_LABEL,
    CUSTOM_TAG_TAG_LABEL,
    WERF_LABEL,
    custom_tag_meta_tag,
    image_metadata_tag,
    managed_image_tag,
)
from shipyard.storage.selection import StageSelector
from shipyard.storage.stage_id import StageID, parse_stage_tag, rejected_tag

# Distribution error codes that mean "this image is not (or no longer) there".
_MISSING_CODES = frozenset({"MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "NAME_UNKNOWN"})


class RegistryStagesStorage:
    """The primary stages storage in `repository` ("host[:port]/path", as the user wrote it) of `client`'s
    registry, for `project`. Thread-safe; the constructor does no I/O."""

    def __init__(self, client: RegistryClient, repository: str, project: str, *,
                 warn: Warn = ignore_warning) -> None:
        parsed = parse_repository(repository)
        if parsed.registry != client.host:
            raise ValueError(f"repository {repository} is not in registry {client.host}")
        self._client = client
        self._address = repository
        self._path = parsed.path
        self._project = project
        self._warn = warn
        self._listing = TagListing(lambda: self._client.list_tags(self._path))
        self._finder = StageFinder(self._listing, self._describe, warn)
        self._described: dict[StageID, StageDescription] = {}
        self._described_lock = threading.Lock()
        self._imports: dict[str, ImportMetadata | None] = {}

    @property
    def address(self) -> str:
        return self._address

    @property
    def listing(self) -> TagListing:
        return self._listing

    def list_tags(self, cached: bool = True) -> frozenset[str]:
        """Every tag of the repository: listed once per run (`cached=False` lists again and refreshes)."""
        return self._listing.get(cached=cached)

    # --- stages ------------------------------------------------------------------------------------

    def find_stage(self, digest: str, parent_timestamp_ms: int = 0, *, refresh: bool = False,
                   select: StageSelector | None = None) -> StageDescription | None:
        return self._finder.find(digest, parent_timestamp_ms, refresh=refresh, select=select)

    def stage_image_name(self, stage_id: StageID) -> str:
        return f"{self._address}:{stage_id.tag}"

    def push_target(self, stage_id: StageID) -> str | None:
        return self.stage_image_name(stage_id)

    def describe(self, tag: str) -> StageDescription:
        """The stage a `DIGEST-TS` (or `DIGEST`) tag names; StageUnavailableError when gone or broken."""
        stage_id = parse_stage_tag(tag)
        if stage_id is None:
            raise ValueError(f"{tag!r} is not a stage tag (DIGEST-TIMESTAMP_MS)")
        return self._describe(stage_id)

    def describe_stored(self, stage_id: StageID) -> StageDescription:
        description = self._describe(stage_id)
        self._listing.remember(stage_id.tag)
        return description

    def reject_stage(self, stage_id: StageID) -> None:
        """Push the `DIGEST-TS-rejected` record (`RejectStage`); the stage is then never selected again."""
        tag = rejected_tag(stage_id)
        push_meta_image(self._client, self._path, tag, {WERF_LABEL: self._project})
        with self._described_lock:
            self._described.pop(stage_id, None)
        self._listing.remember(tag)

    # --- custom tags and metadata records ------------------------------------------------------------

    def check_custom_tags(self, tags: Sequence[str]) -> None:
        for tag in tags:
            validate_tag(tag)

    def add_custom_tag(self, stage: StageDescription, tag: str) -> None:
        """Retag the stage's manifest registry-side (no layer moves), then write werf's
        `custom-tag-meta-…` record (labels stage-id, tag, werf) that cleanup reads."""
        validate_tag(tag)
        self._client.copy_image(self._path, stage.manifest_digest, self._path, tag)
        meta_tag = custom_tag_meta_tag(tag)
        labels = {CUSTOM_TAG_STAGE_ID_LABEL: stage.stage_id.tag, CUSTOM_TAG_TAG_LABEL: tag,
                  WERF_LABEL: self._project}
        push_meta_image(self._client, self._path, meta_tag, labels)
        self._listing.remember(tag, meta_tag)

    def publish_managed_image(self, image_name: str) -> bool:
        """`managed-image-<id>` (`AddManagedImage`), skipped when the run's listing already has it."""
        return self._publish_record(managed_image_tag(image_name))

    def publish_image_metadata(self, image_name: str, commit: str, stage_id: StageID) -> bool:
        """`meta-<MUR(name)>_<commit>_<stageID>` (`PutImageMetadata`); werf tolerates a 403 here."""
        try:
            return self._publish_record(image_metadata_tag(image_name, commit, stage_id))
        except RegistryError as error:
            if error.status_code != 403:
                raise
            self._warn(f"Cannot write the metadata of image {image_name or '~'}: {error.message}")
            return False

    def _publish_record(self, tag: str) -> bool:
        if tag in self._listing.get(cached=True):
            return False
        push_meta_image(self._client, self._path, tag, {WERF_LABEL: self._project})
        self._listing.remember(tag)
        return True

    # --- import metadata -----------------------------------------------------------------------------

    def get_import_metadata(self, import_source_id: str) -> ImportMetadata | None:
        """`import-metadata-<id>` (`GetImportMetadata`): absent from the run's listing → None without a
        request; else its labels (a manifest and a config GET, once per run)."""
        with self._described_lock:
            if import_source_id in self._imports:
                return self._imports[import_source_id]
        tag = import_metadata_tag(import_source_id)
        metadata = None
        if tag in self._listing.get(cached=True):
            metadata = import_metadata_from_labels(import_source_id, self._read_labels(tag))
        with self._described_lock:
            self._imports[import_source_id] = metadata
        return metadata

    def put_import_metadata(self, metadata: ImportMetadata) -> None:
        """`PutImportMetadata`: the meta image with labels import-source-id, source-stage-id, checksum, werf;
        skipped when the stored record has the same checksum."""
        stored = self.get_import_metadata(metadata.import_source_id)
        if stored is not None and stored.checksum == metadata.checksum:
            return
        tag = import_metadata_tag(metadata.import_source_id)
        push_meta_image(self._client, self._path, tag, import_metadata_labels(metadata, self._project))
        self._listing.remember(tag)
        with self._described_lock:
            self._imports[metadata.import_source_id] = metadata

    def _read_labels(self, tag: str) -> dict[str, str]:
        """The labels of a record's meta image; {} when it is gone since the listing or broken."""
        try:
            manifest = self._client.get_manifest(self._path, tag)
            digest = config_digest(manifest.document)
            return dict(LazyLabels(lambda: self._client.get_blob(self._path, digest)))
        except RegistryError as error:
            if error.status_code == 404 or _MISSING_CODES.intersection(error.error_codes):
                return {}
            raise
        except BrokenStageImageError as error:
            self._warn(f"Ignoring the broken import metadata record {self._address}:{tag}: {error}")
            return {}

    # --- reading one stage ---------------------------------------------------------------------------

    def _describe(self, stage_id: StageID) -> StageDescription:
        with self._described_lock:
            known = self._described.get(stage_id)
        if known is not None:
            return known
        description = self._read_description(stage_id)
        with self._described_lock:
            self._described[stage_id] = description
        return description

    def _read_description(self, stage_id: StageID) -> StageDescription:
        image_name = self.stage_image_name(stage_id)
        try:
            manifest = self._client.get_manifest(self._path, stage_id.tag)
            if manifest.is_index:
                raise StageUnavailableError(image_name, "a manifest list (multi-platform stages are not "
                                                        "supported yet)")
            digest = config_digest(manifest.document)

            def load_config() -> bytes:
                return self._client.get_blob(self._path, digest)

            return description_from_registry(stage_id, image_name, self._address, manifest.digest,
                                             manifest.document, load_config)
        except RegistryError as error:
            if error.status_code == 404 or _MISSING_CODES.intersection(error.error_codes):
                raise StageUnavailableError(image_name, "not found in the registry") from None
            raise
        except BrokenStageImageError as error:
            raise StageUnavailableError(image_name, f"broken image: {error}") from None

