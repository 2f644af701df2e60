"""The Docker-compatible auth file (lookup, login/logout) and the pure parts of the bearer-token flow."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from shipyard.registry.auth import (
    Authorizer,
    Challenge,
    Credentials,
    auth_file_path,
    load_credentials,
    login,
    logout,
    parse_challenge,
    parse_token_response,
    pick_challenge,
    token_request,
)
from shipyard.registry.reference import RegistryError


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_config(path: Path, config: object) -> Path:
    path.write_text(json.dumps(config))
    return path


# --- where the file is ----------------------------------------------------------------------------

def test_auth_file_precedence() -> None:
    both = {"REGISTRY_AUTH_FILE": "/a/auth.json", "DOCKER_CONFIG": "/d", "HOME": "/h"}
    assert auth_file_path(both) == Path("/a/auth.json")
    assert auth_file_path({"DOCKER_CONFIG": "/d", "HOME": "/h"}) == Path("/d/config.json")
    assert auth_file_path({"HOME": "/h"}) == Path("/h/.docker/config.json")


# --- reading --------------------------------------------------------------------------------------

def test_reads_auth_and_identity_token(tmp_path: Path) -> None:
    file = write_config(tmp_path / "config.json", {"auths": {
        "127.0.0.1:5000": {"auth": b64("alice:pa:ss")},
        "https://quay.test/v1/": {"auth": b64("bob:pw"), "identitytoken": "refresh-me"},
    }})
    assert load_credentials("127.0.0.1:5000", file) == Credentials("alice", "pa:ss")
    quay = load_credentials("quay.test", file)
    assert (quay.username, quay.identity_token) == ("bob", "refresh-me")


def test_docker_hub_is_found_under_its_v1_key(tmp_path: Path) -> None:
    file = write_config(tmp_path / "c.json", {"auths": {"https://index.docker.io/v1/": {"auth": b64("u:p")}}})
    assert load_credentials("index.docker.io", file) == Credentials("u", "p")
    assert load_credentials("docker.io", file) == Credentials("u", "p")


def test_missing_file_or_entry_means_anonymous(tmp_path: Path) -> None:
    assert load_credentials("h:1", tmp_path / "none.json").anonymous
    config = {"auths": {"other:1": {"auth": b64("u:p")}}, "credsStore": "pass"}
    file = write_config(tmp_path / "c.json", config)
    assert load_credentials("h:1", file) == Credentials()


@pytest.mark.parametrize(("content", "says"), [
    ("{not json", "is not valid JSON"),
    ('["a list"]', "must hold a JSON object"),
    (json.dumps({"auths": {"h:1": {"auth": "!!!"}}}), "is not base64 of `user:pass`"),
    (json.dumps({"auths": {"h:1": {"auth": b64("no-colon")}}}), "is not base64 of `user:pass`"),
])
def test_broken_files_raise_clear_errors(tmp_path: Path, content: str, says: str) -> None:
    file = tmp_path / "c.json"
    file.write_text(content)
    with pytest.raises(RegistryError) as caught:
        load_credentials("h:1", file)
    assert says in caught.value.message and str(file) in caught.value.message


def test_credentials_repr_hides_the_secret() -> None:
    assert "hunter2" not in repr(Credentials("alice", "hunter2"))


# --- writing --------------------------------------------------------------------------------------

def test_login_writes_0600_atomically_and_keeps_other_settings(tmp_path: Path) -> None:
    config = {"auths": {"other:1": {"auth": b64("x:y")}}, "credsStore": "s"}
    file = write_config(tmp_path / "config.json", config)
    assert login("127.0.0.1:5000", "alice", "secret", file) == file
    config = json.loads(file.read_text())
    assert config["credsStore"] == "s"
    assert config["auths"]["127.0.0.1:5000"] == {"auth": b64("alice:secret")}
    assert config["auths"]["other:1"] == {"auth": b64("x:y")}
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no temporary file left behind
    assert load_credentials("127.0.0.1:5000", file) == Credentials("alice", "secret")


def test_login_creates_the_directory_and_replaces_aliases(tmp_path: Path) -> None:
    file = tmp_path / "new" / "config.json"
    login("docker.io", "u", "old", file)
    login("index.docker.io", "u", "new", file)
    assert json.loads(file.read_text())["auths"] == {"https://index.docker.io/v1/": {"auth": b64("u:new")}}
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700


def test_logout_removes_only_that_host(tmp_path: Path) -> None:
    file = tmp_path / "config.json"
    login("a:1", "u", "p", file)
    login("b:1", "u", "p", file)
    assert logout("a:1", file) is True
    assert logout("a:1", file) is False
    assert list(json.loads(file.read_text())["auths"]) == ["b:1"]
    assert logout("a:1", tmp_path / "missing.json") is False


# --- challenges and tokens ------------------------------------------------------------------------

def test_parse_bearer_challenge_keeps_commas_inside_quotes() -> None:
    header = 'Bearer realm="https://auth.test/token",service="registry.test",scope="repository:a/b:pull,push"'
    challenge = parse_challenge(header)
    assert challenge == Challenge("bearer", {"realm": "https://auth.test/token", "service": "registry.test",
                                             "scope": "repository:a/b:pull,push"})


def test_pick_challenge_prefers_bearer_and_ignores_unknown_schemes() -> None:
    assert pick_challenge(['Basic realm="r"', 'Bearer realm="https://t"']) == Challenge(
        "bearer", {"realm": "https://t"})
    assert pick_challenge(['Basic realm="r"']) == Challenge("basic", {"realm": "r"})
    assert pick_challenge(["Negotiate abc", ""]) is None


def test_token_request_is_a_get_with_basic_credentials() -> None:
    challenge = Challenge("bearer", {"realm": "https://auth.test/token", "service": "reg",
                                     "scope": "repository:a:pull"})
    request = token_request(challenge, ("repository:a:pull,push", "repository:b:pull"), Credentials("u", "p"))
    assert request.method == "GET"
    assert request.url.params.get_list("scope") == ["repository:a:pull,push", "repository:b:pull",
                                                    "repository:a:pull"]
    assert request.url.params["service"] == "reg"
    assert request.headers["authorization"] == "Basic " + b64("u:p")
    anonymous = token_request(challenge, (), Credentials())
    assert "authorization" not in anonymous.headers


def test_token_request_with_identity_token_is_an_oauth_refresh() -> None:
    challenge = Challenge("bearer", {"realm": "https://auth.test/token", "service": "reg"})
    request = token_request(challenge, ("repository:a:pull",), Credentials("u", "", "refresh-me"))
    assert request.method == "POST"
    body = request.read().decode()
    assert "grant_type=refresh_token" in body and "refresh_token=refresh-me" in body


def test_parse_token_response_defaults_to_60_seconds() -> None:
    assert parse_token_response(b'{"access_token": "t"}', now=100.0).expires_at == pytest.approx(155.0)
    lasting = parse_token_response(b'{"token": "t", "expires_in": 300}', now=0.0)
    assert lasting.expires_at == pytest.approx(295.0)
    with pytest.raises(ValueError, match="no `token`"):
        parse_token_response(b'{"expires_in": 300}', now=0.0)


def test_authorizer_caches_tokens_per_scope_until_expiry() -> None:
    clock = [0.0]
    authorizer = Authorizer(lambda: Credentials(), clock=lambda: clock[0])
    scopes = ("repository:a:pull",)
    assert authorizer.header(scopes) is None  # no challenge seen yet: send anonymously
    authorizer.learn(Challenge("bearer", {"realm": "https://t"}))
    authorizer.store(scopes, b'{"token": "abc", "expires_in": 60}')
    assert authorizer.header(scopes) == "Bearer abc"
    assert authorizer.header(("repository:b:pull",)) is None  # another scope needs its own token
    clock[0] = 56.0
    assert authorizer.header(scopes) is None  # expired (with the safety margin)


def test_authorizer_reads_credentials_lazily_once() -> None:
    calls: list[int] = []

    def load() -> Credentials:
        calls.append(1)
        return Credentials("u", "p")

    authorizer = Authorizer(load)
    assert calls == []
    authorizer.learn(Challenge("basic", {}))
    assert authorizer.header(()) == "Basic " + b64("u:p")
    assert authorizer.header(()) == "Basic " + b64("u:p")
    assert calls == [1]
