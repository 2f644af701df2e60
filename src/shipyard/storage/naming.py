"""Names of the service records werf keeps in `--repo` (werf-internals §2.4, §3.1). Pure.

All from `pkg/storage/repo_stages_storage.go`: `getManagedImageID`, `slugImageName`/`unslugImageName`,
`getImageMetadataID`, `makeRepoCustomTagMetadataRecord` and the `…_ImageTagPrefix`/`…_TagFormat` constants.
"""

from __future__ import annotations

from shipyard.hashsum import murmur_hash
from shipyard.slug import DOCKER_TAG_MAX_SIZE, is_valid_docker_tag, limited_slug
from shipyard.storage.stage_id import StageID

WERF_LABEL = "werf"  # image.WerfLabel: the project name, on stage images and every meta image
CUSTOM_TAG_STAGE_ID_LABEL = "stage-id"  # image.WerfCustomTagMetadataStageIDLabel
CUSTOM_TAG_TAG_LABEL = "tag"  # image.WerfCustomTagMetadataTag
CONTENT_DIGEST_LABEL = "werf-stage-content-digest"

MANAGED_IMAGE_PREFIX = "managed-image-"
IMAGE_METADATA_PREFIX = "meta-"
CUSTOM_TAG_META_PREFIX = "custom-tag-meta-"
CUSTOM_TAG_META_SLUG_SIZE = 48
NAMELESS_IMAGE = "__nameless__"  # NamelessImageRecordTag

# Order matters for the round trip: werf escapes and unescapes in this order.
_ESCAPES = ((" ", "__space__"), ("/", "__slash__"), ("+", "__plus__"))


def managed_image_id(image_name: str) -> str:
    """`getManagedImageID`: the image name escaped into a tag; slugged when still not a valid docker tag."""
    escaped = _escape_image_name(image_name)
    if not is_valid_docker_tag(escaped):
        escaped = limited_slug(escaped, DOCKER_TAG_MAX_SIZE - len(MANAGED_IMAGE_PREFIX))
    return escaped


def managed_image_name(managed_id: str) -> str:
    """`getManagedImageNameFromManagedImageID`: undo the escaping (a slugged id stays slugged)."""
    name = managed_id
    for plain, escaped in _ESCAPES:
        name = name.replace(escaped, plain)
    return "" if name == NAMELESS_IMAGE else name


def managed_image_tag(image_name: str) -> str:
    return MANAGED_IMAGE_PREFIX + managed_image_id(image_name)


def image_metadata_id(image_name: str) -> str:
    """`getImageMetadataID`: MUR of the name as read back from its managed-image id."""
    return murmur_hash(managed_image_name(managed_image_id(image_name)))


def image_metadata_tag(image_name: str, commit: str, stage_id: StageID) -> str:
    """`meta-<MUR(managedName)>_<commit>_<stageID>` (RepoImageMetadataByCommitRecord_TagFormat)."""
    return f"{IMAGE_METADATA_PREFIX}{image_metadata_id(image_name)}_{commit}_{stage_id.tag}"


def custom_tag_meta_tag(tag: str) -> str:
    """`custom-tag-meta-<LimitedSlug(tag, 48)>`."""
    return CUSTOM_TAG_META_PREFIX + limited_slug(tag, CUSTOM_TAG_META_SLUG_SIZE)


def _escape_image_name(image_name: str) -> str:
    if not image_name:
        return NAMELESS_IMAGE
    for plain, escaped in _ESCAPES:
        image_name = image_name.replace(plain, escaped)
    return image_name
