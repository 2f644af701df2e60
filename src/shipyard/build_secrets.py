"""Build secrets (`secrets:` in werf.yaml): each becomes a file the build reads at `/run/secrets/<id>`.

`env` and `value` secrets are written to a private directory (0700, files 0600) that exists only while the
image builds; `src` secrets are used where they are (`~` expanded, relative paths from the project
directory). Secrets are never hashed into digests (werf neither), never set as labels, env or build args,
and their values are masked ("******") in the output of the commands that can read them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipyard.config.model import Secret
from shipyard.errors import ConfigError, Location

SECRETS_DIR = "/run/secrets"  # where RUN --mount=type=secret and Stapel commands find them
_MASKED_FILE_BYTES = 64 * 1024  # a src file up to this size is masked whole (a key, a token file)


@dataclass(frozen=True)
class SecretFile:
    id: str
    path: Path  # on the host, readable by the builder only


@dataclass(frozen=True)
class PreparedSecrets:
    files: tuple[SecretFile, ...]
    values: tuple[str, ...]  # what to mask in command output and command lines


@contextlib.contextmanager
def prepared_secrets(secrets: Sequence[Secret], *, project_dir: Path, image_name: str,
                     environ: Mapping[str, str] | None = None,
                     parent: Path | None = None) -> Iterator[PreparedSecrets]:
    """Files for `secrets`, removed on leaving the block whatever happens."""
    if not secrets:
        yield PreparedSecrets((), ())
        return
    environ = os.environ if environ is None else environ
    with tempfile.TemporaryDirectory(prefix="shipyard-secrets-", dir=parent) as scratch:
        os.chmod(scratch, 0o700)
        files: list[SecretFile] = []
        values: list[str] = []
        for number, secret in enumerate(secrets):
            target = Path(scratch) / f"secret-{number}"
            path, value = _secret_file(secret, target, project_dir, image_name, environ)
            files.append(SecretFile(secret.id, path))
            if value.strip():
                values += [value, value.strip()]
        yield PreparedSecrets(tuple(files), tuple(values))


def _secret_file(secret: Secret, target: Path, project_dir: Path, image_name: str,
                 environ: Mapping[str, str]) -> tuple[Path, str]:
    """The file the build reads for `secret` (`target` for env/value ones) and its value to mask."""
    where = Location("werf.yaml", secret.line)
    if secret.src:
        path = project_dir / Path(secret.src).expanduser()  # an absolute path replaces project_dir
        try:
            size = path.stat().st_size
            value = path.read_text(errors="replace") if size <= _MASKED_FILE_BYTES else ""
        except OSError as error:
            message = f"image {image_name!r}: secret {secret.id!r}: cannot read {path}: {error.strerror}"
            raise ConfigError(message, hint="check `src:` of the secret", location=where) from None
        return path, value
    if secret.env:
        if secret.env not in environ:
            raise ConfigError(f"image {image_name!r}: secret {secret.id!r}: environment variable "
                              f"{secret.env} is not set", hint=f"export {secret.env}=… before the build",
                              location=where)
        value = environ[secret.env]
    else:
        value = secret.value
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(value)
    return target, value
