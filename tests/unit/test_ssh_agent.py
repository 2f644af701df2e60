"""Which SSH agent a build uses (werf's order) and what buildah's --ssh gets."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from shipyard.build import dockerfile_ssh
from shipyard.errors import UsageError
from shipyard.ssh_agent import ssh_agent


def test_the_users_agent_is_used_when_no_key_is_given(tmp_path: Path) -> None:
    path = tmp_path / "agent.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        with ssh_agent((), environ={"SSH_AUTH_SOCK": str(path)}, home=tmp_path) as agent:
            assert agent == path


def test_no_agent_and_no_default_key_means_no_agent(tmp_path: Path) -> None:
    stale = tmp_path / "gone.sock"  # SSH_AUTH_SOCK naming a socket that is not there is ignored
    with ssh_agent((), environ={"SSH_AUTH_SOCK": str(stale)}, home=tmp_path) as agent:
        assert agent is None


def test_a_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"), ssh_agent([str(tmp_path / "nope")]):
        pass


def test_dockerfile_ssh_value() -> None:
    agent = Path("/tmp/agent.sock")
    assert dockerfile_ssh("", agent) == "default=/tmp/agent.sock"
    assert dockerfile_ssh("default", agent) == "default=/tmp/agent.sock"
    assert dockerfile_ssh("", None) == ""
    assert dockerfile_ssh("deploy=/keys/deploy", agent) == "deploy=/keys/deploy"  # werf.yaml ssh: as given
