"""Image reference parsing, Docker Hub normalisation (as go-containerregistry), validation and is_loopback."""

from __future__ import annotations

import pytest

from shipyard.registry.reference import (
    DOCKER_HUB,
    ImageReference,
    InvalidReferenceError,
    RegistryError,
    Repository,
    is_loopback,
    parse_reference,
    parse_repository,
    validate_digest,
    validate_repository_path,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "registry", "path", "tag", "digest"), [
    ("ubuntu", DOCKER_HUB, "library/ubuntu", None, None),
    ("ubuntu:22.04", DOCKER_HUB, "library/ubuntu", "22.04", None),
    ("docker.io/ubuntu", DOCKER_HUB, "library/ubuntu", None, None),
    ("index.docker.io/library/ubuntu", DOCKER_HUB, "library/ubuntu", None, None),
    ("org/app", DOCKER_HUB, "org/app", None, None),
    ("127.0.0.1:5000/app", "127.0.0.1:5000", "app", None, None),
    ("127.0.0.1:5000/app:v1", "127.0.0.1:5000", "app", "v1", None),
    ("127.0.0.1:5000/a/b/c:v1@" + DIGEST, "127.0.0.1:5000", "a/b/c", "v1", DIGEST),
    ("localhost/app", "localhost", "app", None, None),
    ("localhost:5000/app@" + DIGEST, "localhost:5000", "app", None, DIGEST),
    ("registry.example.com/team/app", "registry.example.com", "team/app", None, None),
    ("[::1]:5000/app:x", "[::1]:5000", "app", "x", None),
    ("host.test/my_app__x/b-c.d", "host.test", "my_app__x/b-c.d", None, None),
])
def test_parse_reference(text: str, registry: str, path: str, tag: str | None, digest: str | None) -> None:
    reference = parse_reference(text)
    parsed = (reference.registry, reference.path, reference.tag, reference.digest)
    assert parsed == (registry, path, tag, digest)


def test_format_round_trips_and_identifier_prefers_digest() -> None:
    text = f"127.0.0.1:5000/app:v1@{DIGEST}"
    reference = parse_reference(text)
    assert str(reference) == text
    assert reference.identifier == DIGEST
    assert parse_reference("127.0.0.1:5000/app").identifier == "latest"
    assert str(parse_reference("ubuntu")) == "index.docker.io/library/ubuntu"


def test_repository_builds_references() -> None:
    repository = parse_repository("127.0.0.1:5000/stages/app")
    assert repository == Repository("127.0.0.1:5000", "stages/app")
    assert str(repository) == "127.0.0.1:5000/stages/app"
    assert repository.with_tag("abc-123") == ImageReference(repository, tag="abc-123")
    assert repository.with_digest(DIGEST).identifier == DIGEST


@pytest.mark.parametrize(("text", "says"), [
    ("127.0.0.1:5000/App", "invalid repository name 'App'"),
    ("127.0.0.1:5000/a//b", "invalid repository name 'a//b'"),
    ("127.0.0.1:5000/a-", "invalid repository name 'a-'"),
    ("127.0.0.1:5000/a:-bad", "invalid tag '-bad'"),
    ("127.0.0.1:5000/a@sha256:xyz", "invalid digest 'sha256:xyz'"),
    ("127.0.0.1:5000/", "invalid repository name: it is empty"),
    ("", "empty"),
    (" app", "surrounded by spaces"),
    ("bad_host.com:x/app", "invalid registry host"),
])
def test_invalid_references_raise_a_clear_error(text: str, says: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_reference(text)
    assert says in caught.value.message
    assert isinstance(caught.value, RegistryError)


def test_repository_path_hint_explains_the_grammar() -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        validate_repository_path("My/Repo")
    assert caught.value.hint is not None and "lowercase" in caught.value.hint
    with pytest.raises(InvalidReferenceError, match="over 255"):
        validate_repository_path("a" * 256)


def test_repository_refuses_tag_and_digest() -> None:
    with pytest.raises(InvalidReferenceError, match="a repository has no tag"):
        parse_repository("127.0.0.1:5000/app:v1")


def test_validate_digest_requires_64_hex_for_sha256() -> None:
    assert validate_digest(DIGEST) == DIGEST
    with pytest.raises(InvalidReferenceError):
        validate_digest("sha256:" + "AB" * 32)
    with pytest.raises(InvalidReferenceError):
        validate_digest("sha256:" + "a" * 63)


@pytest.mark.parametrize(("host", "loopback"), [
    ("localhost", True), ("localhost:5000", True), ("registry.localhost:80", True),
    ("127.0.0.1", True), ("127.0.0.1:5000", True), ("127.5.6.7:1", True),
    ("::1", True), ("[::1]:5000", True),
    ("10.0.0.1:5000", False), ("registry.example.com", False), ("localhost.example.com", False),
    ("index.docker.io", False), ("[::2]:5000", False),
])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
