"""`kubernetes://NAMESPACE[:CONTEXT][@CONFIG_PATH|@base64:DATA]` addresses and the kubeconfig they point to.

The address is split as werf's ParseKubernetesParams splits it: at the first `@` (config), then at the first
`:` (context); an empty namespace means `werf-synchronization` (werf-internals §5.5). The kubeconfig is the
given file, the given base64 YAML, or else `$KUBECONFIG` (a `:`-separated list merged as kubectl does: the
first file that names a cluster, user or context wins, and the first `current-context` set) or
`~/.kube/config`.

What is read of it: the context (the given one or `current-context`), its cluster's `server`,
`certificate-authority[-data]` and `insecure-skip-tls-verify`, its user's `token`/`tokenFile`,
`client-certificate[-data]` + `client-key[-data]` or `username`/`password`. Relative paths are relative to the
kubeconfig file. `exec` and `auth-provider` plugins, `tls-server-name` and `proxy-url` are not supported and
are refused with an error rather than ignored; so is in-cluster service-account configuration.
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shipyard.errors import ShipyardError

SCHEME = "kubernetes://"
DEFAULT_NAMESPACE = "werf-synchronization"
_HINT = "check the kubeconfig (kubectl config view), or pass one: kubernetes://NAMESPACE@/path/to/kubeconfig"


@dataclass(frozen=True)
class KubernetesAddress:
    namespace: str
    context: str = ""  # "" → the kubeconfig's current-context
    config_path: str = ""
    config_base64: str = ""

    def describe(self) -> str:
        """For messages: never the kubeconfig data (it may hold credentials)."""
        context = f" (context {self.context})" if self.context else ""
        return f"kubernetes namespace {self.namespace}{context}"


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach and authenticate to one API server (the chosen kubeconfig context)."""

    context: str
    server: str
    ca_pem: bytes | None = None
    insecure: bool = False
    token: str | None = None
    basic_auth: tuple[str, str] | None = None
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_pem is not None:
            try:
                context.load_verify_locations(cadata=self.ca_pem.decode("ascii", "replace"))
            except ssl.SSLError as error:
                raise ShipyardError(f"kubeconfig context {self.context!r}: bad certificate authority: "
                                    f"{error}", hint=_HINT) from error
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert_pem is not None and self.client_key_pem is not None:
            _load_client_certificate(context, self.client_cert_pem, self.client_key_pem, self.context)
        return context


def parse_address(address: str) -> KubernetesAddress:
    if not address.lower().startswith(SCHEME):
        raise ShipyardError(f"not a kubernetes:// address: {address.split('@', 1)[0]!r}")
    target, _, config = address[len(SCHEME):].partition("@")
    namespace, _, context = target.partition(":")
    namespace = namespace or DEFAULT_NAMESPACE
    if not _valid_namespace(namespace):
        raise ShipyardError(f"invalid Kubernetes namespace {namespace!r} in --synchronization",
                            hint="a namespace is a DNS label: lowercase letters, digits and '-', at most 63")
    if config.startswith("base64:"):
        return KubernetesAddress(namespace, context, config_base64=config[len("base64:"):])
    return KubernetesAddress(namespace, context, config_path=config)


def _valid_namespace(name: str) -> bool:
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-")
    return 0 < len(name) <= 63 and set(name) <= allowed and name[0] != "-" and name[-1] != "-"


def load_access(address: KubernetesAddress, environ: Mapping[str, str] | None = None) -> ClusterAccess:
    """Read the kubeconfig of `address` and resolve its context (I/O: reads files)."""
    env = os.environ if environ is None else environ
    documents = _kubeconfig_documents(address, env)
    merged = _merge(documents)
    context_name = address.context or merged.current_context
    if not context_name:
        raise ShipyardError("the kubeconfig sets no current-context and the address names none",
                            hint="use kubernetes://NAMESPACE:CONTEXT[@CONFIG]")
    context = _entry(merged.contexts, context_name, "context")
    cluster = _entry(merged.clusters, str(context.body.get("cluster") or ""), "cluster", context_name)
    user_name = str(context.body.get("user") or "")
    user = _entry(merged.users, user_name, "user", context_name) if user_name else _Entry({}, Path.cwd())
    return _access(context_name, cluster, user)


@dataclass(frozen=True)
class _Entry:
    body: dict[str, Any]
    base: Path  # the directory relative paths are resolved against


@dataclass
class _Merged:
    current_context: str
    clusters: dict[str, _Entry]
    users: dict[str, _Entry]
    contexts: dict[str, _Entry]


def _kubeconfig_documents(address: KubernetesAddress, env: Mapping[str, str]) -> list[tuple[str, Path, Any]]:
    """(label for messages, base directory, parsed YAML) of every kubeconfig to merge, in precedence order."""
    if address.config_base64:
        try:
            text = base64.b64decode(address.config_base64, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as error:
            raise ShipyardError(f"the kubeconfig after @base64: is not base64 of UTF-8 text: {error}",
                                hint="encode it with `base64 -w0 < kubeconfig`") from None
        return [("the kubeconfig given as base64", Path.cwd(), _parse_yaml(text, "the base64 kubeconfig"))]
    if address.config_path:
        paths = [Path(address.config_path).expanduser()]
    elif env.get("KUBECONFIG"):
        paths = [Path(part).expanduser() for part in env["KUBECONFIG"].split(os.pathsep) if part]
    else:
        paths = [Path(env.get("HOME", str(Path.home()))) / ".kube" / "config"]
    documents = []
    for path in paths:
        try:
            text = path.read_text()
        except FileNotFoundError:
            if address.config_path or len(paths) == 1:
                raise ShipyardError(f"kubeconfig {path} does not exist", hint=_HINT) from None
            continue  # kubectl skips missing files of a KUBECONFIG list
        except OSError as error:
            raise ShipyardError(f"cannot read kubeconfig {path}: {error.strerror or error}",
                                hint=_HINT) from None
        documents.append((str(path), path.resolve().parent, _parse_yaml(text, str(path))))
    if not documents:
        raise ShipyardError("none of the files in KUBECONFIG exists", hint=_HINT)
    return documents


def _parse_yaml(text: str, label: str) -> Any:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ShipyardError(f"{label} is not valid YAML: {error}", hint=_HINT) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ShipyardError(f"{label} is not a kubeconfig (not a YAML mapping)", hint=_HINT)
    return document


def _merge(documents: list[tuple[str, Path, Any]]) -> _Merged:
    merged = _Merged("", {}, {}, {})
    for label, base, document in documents:
        merged.current_context = merged.current_context or str(document.get("current-context") or "")
        sections = (("clusters", "cluster", merged.clusters), ("users", "user", merged.users),
                    ("contexts", "context", merged.contexts))
        for section, field, target in sections:
            for item in document.get(section) or []:
                if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                    raise ShipyardError(f"{label}: every entry of {section} needs a name", hint=_HINT)
                body = item.get(field) or {}
                if not isinstance(body, dict):
                    raise ShipyardError(f"{label}: {section} entry {item['name']!r} is not a mapping",
                                        hint=_HINT)
                target.setdefault(item["name"], _Entry(body, base))
    return merged


def _entry(entries: dict[str, _Entry], name: str, kind: str, context: str = "") -> _Entry:
    found = entries.get(name)
    if found is None:
        where = f" (used by context {context!r})" if context else ""
        known = ", ".join(sorted(entries)) or "none"
        raise ShipyardError(f"the kubeconfig has no {kind} {name!r}{where}; it has: {known}", hint=_HINT)
    return found


def _access(context: str, cluster: _Entry, user: _Entry) -> ClusterAccess:
    for entry, fields in ((cluster, ("tls-server-name", "proxy-url")), (user, ("exec", "auth-provider"))):
        for field in fields:
            if entry.body.get(field):
                raise ShipyardError(
                    f"kubeconfig context {context!r} uses {field!r}, which shipyard does not support",
                    hint="use a context with a bearer token or a client certificate (for instance a service "
                         "account token)")
    server = str(cluster.body.get("server") or "")
    if not server.startswith(("https://", "http://")):
        raise ShipyardError(f"kubeconfig context {context!r}: the cluster has no http(s) server URL",
                            hint=_HINT)
    token = user.body.get("token") or None
    if token is None and user.body.get("tokenFile"):
        token = _read(user, "tokenFile", context).decode().strip()
    basic = None
    if user.body.get("username") and user.body.get("password"):
        basic = (str(user.body["username"]), str(user.body["password"]))
    cert, key = _pem(user, "client-certificate", context), _pem(user, "client-key", context)
    if (cert is None) != (key is None):
        raise ShipyardError(f"kubeconfig context {context!r}: a client certificate needs its key and vice "
                            "versa", hint=_HINT)
    return ClusterAccess(context=context, server=server.rstrip("/"),
                         ca_pem=_pem(cluster, "certificate-authority", context),
                         insecure=bool(cluster.body.get("insecure-skip-tls-verify")),
                         token=str(token) if token else None, basic_auth=basic, client_cert_pem=cert,
                         client_key_pem=key)


def _pem(entry: _Entry, field: str, context: str) -> bytes | None:
    """`FIELD-data` (base64) or `FIELD` (a file path), as bytes."""
    data = entry.body.get(f"{field}-data")
    if data:
        try:
            return base64.b64decode(str(data), validate=True)
        except binascii.Error:
            raise ShipyardError(f"kubeconfig context {context!r}: {field}-data is not base64",
                                hint=_HINT) from None
    if entry.body.get(field):
        return _read(entry, field, context)
    return None


def _read(entry: _Entry, field: str, context: str) -> bytes:
    path = entry.base / Path(str(entry.body[field])).expanduser()
    try:
        return path.read_bytes()
    except OSError as error:
        raise ShipyardError(f"kubeconfig context {context!r}: cannot read {field} {path}: "
                            f"{error.strerror or error}", hint=_HINT) from None


def _load_client_certificate(context: ssl.SSLContext, cert: bytes, key: bytes, name: str) -> None:
    """ssl loads a certificate chain only from files: write both to a private temporary file and remove it."""
    with tempfile.TemporaryDirectory(prefix="shipyard-kube-") as directory:
        path = Path(directory) / "client.pem"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(cert.rstrip(b"\n") + b"\n" + key)
        try:
            context.load_cert_chain(path)
        except ssl.SSLError as error:
            raise ShipyardError(f"kubeconfig context {name!r}: bad client certificate or key: {error}",
                                hint=_HINT) from error
