"""No-op rebuild of 20 Dockerfile images already published to a loopback registry, beside the peer
`buildah bud --layers --cache-from REPO --cache-to REPO` (one bud per image, sequential).

Every measured run starts from an empty local store: shipyard gets a new SHIPYARD_HOME, the peer a new
`buildah --root`. Registry requests and blob bytes come from the registry's own access log (Apache combined
format: the response size is in every line); a sentinel `GET /v2/?bench-mark=…` before and after each run
delimits its lines. Two project variants: with an `ARG` right after `FROM` (buildah 1.28 stops its remote
cache lookups at the first ARG step) and without one (the peer at its best).

Target: shipyard >= 10x faster than the peer, <= 25 registry requests and 0 blob bytes downloaded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE_SCRIPT = REPO_ROOT / "scripts" / "base-image"
RESULTS = REPO_ROOT / "bench" / "RESULTS.md"
IMAGES = 20
TARGET_RATIO = 10.0
TARGET_REQUESTS = 25
TARGET_BLOB_BYTES = 0
GREETING = "hello from the noop_rebuild bench"

# Apache combined format, as gorilla/handlers writes it for distribution 2.8:
# 127.0.0.1 - - [22/Nov/2026:20:59:30 +0000] "GET /v2/x/blobs/sha256:… HTTP/1.1" 200 1234 "" "ua"
ACCESS_LINE = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]*\] "(?P<method>[A-Z]+) (?P<uri>\S+) [^"]*" (?P<status>\d{3}) (?P<size>\d+|-)')
BLOB_PATH = re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an HTTP(S)_PROXY
# Storage settings from the caller's environment would silently change the private stores.
_ENV = {k: v for k, v in os.environ.items() if k not in ("CONTAINERS_STORAGE_CONF", "STORAGE_DRIVER",
                                                         "STORAGE_OPTS", "SHIPYARD_HOME")}
_ENV["BUILDAH_ISOLATION"] = "chroot"  # the default oci isolation (crun) fails on these hybrid-cgroup hosts


# --- registry with an access log --------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    uri: str
    status: int
    size: int
    kind: str = ""  # for blob downloads: "config" (an image config JSON) or "layer"

    @property
    def path(self) -> str:
        return self.uri.split("?", 1)[0]

    @property
    def blob_download(self) -> bool:
        return self.method == "GET" and self.status in (200, 206) and bool(BLOB_PATH.match(self.path))


class Registry:
    """`docker-registry serve` (distribution 2.8) on a free loopback port, plain HTTP, access log on."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.log_path = workdir / "registry.log"
        self.address = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._marks = 0

    def start(self) -> None:
        for _ in range(5):
            with socket.socket() as sock:  # released before the registry binds it: retry on a race
                sock.bind(("127.0.0.1", 0))
                self.address = f"127.0.0.1:{sock.getsockname()[1]}"
            config = {
                "version": "0.1",
                # info: distribution logs every request, and accesslog adds the combined-format line.
                "log": {"level": "info", "accesslog": {"disabled": False}},
                "storage": {"filesystem": {"rootdirectory": str(self.workdir / "data")},
                            "delete": {"enabled": True},
                            "maintenance": {"uploadpurging": {"enabled": False}}},
                "http": {"addr": self.address, "secret": secrets.token_hex(16)},
            }
            (self.workdir / "config.yml").write_text(json.dumps(config, indent=2) + "\n")  # JSON is YAML
            with self.log_path.open("ab") as log:
                argv = ["docker-registry", "serve", str(self.workdir / "config.yml")]
                self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and self.process.poll() is None:
                with contextlib.suppress(OSError), _HTTP.open(f"http://{self.address}/v2/", timeout=1) as r:
                    if r.status == 200:
                        return
                time.sleep(0.05)
            self.stop()
        raise RuntimeError(f"docker-registry did not start; log:\n{self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def mark(self) -> int:
        """Send a sentinel request and return the log offset just after its line. Every request of a command
        that has exited was answered before the sentinel, so its line is already in the log."""
        self._marks += 1
        # gorilla/handlers writes a line after the response went out: let a straggler of the run land first.
        time.sleep(0.05)
        token = f"bench-mark={self._marks}-{secrets.token_hex(4)}"
        with _HTTP.open(f"http://{self.address}/v2/?{token}", timeout=5) as resp:
            resp.read()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            data = self.log_path.read_bytes()
            at = data.find(token.encode())
            if at >= 0:
                end = data.find(b"\n", at)
                return len(data) if end < 0 else end + 1
            time.sleep(0.01)
        raise RuntimeError(f"sentinel {token} never reached the registry access log")

    def requests(self, start: int, end: int) -> list[Request]:
        with self.log_path.open("rb") as log:
            log.seek(start)
            chunk = log.read(end - start).decode(errors="replace")
        found = []
        for line in chunk.splitlines():
            match = ACCESS_LINE.match(line)
            if match and "bench-mark=" not in match["uri"]:
                size = 0 if match["size"] == "-" else int(match["size"])
                request = Request(match["method"], match["uri"], int(match["status"]), size)
                if request.blob_download:
                    request = Request(*astuple(request)[:4], kind=self.blob_kind(request.path))
                found.append(request)
        return found

    def blob_kind(self, path: str) -> str:
        """"config" when the blob in the registry's filesystem storage is an image config, else "layer"."""
        digest = path.rsplit("sha256:", 1)[1]
        blob = self.workdir / "data/docker/registry/v2/blobs/sha256" / digest[:2] / digest / "data"
        with contextlib.suppress(OSError, ValueError):
            if blob.stat().st_size < 1 << 20 and "rootfs" in json.loads(blob.read_bytes()):
                return "config"
        return "layer"


# --- buildah stores ------------------------------------------------------------------------------


def mounts_below(path: Path) -> list[Path]:
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = Path(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4]))
        if point == path or path in point.parents:
            found.append(point)
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def store_args(root: Path, runroot: Path) -> list[str]:
    return ["--root", str(root), "--runroot", str(runroot), "--storage-driver", "overlay"]


def store_contents(root: Path, runroot: Path) -> tuple[int, int] | None:
    """(images, containers) in a store, or None when the store was never created."""
    if not root.exists():
        return None
    counts = []
    for what in ("images", "containers"):
        done = run(["buildah", *store_args(root, runroot), what, "-q", *(["-a"] if what == "images" else [])])
        counts.append(len(done.stdout.split()))
    return counts[0], counts[1]


def remove_tree(path: Path, stores: list[tuple[Path, Path]]) -> None:
    """Remove `path` after emptying the buildah stores under it and unmounting whatever is left mounted."""
    for root, runroot in stores:
        if root.exists():
            for sub in (["umount", "--all"], ["rm", "--all"]):
                subprocess.run(["buildah", *store_args(root, runroot), *sub], capture_output=True, env=_ENV,
                               check=False, timeout=60)
    for point in mounts_below(path):
        if subprocess.run(["umount", str(point)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
    shutil.rmtree(path, ignore_errors=True)


# --- helpers ---------------------------------------------------------------------------------------


def run(argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, env=env or _ENV, cwd=cwd, timeout=timeout,
                          check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-3000:]
        raise RuntimeError(f"{' '.join(argv)} exited with {done.returncode}:\n{tail}")
    return done


def git(repo: Path, *args: str) -> None:
    run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-C", str(repo), *args])


@dataclass(frozen=True)
class Variant:
    name: str  # "arg" or "noarg"
    with_arg: bool
    project_dir: Path
    shipyard_repo: str
    peer_cache: str  # prefix: one repository per image, PEER_CACHE/imgNN


def dockerfile(image: str, with_arg: bool) -> str:
    lines = ["ARG BASE_IMAGE", "FROM $BASE_IMAGE"]
    if with_arg:
        lines.append("ARG GREETING")
    lines += [
        "COPY files/ /app/",
        "RUN cat /app/*.txt > /app/all.txt && wc -c /app/all.txt > /app/size",
        f'RUN echo "${{GREETING:-plain}} {image}" > /app/greeting && mkdir -p /var/lib/{image}',
    ]
    return "\n".join(lines) + "\n"


def generate(variant: Variant, base_image: str, images: list[str]) -> None:
    repo = variant.project_dir
    repo.mkdir(parents=True)
    docs = [f"project: noop-{variant.name}\nconfigVersion: 1\n"]
    for index, image in enumerate(images):
        files = repo / image / "files"
        files.mkdir(parents=True)
        for number, letter in enumerate("abc"):
            line = f"{image} file {letter}: {'x' * (index + number)}\n"
            (files / f"{letter}.txt").write_text(line * (40 * (number + 1)))
        (repo / image / "Dockerfile").write_text(dockerfile(image, variant.with_arg))
        args = f"  BASE_IMAGE: {base_image}\n" + (f"  GREETING: {GREETING}\n" if variant.with_arg else "")
        docs.append(f"image: {image}\ndockerfile: Dockerfile\ncontext: {image}\nargs:\n{args}")
    (repo / "werf.yaml").write_text("---\n".join(docs))
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "noop_rebuild bench")


# --- the two tools -------------------------------------------------------------------------------


@dataclass
class Measurement:
    seconds: float
    requests: list[Request]
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def blob_bytes(self) -> int:
        return sum(r.size for r in self.requests if r.blob_download)

    @property
    def config_bytes(self) -> int:
        return sum(r.size for r in self.requests if r.kind == "config")


Outcome = tuple[float, dict[str, object]]  # wall seconds, notes


@dataclass(frozen=True)
class Shipyard:
    """How to run shipyard: a command prefix, extra environment, and what it is (for RESULTS.md)."""

    command: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    what: str = ""

    def argv(self, *args: str) -> list[str]:
        return [*self.command, *args]

    def environ(self, **extra: str) -> dict[str, str]:
        return dict(_ENV, **dict(self.env), **extra)


def snapshot_shipyard(work: Path) -> Shipyard:
    """A copy of the repository's src/shipyard, run with `python -m shipyard`: other engineers edit the
    editable install while this runs for minutes, and every run must time the same code."""
    source = REPO_ROOT / "src" / "shipyard"
    target = work / "shipyard-src"
    shutil.copytree(source, target / "shipyard", ignore=shutil.ignore_patterns("__pycache__"))
    head = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=False).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "src/shipyard"],
                           capture_output=True, text=True, check=False).stdout.strip()
    what = f"src/shipyard at {head}" + (" plus uncommitted changes" if dirty else "")
    return Shipyard((sys.executable, "-m", "shipyard"), (("PYTHONPATH", str(target)),), what)


def shipyard_build(shipyard: Shipyard, variant: Variant, home: Path, report: Path | None) -> Outcome:
    """One `shipyard build`; with `report`, also --save-build-report (whose Commit field reads each stage's
    labels, i.e. its config blob), else reuse is read from the output lines."""
    env = shipyard.environ(SHIPYARD_HOME=str(home))
    argv = [*shipyard.command, "build", "--dir", str(variant.project_dir), "--repo", variant.shipyard_repo]
    if report is not None:
        argv += ["--save-build-report", "--build-report-path", str(report)]
    started = time.perf_counter()
    done = run(argv, env=env, cwd=variant.project_dir)
    seconds = time.perf_counter() - started
    if report is not None:
        images = json.loads(report.read_text())["Images"]
        rebuilt = sorted(name for name, record in images.items() if record.get("Rebuilt"))
        count = len(images)
    else:
        lines = done.stdout.splitlines()
        rebuilt = sorted(line.split("/")[0] for line in lines if ": Building stage" in line)
        count = sum(": Use previously built image" in line for line in lines) + len(rebuilt)
    root, runroot = home / "buildah" / "root", home / "buildah" / "runroot"
    return seconds, {"images": count, "rebuilt": rebuilt, "store": store_contents(root, runroot)}


def peer_build(variant: Variant, base_image: str, image: str, root: Path, runroot: Path) -> str:
    cache = f"{variant.peer_cache}/{image}"
    context = variant.project_dir / image
    argv = ["buildah", *store_args(root, runroot), "bud", "--layers", "--cache-from", cache,
            "--cache-to", cache, "--tls-verify=false", "--build-arg", f"BASE_IMAGE={base_image}"]
    if variant.with_arg:
        argv += ["--build-arg", f"GREETING={GREETING}"]
    argv += ["-f", str(context / "Dockerfile"), "-t", f"localhost/{image}", str(context)]
    done = run(argv)
    return done.stdout + done.stderr


def peer_pass(variant: Variant, base_image: str, images: list[str], store: Path) -> Outcome:
    root, runroot = store / "root", store / "runroot"
    output = []
    started = time.perf_counter()
    for image in images:
        output.append(peer_build(variant, base_image, image, root, runroot))
    seconds = time.perf_counter() - started
    text = "\n".join(output)
    steps = len(re.findall(r"^STEP \d+/\d+: (?!FROM)", text, re.M))
    pulled = text.count("--> Cache pulled from remote")
    reused = text.count("--> Using cache")  # printed after a remote pull too
    # Steps after FROM: pulled from the remote cache, reused from the local store only, or executed (and then
    # pushed by --cache-to).
    return seconds, {"steps": steps, "pulled": pulled, "local": reused - pulled, "executed": steps - reused}


def measured(registry: Registry, action: Callable[[], Outcome]) -> Measurement:
    """Run `action` between two sentinel requests; keep its wall time and the registry requests it made."""
    start = registry.mark()
    seconds, notes = action()
    end = registry.mark()
    return Measurement(seconds, registry.requests(start, end), notes)


# --- reporting -----------------------------------------------------------------------------------

_GROUPS = (
    (re.compile(r"sha256:[0-9a-f]{64}"), "<digest>"),
    (re.compile(r"/blobs/uploads/[0-9a-f-]{36}"), "/blobs/uploads/<uuid>"),
    (re.compile(r"img\d\d"), "imgNN"),
    (re.compile(r"/manifests/[^/]+$"), "/manifests/<ref>"),
)


def grouped(requests: Sequence[Any], groups: Sequence[tuple[re.Pattern[str], str]] = _GROUPS,
            ) -> list[tuple[str, int, int]]:
    """(METHOD path-pattern STATUS [(kind)], count, bytes), most frequent first."""
    counts: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for request in requests:
        path = request.path
        for pattern, replacement in groups:
            path = pattern.sub(replacement, path)
        kind = getattr(request, "kind", "")
        key = f"{request.method} {path} {request.status}" + (f" ({kind})" if kind else "")
        counts[key] += 1
        sizes[key] += request.size
    return [(key, count, sizes[key]) for key, count in counts.most_common()]


def best(measurements: list[Measurement]) -> Measurement:
    return min(measurements, key=lambda m: m.seconds)


def spread(measurements: list[Measurement]) -> str:
    times = sorted(m.seconds for m in measurements)
    return f"{times[0]:.2f}-{times[-1]:.2f}" if len(times) > 1 else f"{times[0]:.2f}"


def machine() -> str:
    cores = os.cpu_count()
    kernel = os.uname().release
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    distro = "Linux"
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip('"')
    return f"{cores} cores, {distro} VM (kernel {kernel}){memory}"


def versions(shipyard: Shipyard) -> str:
    buildah = run(["buildah", "--version"]).stdout.split()[2].rstrip(",")
    registry = run(["docker-registry", "--version"]).stdout.split()[2]
    ours = run(shipyard.argv("--version"), env=shipyard.environ()).stdout.strip()
    return f"{ours} ({shipyard.what}), buildah {buildah}, docker-registry {registry}"


def table(rows: list[tuple[str, Measurement, list[Measurement]]]) -> list[str]:
    lines = ["| tool | variant | wall s, best (range) | registry requests "
             "| blob bytes downloaded (configs + layers) |", "|---|---|---|---|---|"]
    for label, m, runs in rows:
        tool, variant = label.split(" / ")
        blobs = f"{m.blob_bytes:,} ({m.config_bytes:,} + {m.blob_bytes - m.config_bytes:,})"
        seconds = f"{m.seconds:.2f} ({spread(runs)})"
        lines.append(f"| {tool} | {variant} | {seconds} | {len(m.requests)} | {blobs} |")
    return lines


def build_base(work: Path, registry: Registry) -> str:
    base = f"{registry.address}/base/busybox:latest"
    store = work / "base-store"
    run(["bash", str(BASE_IMAGE_SCRIPT), "--root", str(store / "root"), "--runroot", str(store / "runroot"),
         "--storage-driver", "overlay", "-q", "--push", base, "--tls-verify=false"])
    return base


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measured runs per tool and variant (best of)")
    parser.add_argument("--images", type=int, default=IMAGES)
    parser.add_argument("--shipyard", help="a shipyard executable to run instead of a snapshot of "
                        "src/shipyard run by this Python")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (printed)")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    options = parser.parse_args()
    for tool in ("buildah", "docker-registry", "git", "busybox"):
        if shutil.which(tool) is None:
            print(f"noop_rebuild: {tool} not found (run scripts/setup)", file=sys.stderr)
            return 2

    options.load = os.getloadavg()[0]  # other work on a 2-core VM shows in the numbers: record it
    images = [f"img{n:02}" for n in range(1, options.images + 1)]
    total_started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="shipyard-bench-noop-"))
    stores: list[tuple[Path, Path]] = [(work / "base-store" / "root", work / "base-store" / "runroot")]
    registry = Registry(work / "registry")
    (work / "registry").mkdir()
    # SIGTERM (e.g. a CI timeout) unwinds through the finally below like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if options.shipyard:
            shipyard = Shipyard((options.shipyard,), what=options.shipyard)
        else:
            shipyard = snapshot_shipyard(work)
        registry.start()
        print(f"registry http://{registry.address} (access log {registry.log_path})")
        base = build_base(work, registry)
        variants = [Variant(name, name == "arg", work / f"project-{name}",
                            f"{registry.address}/shipyard-{name}", f"{registry.address}/peercache-{name}")
                    for name in ("arg", "noarg")]
        for variant in variants:
            generate(variant, base, images)

        def shipyard_home(label: str) -> Path:
            home = work / label
            stores.append((home / "buildah" / "root", home / "buildah" / "runroot"))
            return home

        def peer_store(label: str) -> Path:
            store = work / label
            stores.append((store / "root", store / "runroot"))
            return store

        warm: dict[str, Measurement] = {}
        for variant in variants:
            started = time.perf_counter()
            warm[f"shipyard / {variant.name}"] = measured(registry, lambda v=variant: shipyard_build(
                shipyard, v, shipyard_home(f"warm-shipyard-{v.name}"), work / f"warm-{v.name}.json"))
            warm[f"peer / {variant.name}"] = measured(registry, lambda v=variant: peer_pass(
                v, base, images, peer_store(f"warm-peer-{v.name}")))
            print(f"warm-up {variant.name}: {time.perf_counter() - started:.1f}s")
            for label in (f"shipyard / {variant.name}", f"peer / {variant.name}"):
                remove_tree(work / f"warm-{label.split(' / ')[0]}-{variant.name}", stores)

        results: dict[str, list[Measurement]] = {}
        for attempt in range(options.runs):
            for variant in variants:
                label = f"{attempt}-{variant.name}"
                home = shipyard_home(f"shipyard-{label}")
                m = measured(registry, lambda v=variant, h=home: shipyard_build(shipyard, v, h, None))
                results.setdefault(f"shipyard / {variant.name}", []).append(m)
                remove_tree(home, stores)
                home = shipyard_home(f"shipyard-report-{label}")
                m = measured(registry, lambda v=variant, h=home, a=label: shipyard_build(
                    shipyard, v, h, work / f"report-{a}.json"))
                results.setdefault(f"shipyard + report / {variant.name}", []).append(m)
                remove_tree(home, stores)
                store = peer_store(f"peer-{label}")
                m = measured(registry, lambda v=variant, s=store: peer_pass(v, base, images, s))
                results.setdefault(f"peer / {variant.name}", []).append(m)
                remove_tree(store, stores)
            elapsed = time.perf_counter() - total_started
            print(f"measured run {attempt + 1}/{options.runs} done at {elapsed:.0f}s")

        report(options, shipyard, variants, warm, results, time.perf_counter() - total_started)
    finally:
        registry.stop()
        if options.keep:
            print(f"kept {work}")
        else:
            remove_tree(work, stores)
    return 0


def report(options: argparse.Namespace, shipyard: Shipyard, variants: list[Variant],
           warm: dict[str, Measurement], results: dict[str, list[Measurement]], total: float) -> None:
    rows = []
    for variant in variants:
        for tool in ("shipyard", "shipyard + report", "peer"):
            label = f"{tool} / {variant.name}"
            rows.append((label, best(results[label]), results[label]))
    lines = table(rows)
    print()
    print("\n".join(lines))
    notes: list[str] = []
    for variant in variants:
        ours, peer = best(results[f"shipyard / {variant.name}"]), best(results[f"peer / {variant.name}"])
        ratio = peer.seconds / ours.seconds
        met = (ratio >= TARGET_RATIO and len(ours.requests) <= TARGET_REQUESTS
               and ours.blob_bytes <= TARGET_BLOB_BYTES)
        line = (f"ratio peer / shipyard ({variant.name}): **{ratio:.1f}×** "
                f"(target ≥ {TARGET_RATIO:.0f}×, ≤ {TARGET_REQUESTS} requests, 0 blob bytes: "
                f"{'met' if met else 'NOT met'})")
        print(line)
        notes.append(line)
    print()
    details = detail_notes(variants, warm, results)
    print("\n".join(details))
    print(f"\nwhole run {total:.0f}s")
    if not options.no_results:
        append_results(options, shipyard, lines, notes, details, total)


def detail_notes(variants: list[Variant], warm: dict[str, Measurement],
                 results: dict[str, list[Measurement]]) -> list[str]:
    out = []
    for variant in variants:
        runs = results[f"shipyard / {variant.name}"]
        rebuilt = sorted({name for m in runs for name in m.notes["rebuilt"]})  # type: ignore[attr-defined]
        stores = sorted({str(m.notes["store"]) for m in runs})
        store = ", ".join("never created" if s == "None" else f"(images, containers) = {s}" for s in stores)
        out.append(f"* shipyard / {variant.name}: {runs[0].notes['images']} images, "
                   f"Rebuilt=true for {', '.join(rebuilt) or 'none'}; local store after each measured run: "
                   f"{store}; "
                   f"requests per run {sorted({len(m.requests) for m in runs})}.")
        peer_runs = results[f"peer / {variant.name}"]
        n = peer_runs[0].notes
        uploads = [r for r in best(peer_runs).requests if r.method in ("PUT", "PATCH", "POST")]
        out.append(f"* peer / {variant.name}: per pass, of {n['steps']} steps after FROM {n['pulled']} were "
                   f"pulled from the remote cache, {n['local']} reused from the local store, {n['executed']} "
                   "executed; "
                   f"{len(uploads)} upload requests (POST/PATCH/PUT, from --cache-to); requests per pass "
                   f"{sorted({len(m.requests) for m in peer_runs})}.")
    for label, m in warm.items():
        out.append(f"* warm-up {label} (publishes, not measured): {m.seconds:.2f} s, "
                   f"{len(m.requests)} requests.")
    for variant in variants:
        for tool in ("shipyard", "shipyard + report"):
            m = best(results[f"{tool} / {variant.name}"])
            out.append(f"* {tool} / {variant.name}: requests of the best run, grouped "
                       "(METHOD path STATUS: count, bytes):")
            out += [f"  - `{key}`: {count}, {size:,} B" for key, count, size in grouped(m.requests)]
    for variant in variants:
        m = best(results[f"peer / {variant.name}"])
        out.append(f"* peer / {variant.name}: requests of the best pass, grouped:")
        out += [f"  - `{key}`: {count}, {size:,} B" for key, count, size in grouped(m.requests)]
    return out


METHOD_NOTES = [
    "* Method: requests and response sizes come from the registry's access log (distribution 2.8 "
    "`log.accesslog`, Apache combined format); a sentinel `GET /v2/?bench-mark=…` before and after each run "
    "delimits it. Blob bytes: 200/206 `GET /v2/<name>/blobs/sha256:…`, split into image configs and layers.",
    "* Every measured run starts from an empty local store (new SHIPYARD_HOME / new `buildah --root`). "
    "The peer's 20 buds of a pass share that pass's store, so it pulls the base image (~1.1 MB) once per "
    "pass: part of its real cost from an empty store. shipyard needs no base image on a full cache hit.",
    "* Variant arg: `ARG GREETING` right after FROM. buildah 1.28 stops remote cache lookups at the first "
    "ARG step (environment.md), so the peer executes every later step and pushes it again via --cache-to. "
    "Variant noarg: no ARG after FROM (the global `ARG BASE_IMAGE` before FROM does not trigger the bug), "
    "the peer at its best.",
]


def append_results(options: argparse.Namespace, shipyard: Shipyard, lines: list[str], notes: list[str],
                   details: list[str], total: float) -> None:
    date = run(["date"]).stdout.strip()
    section = [
        "", "## noop_rebuild", "",
        f"Machine: {machine()}. Date: {date}. {versions(shipyard)}. Load average (1 min) at the "
        f"start {options.load:.2f}, at the end {os.getloadavg()[0]:.2f}.",
        f"Command: `python bench/noop_rebuild/run.py` ({options.images} Dockerfile images already published; "
        f"every measured run with an empty local store; best of {options.runs}; whole script {total:.0f} s). "
        "Wall seconds (±30 % run to run on this VM); requests and blob bytes from the registry's access log.",
        "",
        *lines, "", *notes, "", *METHOD_NOTES, *details, "",
    ]
    with RESULTS.open("a") as results:
        results.write("\n".join(section))
    print(f"appended the noop_rebuild section to {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
