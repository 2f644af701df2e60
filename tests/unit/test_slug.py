"""werf's slug vectors (`pkg/slug/slug_test.go`, werf-internals §2.3)."""

from __future__ import annotations

import pytest

from shipyard.slug import (
    DEFAULT_SLUG_MAX_SIZE,
    DOCKER_TAG_MAX_SIZE,
    Slug,
    docker_tag,
    is_valid_docker_tag,
    is_valid_project_name,
    limited_slug,
    project,
    slug,
    slugify,
)
from shipyard.slug_table import SLUG_MAP


def test_table_has_werfs_971_entries_with_ascii_replacements() -> None:
    assert len(SLUG_MAP) == 971
    assert all(replacement.isascii() for replacement in SLUG_MAP.values())
    assert SLUG_MAP["\u212a"] == "k" and SLUG_MAP["\u212b"] == "a"  # KELVIN and ANGSTROM SIGN
    assert SLUG_MAP["Щ"] == "shch" and SLUG_MAP["ъ"] == "" and SLUG_MAP["⒛"] == "20"


@pytest.mark.parametrize(
    ("data", "max_size", "expected"),
    [
        ("", DEFAULT_SLUG_MAX_SIZE, ""),
        ("data", DEFAULT_SLUG_MAX_SIZE, "data"),
        ("A", DEFAULT_SLUG_MAX_SIZE, "a-54dcf7ce"),
        ("x" * 43, DEFAULT_SLUG_MAX_SIZE, "x" * 33 + "-27e2f02f"),
        (
            "postgres-feature-31981-change-delivery-date-del-result",
            48,
            "postgres-feature-31981-change-delivery--852739dc",
        ),
        ("php_fpm_exporter-monitoring-dev-encrypt-1", 48, "php-fpm-exporter-monitoring-dev-encrypt--83286e5"),
    ],
)
def test_limited_slug(data: str, max_size: int, expected: str) -> None:
    result = limited_slug(data, max_size)
    assert result == expected
    assert len(result) <= max_size
    assert limited_slug(result, max_size) == result  # idempotent, including the legacy `--` case


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("", ""),
        ("-data", "data-a871d86e"),
        ("da/ta", "da-ta-afa96f8"),  # the hash is not zero-padded
        ("x" * 129, "x" * 119 + "-8cca70eb"),
        ("v1.2.3_build", "v1.2.3_build"),
    ],
)
def test_docker_tag(data: str, expected: str) -> None:
    assert docker_tag(data) == expected
    assert len(docker_tag(data)) <= DOCKER_TAG_MAX_SIZE
    assert docker_tag(docker_tag(data)) == docker_tag(data)


@pytest.mark.parametrize(
    ("data", "max_size", "expected"),
    [
        ("da_ta", 63, "da-ta-3b339d14"),  # werf's kubernetes namespace vectors use the same slug()
        ("kubernetes.namespace", 63, "kubernetes-namespace-1507f75c"),
        ("x" * 64, 63, "x" * 54 + "-afd4efcd"),
        ("x" * 54, 53, "x" * 44 + "-18c5dfb9"),  # helm release vector
    ],
)
def test_slug_with_hash(data: str, max_size: int, expected: str) -> None:
    assert slug(data, max_size) == expected


def test_slug_of_unsluggable_text_is_the_hash_alone() -> None:
    assert slug("!!!", 42) == slug("!!!", 10) and "-" not in slug("!!!", 42)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Hello, World!", "hello-world"),
        ("--a__b--", "a-b"),
        ("Привет Мир", "privyet-mir"),
        ("Æther ＡＢＣ ⒛", "aether-abc-20"),
        ("a\u212a\u212b", "aka"),
        ("!@#", ""),
        ("a-!", "a"),
    ],
)
def test_slugify(data: str, expected: str) -> None:
    assert slugify(data) == expected


def test_image_slug_is_slugify_without_hash_or_limit() -> None:
    long_name = "My/Image " * 20
    assert Slug(long_name) == slugify(long_name) and len(Slug(long_name)) > 128


def test_docker_tag_validity() -> None:
    assert is_valid_docker_tag("") and is_valid_docker_tag("A_b.c-1") and is_valid_docker_tag("x" * 128)
    assert (
        not is_valid_docker_tag(".a") and not is_valid_docker_tag("-a") and not is_valid_docker_tag("x" * 129)
    )
    assert not is_valid_docker_tag("é")  # \w is ASCII-only in Go


def test_project_names() -> None:
    assert is_valid_project_name("my-project") and not is_valid_project_name("My_Project")
    assert not is_valid_project_name("a" * 51) and not is_valid_project_name("-a")
    assert project("my-project") == "my-project"
    assert project("My_Project") == "my-project"
    assert project("Ж" * 30) == "zh" * 25
