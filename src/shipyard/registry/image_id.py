"""The ID (config digest) of an image in its registry, for one platform: what Stapel `fromLatest` hashes
(werf `getFromBaseImageIdFromRegistry` → `GetRepoImage(...).ID`), so a moved tag changes the `from` digest."""

from __future__ import annotations

from shipyard.errors import ShipyardError
from shipyard.registry.client import Manifest, RegistryClient
from shipyard.registry.reference import RegistryError, parse_reference
from shipyard.stages.platform import normalize_platform


def remote_image_id(reference: str, platform: str, *, tls_verify: bool = True) -> str:
    """"sha256:<config digest>" of `reference` for `platform` (an index is resolved to that platform)."""
    parsed = parse_reference(reference)
    insecure = None if tls_verify else True
    try:
        with RegistryClient(parsed.registry, insecure=insecure, skip_tls_verify=not tls_verify) as client:
            manifest = client.get_manifest(parsed.path, parsed.identifier)
            if manifest.is_index:
                manifest = client.get_manifest(parsed.path, _platform_child(manifest, platform, reference))
    except RegistryError as error:
        raise ShipyardError(f"cannot read the ID of base image {reference} (fromLatest): {error.message}",
                            hint="fromLatest asks the registry for the image's current ID; check the "
                                 "reference and that the registry is reachable") from None
    digest = (manifest.document.get("config") or {}).get("digest")
    if not digest:
        raise ShipyardError(f"base image {reference} has no config in its manifest",
                            hint="fromLatest needs an image manifest (Docker schema 2 or OCI)")
    return str(digest)


def _platform_child(index: Manifest, platform: str, reference: str) -> str:
    wanted = normalize_platform(platform)
    available = []
    for entry in index.document.get("manifests") or []:
        spec = entry.get("platform") or {}
        parts = [spec.get("os", ""), spec.get("architecture", "")]
        if spec.get("variant"):
            parts.append(spec["variant"])
        name = "/".join(part for part in parts if part)
        available.append(name)
        if name and normalize_platform(name) == wanted:
            return str(entry["digest"])
    raise ShipyardError(f"base image {reference} has no {wanted} image (it has: {', '.join(available)})",
                        hint="choose a base image built for the target platform")
