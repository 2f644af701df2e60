"""Container registries: references (pure), credentials and tokens, the OCI distribution client, meta images.

Only the pure error types are re-exported here, so importing `shipyard.registry.reference`
stays free of httpx.
"""

from shipyard.registry.reference import InvalidReferenceError, RegistryError

__all__ = ["InvalidReferenceError", "RegistryError"]
