"""Custom tag rendering and up-front validation (werf-internals §2.2)."""

from __future__ import annotations

import pytest

from shipyard.errors import UsageError
from shipyard.tagging import render_custom_tag, validate_custom_tags


def test_placeholders_render() -> None:
    assert render_custom_tag("%image%-v1", "backend", "abc-1") == "backend-v1"
    assert render_custom_tag("%image_content_based_tag%", "backend", "abc-1") == "abc-1"
    assert render_custom_tag("%image_slug%", "Back End", "t") == "back-end"
    assert render_custom_tag("%image_safe_slug%", "ok_name", "t") == "ok_name"
    assert render_custom_tag("plain", "backend", "t") == "plain"


def test_same_tag_for_several_final_images_is_refused_with_a_hint() -> None:
    with pytest.raises(UsageError) as error:
        validate_custom_tags(["latest"], ["backend", "frontend"])
    assert "%image%-latest" in (error.value.hint or "")
    validate_custom_tags(["latest"], ["backend"])
    validate_custom_tags(["%image%-latest"], ["backend", "frontend"])


def test_invalid_docker_tag_is_refused() -> None:
    with pytest.raises(UsageError, match="not a valid docker tag"):
        validate_custom_tags(["%image%:bad"], ["backend"])
    with pytest.raises(UsageError, match="not a valid docker tag"):
        validate_custom_tags(["%image_content_based_tag%" * 2], ["backend"])


def test_unknown_placeholder_is_refused() -> None:
    with pytest.raises(UsageError, match="unknown placeholder"):
        render_custom_tag("%imag%-x", "backend", "t")
