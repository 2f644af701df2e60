"""Secret files: written privately for env/value secrets, used in place for src ones, gone afterwards."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shipyard.build_secrets import prepared_secrets
from shipyard.config.model import Secret
from shipyard.errors import ConfigError


def test_env_and_value_secrets_are_private_files_removed_afterwards(tmp_path: Path) -> None:
    (tmp_path / "creds").write_text("from a file\n")
    secrets = [Secret("token", value="v4lue"), Secret("API_KEY", env="API_KEY"), Secret("creds", src="creds")]
    with prepared_secrets(secrets, project_dir=tmp_path, image_name="app", environ={"API_KEY": "k3y"},
                          parent=tmp_path) as prepared:
        files = {secret.id: secret.path for secret in prepared.files}
        assert files["token"].read_text() == "v4lue" and files["API_KEY"].read_text() == "k3y"
        assert files["creds"] == tmp_path / "creds"  # a src secret is read where it is
        assert stat.S_IMODE(files["token"].stat().st_mode) == 0o600
        assert stat.S_IMODE(files["token"].parent.stat().st_mode) == 0o700
        assert {"v4lue", "k3y", "from a file\n", "from a file"} <= set(prepared.values)
    assert not files["token"].exists() and not files["token"].parent.exists()
    assert (tmp_path / "creds").exists()


def test_a_missing_variable_or_file_is_a_located_error(tmp_path: Path) -> None:
    with (pytest.raises(ConfigError, match="API_KEY is not set") as missing_env,
          prepared_secrets([Secret("API_KEY", env="API_KEY", line=7)], project_dir=tmp_path, image_name="app",
                           environ={})):
        pass
    assert missing_env.value.render().startswith("werf.yaml:7: image 'app': secret 'API_KEY'")
    with (pytest.raises(ConfigError, match="cannot read"),
          prepared_secrets([Secret("creds", src="~/no/such/file")], project_dir=tmp_path, image_name="app",
                           environ={})):
        pass
