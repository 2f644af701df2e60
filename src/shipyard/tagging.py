"""Custom tags (`--add-custom-tag`): werf's %placeholders%, validated before anything is built (§2.2)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from shipyard.errors import UsageError
from shipyard.slug import Slug, docker_tag, is_valid_docker_tag

# werf validates with a stand-in as long as a real content-based tag (DIGEST-TIMESTAMP_MS = 70 chars).
CONTENT_TAG_STAND_IN = "x" * 70
_PLACEHOLDER = re.compile(r"%(image|image_slug|image_safe_slug|image_content_based_tag)%")


def render_custom_tag(template: str, image_name: str, content_based_tag: str) -> str:
    values = {
        "image": image_name,
        "image_slug": Slug(image_name),
        "image_safe_slug": docker_tag(image_name),
        "image_content_based_tag": content_based_tag,
    }
    rendered = _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)
    if "%" in rendered:
        raise UsageError(
            f"custom tag {template!r}: unknown placeholder in {rendered!r}",
            hint="use %image%, %image_slug%, %image_safe_slug% or %image_content_based_tag%",
        )
    return rendered


def validate_custom_tags(templates: Sequence[str], final_images: Sequence[str]) -> None:
    """Each tag must render to a valid docker tag, and differ between final images when there are several."""
    for template in templates:
        rendered = {name: render_custom_tag(template, name, CONTENT_TAG_STAND_IN) for name in final_images}
        for name, tag in rendered.items():
            if not is_valid_docker_tag(tag):
                raise UsageError(
                    f"custom tag {template!r} renders to {tag!r} for image {name!r}, not a valid docker tag",
                    hint="a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'",
                )
        if len(final_images) > 1 and len(set(rendered.values())) < len(rendered):
            raise UsageError(
                f"custom tag {template!r} gives the same tag to several final images",
                hint=f"include the image name, e.g. --add-custom-tag '%image%-{template}'",
            )
