"""werf's slugs (werf-internals §2.3): `pkg/slug/slug.go` with the table of `pkg/slug/map.go`.

Lengths are byte lengths, as in Go. Two legacy quirks are kept because they are visible in names werf
already wrote: `slug` checks for a *leading* dash where it meant a trailing one, and `limited_slug` leaves
alone a string that is a valid slug except for one `--`.
"""

from __future__ import annotations

import re

from shipyard.hashsum import murmur_hash
from shipyard.slug_table import SLUG_MAP

DEFAULT_SLUG_MAX_SIZE = 42
DOCKER_TAG_MAX_SIZE = 128
PROJECT_NAME_MAX_SIZE = 50

_SEPARATOR = "-"
_DOCKER_TAG = re.compile(r"^\w[\w.-]*$", re.ASCII)
_PROJECT_NAME = re.compile(r"^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$")


def _byte_length(text: str) -> int:
    return len(text.encode())


def slugify(text: str) -> str:
    """Transliterate through the table, drop unmapped characters, collapse and trim dashes."""
    result: list[str] = []
    last_was_dash = False
    for character in text:
        replacement = SLUG_MAP.get(character, "")
        if not replacement:
            continue
        is_dash = replacement == _SEPARATOR
        if not (is_dash and (not result or result[-1] == _SEPARATOR)):
            result.append(replacement)
        last_was_dash = is_dash
    if result and last_was_dash:
        result.pop()
    return "".join(result)


def slug(text: str, max_size: int) -> str:
    """`slugify(text)` cut to fit, then `-` and the unpadded murmur3 hash of `text`."""
    hash_suffix = murmur_hash(text)
    slugged = slugify(text)
    if not slugged:
        return hash_suffix
    cropped = slugged[: max_size - len(hash_suffix) - len(_SEPARATOR)]  # table output is ASCII: bytes = chars
    if cropped.startswith(_SEPARATOR):  # legacy: werf meant endswith, fixing it would change names
        cropped = cropped[:-1]
    return cropped + _SEPARATOR + hash_suffix


def Slug(text: str) -> str:  # werf's own name (slug.Slug), kept for %image_slug%
    """`%image_slug%`: `slugify` only, no hash and no length limit."""
    return slugify(text)


def limited_slug(text: str, max_size: int = DEFAULT_SLUG_MAX_SIZE) -> str:
    """`text` when it already is a short enough slug, else `slug(text, max_size)`."""
    return slug(text, max_size) if _should_be_slugged(text, max_size) else text


def _should_be_slugged(text: str, max_size: int) -> bool:
    if not text:
        return False
    if slugify(text) == text and _byte_length(text) <= max_size:
        return False
    if _byte_length(text) > max_size or text.count("--") != 1:
        return True
    # legacy: a slug cut right before its dash keeps one `--`; it must stay stable when slugged again
    without_double_dash = text.replace("--", "-", 1)
    return slugify(without_double_dash) != without_double_dash


def is_valid_docker_tag(tag: str) -> bool:
    return not tag or (_DOCKER_TAG.match(tag) is not None and _byte_length(tag) <= DOCKER_TAG_MAX_SIZE)


def docker_tag(text: str) -> str:
    """`%image_safe_slug%`: `text` when it is a valid docker tag, else `slug(text, 128)`."""
    return text if is_valid_docker_tag(text) else slug(text, DOCKER_TAG_MAX_SIZE)


def is_valid_project_name(name: str) -> bool:
    return not name or (_PROJECT_NAME.match(name) is not None and _byte_length(name) <= PROJECT_NAME_MAX_SIZE)


def project(name: str) -> str:
    """A valid project name stays; anything else is slugified and cut to 50 characters (no hash)."""
    if is_valid_project_name(name):
        return name
    return slugify(name)[:PROJECT_NAME_MAX_SIZE]
