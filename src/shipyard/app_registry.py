"""`shipyard cr login/logout` with werf's semantics: a user name is required, and the credentials are proven
against the registry before they are stored."""

from __future__ import annotations

from typing import Any

from shipyard.errors import UsageError
from shipyard.registry.auth import Credentials, auth_file_path, login, logout
from shipyard.registry.client import RegistryClient
from shipyard.registry.reference import validate_registry_host


def registry_host(text: str) -> str:
    """Accept `host[:port]` or a URL like `https://host:port/`, as werf does."""
    host = text.split("://", 1)[-1].split("/", 1)[0]
    return validate_registry_host(host)


def run(command: str, options: dict[str, Any]) -> None:
    host = registry_host(str(options["registry"]))
    if command == "cr-logout":
        removed = logout(host)
        print(f"Removed credentials of {host} from {auth_file_path()}" if removed
              else f"No credentials of {host} in {auth_file_path()}")
        return
    username, password = str(options.get("username") or ""), str(options.get("password") or "")
    if not username:
        raise UsageError("provide --username (-u)",
                         hint="for a token, give a user name the registry accepts and the token as -p")
    if not password:
        raise UsageError("provide --password (-p) or --password-stdin")
    insecure = True if options.get("insecure_registry") else None
    with RegistryClient(host, insecure=insecure, credentials=Credentials(username, password)) as client:
        client.ping()
    path = login(host, username, password)
    print(f"Successful login to {host} (credentials stored in {path})")
