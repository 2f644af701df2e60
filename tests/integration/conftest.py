"""Fixtures for integration tests: a real registry, a private buildah store and a busybox base image.

Nothing here imports shipyard: the fixtures describe the environment the code under test runs in, so
a bug in shipyard can never make its own test environment look healthy.

Session fixtures (shared, started once per pytest process, so one per xdist worker):
  registry       docker-registry on 127.0.0.1:<random port>, plain HTTP, deletes enabled
  buildah_store  a private buildah store (--root/--runroot under a tmp dir), chroot isolation
  busybox_image  scripts/base-image built into buildah_store and pushed as <registry>/base/busybox:latest
Per test:
  registry_repo  a fresh repository reference "<address>/t/<test-name>-<random>" in the session registry
Factories, for tests that need their own instance (to break it, or to watch its teardown):
  registry_factory, buildah_store_factory  -> context managers yielding a Registry / BuildahStore
"""

from __future__ import annotations

import contextlib
import ctypes
import email.message
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support import require_tools

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
BASE_IMAGE_SCRIPT = REPO_ROOT / "scripts" / "base-image"
REGISTRY_READY_TIMEOUT = 15.0
# The distribution spec's repository-name grammar (lowercase path components).
REPO_NAME = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
# Loaded in the parent: calling dlopen between fork and exec in a threaded process can deadlock.
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test below this directory `integration`, so `-m "not integration"` needs no care."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


class CommandFailed(subprocess.CalledProcessError):
    """A CalledProcessError whose message carries stderr, so a failing fixture explains itself."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nstderr:\n{self.stderr or ''}".rstrip()


def _die_with_parent() -> None:
    # Runs in the child before exec: if pytest is killed outright (CI timeout, SIGKILL), the kernel
    # sends SIGTERM to the child instead of leaving it listening forever.
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _free_port() -> int:
    # The kernel picks a free port; it is released before the registry binds it, so a race with
    # another process is possible and start_registry retries on "address already in use".
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Loopback requests must never go through an HTTP(S)_PROXY from the environment.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url: str, timeout: float = 5.0) -> tuple[int, email.message.Message, bytes]:
    """GET without raising on HTTP error statuses: (status, headers, body)."""
    try:
        with _HTTP.open(url, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


# --- registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registry:
    address: str  # "127.0.0.1:PORT", the form image references use
    workdir: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def config_path(self) -> Path:
        return self.workdir / "config.yml"

    @property
    def log_path(self) -> Path:
        return self.workdir / "registry.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def repo(self, name: str) -> str:
        """The reference "ADDRESS/name" of a repository, after checking the name is valid."""
        if not REPO_NAME.fullmatch(name):
            raise ValueError(f"invalid repository name {name!r}")
        return f"{self.address}/{name}"

    def get(self, path: str) -> tuple[int, email.message.Message, bytes]:
        return http_get(self.url + path)


class _PortTaken(Exception):
    pass


def _write_registry_config(workdir: Path, address: str) -> None:
    # JSON is valid YAML and needs no quoting rules for paths.
    config: dict[str, Any] = {
        "version": "0.1",
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(workdir / "data")},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        # A fixed secret silences the "no HTTP secret provided" warning on every start.
        "http": {"addr": address, "secret": secrets.token_hex(16)},
    }
    (workdir / "config.yml").write_text(json.dumps(config, indent=2) + "\n")
    # The registry creates it lazily on the first push; tests may want to look before that.
    (workdir / "data").mkdir(exist_ok=True)


def _owns_listener(pid: int, port: int) -> bool:
    """Whether process `pid` holds the socket listening on 127.0.0.1:`port`."""
    local = f"0100007F:{port:04X}"  # /proc/net/tcp spells addresses in host (little-endian) order
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(f"socket:[{fields[9]}]")
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in inodes:
                    return True
    return False


def _wait_ready(reg: Registry) -> None:
    deadline = time.monotonic() + REGISTRY_READY_TIMEOUT
    while time.monotonic() < deadline:
        if reg.process.poll() is not None:
            if "address already in use" in reg.log():
                raise _PortTaken
            pytest.fail(
                f"docker-registry exited with {reg.process.returncode} before answering; log:\n{reg.log()}",
                pytrace=False,
            )
        # Probe only once our own process holds the port: a squatter that grabbed it first could
        # hang the probe or, worse, answer 200 for a registry that is already dying.
        if _owns_listener(reg.process.pid, reg.port):
            with contextlib.suppress(OSError):
                if http_get(reg.url + "/v2/", timeout=1.0)[0] == 200:
                    return
        time.sleep(0.05)
    pytest.fail(
        f"docker-registry on {reg.address} did not answer GET /v2/ within {REGISTRY_READY_TIMEOUT}s;"
        f" log:\n{reg.log()}",
        pytrace=False,
    )


def _launch_registry(workdir: Path) -> Registry:
    workdir.mkdir(parents=True, exist_ok=True)
    for _ in range(5):
        address = f"127.0.0.1:{_free_port()}"
        _write_registry_config(workdir, address)
        with (workdir / "registry.log").open("ab") as log:
            proc = subprocess.Popen(
                ["docker-registry", "serve", str(workdir / "config.yml")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        reg = Registry(address=address, workdir=workdir, process=proc)
        try:
            _wait_ready(reg)
        except _PortTaken:
            _stop(proc)
            continue
        except BaseException:
            _stop(proc)
            raise
        return reg
    pytest.fail(f"docker-registry could not bind a free loopback port; log:\n{reg.log()}", pytrace=False)


@contextlib.contextmanager
def start_registry(workdir: Path) -> Iterator[Registry]:
    """A running registry for the duration of the block; the process is gone when the block exits."""
    reg = _launch_registry(workdir)
    try:
        yield reg
    finally:
        _stop(reg.process)
        # Guard the promise "no process left behind": _stop waited, so this only trips on a bug.
        assert reg.process.returncode is not None, f"docker-registry pid {reg.process.pid} still running"


# --- buildah store ---------------------------------------------------------------------------

# Storage settings from the caller's environment would silently change the private store.
_STORE_ENV_DROP = ("CONTAINERS_STORAGE_CONF", "STORAGE_DRIVER", "STORAGE_OPTS")


@dataclass(frozen=True)
class BuildahStore:
    path: Path  # holds root/ and runroot/; removed on teardown
    driver: str

    @property
    def root(self) -> Path:
        return self.path / "root"

    @property
    def runroot(self) -> Path:
        return self.path / "runroot"

    @property
    def args(self) -> list[str]:
        """Global flags that select this store: `buildah *store.args SUBCOMMAND …`."""
        return ["--root", str(self.root), "--runroot", str(self.runroot), "--storage-driver", self.driver]

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _STORE_ENV_DROP}
        # The default oci isolation (crun) fails on these hybrid-cgroup hosts; chroot works.
        env["BUILDAH_ISOLATION"] = "chroot"
        return env

    def run(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run `buildah <store flags> ARGS`; raise CommandFailed (with stderr) on a non-zero exit."""
        cmd = ["buildah", *self.args, *args]
        done = subprocess.run(
            cmd, input=input, capture_output=True, text=True, env=self.env, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            raise CommandFailed(done.returncode, cmd, done.stdout, done.stderr)
        return done


def mounts_below(path: Path) -> list[Path]:
    """Mount points at or below `path` in this mount namespace, deepest first."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        # Field 5 is the mount point, with space, tab, newline and backslash octal-escaped.
        point = Path(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4]))
        if point == path or path in point.parents:
            found.append(point)
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def _remove_store(store: BuildahStore) -> None:
    # `buildah mount` leaves overlay mounts (and a private bind of root/overlay) in the host
    # namespace; buildah itself removes them cleanly, so ask it first.
    store.run("umount", "--all", check=False, timeout=60)
    store.run("rm", "--all", check=False, timeout=60)
    # Whatever a killed buildah left mounted: unmount directly, lazily as the last resort, so that
    # rmtree never descends into a live mount and nothing outlives the test session.
    for point in mounts_below(store.path):
        if subprocess.run(["umount", str(point)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
    shutil.rmtree(store.path, ignore_errors=True)
    leaked = mounts_below(store.path)
    assert not leaked, f"mounts left below {store.path}: {leaked}"


def _pick_driver(path: Path) -> str:
    # The overlay driver test-mounts when a store opens; fall back to vfs where that fails.
    for driver in ("overlay", "vfs"):
        probe = BuildahStore(path=path, driver=driver).run("images", "-q", check=False, timeout=60)
        if probe.returncode == 0:
            return driver
    raise CommandFailed(probe.returncode, probe.args, probe.stdout, probe.stderr)


@contextlib.contextmanager
def open_buildah_store(path: Path) -> Iterator[BuildahStore]:
    """An empty private store for the duration of the block; removed, with no mounts left, after it."""
    path.mkdir(parents=True, exist_ok=True)
    store = BuildahStore(path=path, driver=_pick_driver(path))
    try:
        yield store
    finally:
        _remove_store(store)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def registry_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[], contextlib.AbstractContextManager[Registry]]:
    require_tools("docker-registry")
    return lambda: start_registry(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="session")
def registry(
    registry_factory: Callable[[], contextlib.AbstractContextManager[Registry]],
) -> Iterator[Registry]:
    with registry_factory() as reg:
        yield reg


@pytest.fixture
def registry_repo(registry: Registry, request: pytest.FixtureRequest) -> str:
    """A repository no other test uses: "ADDRESS/t/<test name>-<8 hex>"."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:60].strip("-") or "test"
    return registry.repo(f"t/{slug}-{secrets.token_hex(4)}")


@pytest.fixture(scope="session")
def buildah_store_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[], contextlib.AbstractContextManager[BuildahStore]]:
    require_tools("buildah")
    return lambda: open_buildah_store(tmp_path_factory.mktemp("buildah"))


@pytest.fixture(scope="session")
def buildah_store(
    buildah_store_factory: Callable[[], contextlib.AbstractContextManager[BuildahStore]],
) -> Iterator[BuildahStore]:
    with buildah_store_factory() as store:
        yield store


@dataclass(frozen=True)
class BaseImage:
    local: str  # name in buildah_store: localhost/busybox:latest
    remote: str  # ADDRESS/base/busybox:latest in the session registry
    image_id: str  # full hex ID in buildah_store (reproducible: same busybox, same ID)
    digest: str  # "sha256:…" of the manifest as pushed


@pytest.fixture(scope="session")
def busybox_image(
    buildah_store: BuildahStore, registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> BaseImage:
    require_tools("buildah", "busybox")
    local = "localhost/busybox:latest"
    remote = registry.repo("base/busybox") + ":latest"
    digestfile = tmp_path_factory.mktemp("base-image") / "digest"
    # Pass the store's resolved driver so the script does not probe again.
    cmd = ["bash", str(BASE_IMAGE_SCRIPT), *buildah_store.args, "--tag", local, "-q"]
    cmd += ["--push", remote, "--tls-verify=false", "--digestfile", str(digestfile)]
    done = subprocess.run(
        cmd, capture_output=True, text=True, env=buildah_store.env, timeout=300, check=False
    )
    if done.returncode != 0:
        raise CommandFailed(done.returncode, cmd, done.stdout, done.stderr)
    image_id = buildah_store.run("images", "-q", "--no-trunc", local).stdout.split()[0]
    return BaseImage(
        local=local,
        remote=remote,
        image_id=image_id.removeprefix("sha256:"),
        digest=digestfile.read_text().strip(),
    )
