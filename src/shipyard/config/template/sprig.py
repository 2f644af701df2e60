"""sprig's TxtFuncMap (Masterminds/sprig v3.2.3, as werf uses it) minus ``expandenv`` and ``env``.

``env`` is left out on purpose: werf replaces it with a giterminism-gated version, which callers add through
``render(functions=…)``. Functions whose Go implementations need crypto or the network are registered so that
templates using them still parse, but calling them fails with a clear message."""

from __future__ import annotations

from collections.abc import Callable

from . import (
    sprig_convert,
    sprig_dates,
    sprig_defaults,
    sprig_dicts,
    sprig_encoding,
    sprig_lists,
    sprig_semver,
    sprig_strings,
)
from .errors import GoError

UNSUPPORTED = (
    "bcrypt",
    "htpasswd",
    "genPrivateKey",
    "derivePassword",
    "buildCustomCert",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "encryptAES",
    "decryptAES",
    "getHostByName",
)


def _unsupported(name: str) -> Callable[..., object]:
    def call(*args: object) -> object:
        raise GoError(f"{name} is not supported by shipyard's template engine")

    return call


def _hello() -> str:
    return "Hello!"


def sprig_functions() -> dict[str, Callable[..., object]]:
    """A fresh name → function map (callers may add or replace entries)."""
    functions: dict[str, Callable[..., object]] = {"hello": _hello}
    for module in (
        sprig_strings,
        sprig_lists,
        sprig_dicts,
        sprig_defaults,
        sprig_convert,
        sprig_encoding,
        sprig_dates,
        sprig_semver,
    ):
        functions.update(module.FUNCTIONS)
    functions.update({name: _unsupported(name) for name in UNSUPPORTED})
    return functions
