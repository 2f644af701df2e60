"""Cache-hit rebuild of N Stapel images already published to a loopback registry, beside the peer
`buildah bud --layers --cache-from R/cache --cache-to R/cache` on the equivalent Dockerfiles.

Each Stapel image has 5 stages: from, beforeInstall, gitArchive, install (stageDependencies on deps/*), setup.
Every measured run starts from an empty local store (new SHIPYARD_HOME / new `buildah --root`). Scenarios, in
this order, on one git project: `hit` (again at the commit that was published), `unrelated` (the first build
after a new commit that changes a file outside every git mapping: nothing may be rebuilt; one new commit per
round), `changed` (the first build after a commit that changes src/img01/main.txt: shipyard builds one
gitLatestPatch stage, the peer re-runs COPY and the two RUNs after it; one new commit per round).

The registry helpers (access-log request counting, sentinels, stores, the shipyard snapshot) are imported
from bench/noop_rebuild/run.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS = REPO_ROOT / "bench" / "RESULTS.md"
IMAGES = 20
STAPEL_STAGES = ("from", "beforeInstall", "gitArchive", "install", "setup")


def _load_noop() -> ModuleType:
    path = REPO_ROOT / "bench" / "noop_rebuild" / "run.py"
    spec = importlib.util.spec_from_file_location("noop_rebuild_run", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


noop = _load_noop()
Registry = noop.Registry
Measurement = noop.Measurement
Request = noop.Request
Shipyard = noop.Shipyard
run = noop.run
git = noop.git
measured = noop.measured
remove_tree = noop.remove_tree
store_args = noop.store_args
store_contents = noop.store_contents
best = noop.best
spread = noop.spread

Outcome = tuple[float, dict[str, Any]]


# --- the project ---------------------------------------------------------------------------------


def werf_yaml(base: str, images: list[str]) -> str:
    docs = ["project: stapel-noop\nconfigVersion: 1\n"]
    for image in images:
        docs.append(
            f"image: {image}\n"
            f"from: {base}\n"
            "git:\n"
            f"- add: /src/{image}\n"
            "  to: /app\n"
            "  stageDependencies:\n"
            "    install: [\"deps/*\"]\n"
            "shell:\n"
            "  beforeInstall:\n"
            f"  - echo 'before {image}' > /before.txt\n"
            "  - mkdir -p /var/lib/app\n"
            "  install:\n"
            "  - cat /app/deps/list.txt > /var/lib/app/installed.txt\n"
            "  setup:\n"
            "  - ls /app > /var/lib/app/setup.txt\n")
    return "---\n".join(docs)


def dockerfile(base: str, image: str) -> str:
    """The peer's equivalent of one Stapel image: the same commands, COPY in place of gitArchive."""
    return "\n".join([
        f"FROM {base}",
        f"RUN echo 'before {image}' > /before.txt && mkdir -p /var/lib/app",
        f"COPY src/{image} /app",
        "RUN cat /app/deps/list.txt > /var/lib/app/installed.txt",
        "RUN ls /app > /var/lib/app/setup.txt",
    ]) + "\n"


def generate(project: Path, dockerfiles: Path, base: str, images: list[str]) -> None:
    project.mkdir(parents=True)
    dockerfiles.mkdir(parents=True)
    for index, image in enumerate(images):
        src = project / "src" / image
        (src / "deps").mkdir(parents=True)
        (src / "main.txt").write_text(f"{image} main v1 {'x' * index}\n" * 20)
        (src / "deps" / "list.txt").write_text(f"dep-{image}-a\ndep-{image}-b\n")
        (dockerfiles / f"{image}.Dockerfile").write_text(dockerfile(base, image))
    (project / "werf.yaml").write_text(werf_yaml(base, images))
    (project / "README.md").write_text("stapel_noop bench project\n")
    (project / ".dockerignore").write_text(".git\n")  # the peer's context is the project: skip .git
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "stapel_noop bench")


def commit_change(project: Path, relative: str, text: str, message: str) -> None:
    (project / relative).write_text(text)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)


# --- the two tools -------------------------------------------------------------------------------


def shipyard_build(shipyard: Any, project: Path, repo: str, home: Path, report: Path | None) -> Outcome:
    env = shipyard.environ(SHIPYARD_HOME=str(home))
    argv = [*shipyard.command, "build", "--dir", str(project), "--repo", repo]
    if report is not None:
        argv += ["--save-build-report", "--build-report-path", str(report)]
    started = time.perf_counter()
    done = run(argv, env=env, cwd=project)
    seconds = time.perf_counter() - started
    built = re.findall(r"^(\S+): Building stage", done.stdout, re.M)
    reused = re.findall(r"^(\S+): Use previously built image", done.stdout, re.M)
    root, runroot = home / "buildah" / "root", home / "buildah" / "runroot"
    return seconds, {"built": built, "reused": len(reused), "store": store_contents(root, runroot)}


def peer_pass(project: Path, dockerfiles: Path, cache: str, images: list[str], store: Path) -> Outcome:
    root, runroot = store / "root", store / "runroot"
    output = []
    started = time.perf_counter()
    for image in images:
        argv = ["buildah", *store_args(root, runroot), "bud", "--layers", "--cache-from", cache,
                "--cache-to", cache, "--tls-verify=false", "-f", str(dockerfiles / f"{image}.Dockerfile"),
                "-t", f"localhost/{image}", str(project)]
        done = run(argv)
        output.append(done.stdout + done.stderr)
    seconds = time.perf_counter() - started
    text = "\n".join(output)
    steps = len(re.findall(r"^STEP \d+/\d+: (?!FROM)", text, re.M))
    pulled = text.count("--> Cache pulled from remote")
    reused = text.count("--> Using cache")  # printed after a remote pull too
    return seconds, {"steps": steps, "pulled": pulled, "local": reused - pulled, "executed": steps - reused}


# --- reporting -----------------------------------------------------------------------------------

_GROUPS = (
    (re.compile(r"/manifests/sha256:[0-9a-f]{64}$"), "/manifests/<digest>"),
    (re.compile(r"/manifests/(?!<digest>)[^/]+$"), "/manifests/<tag>"),
    (re.compile(r"sha256:[0-9a-f]{64}"), "<digest>"),
    (re.compile(r"/blobs/uploads/[0-9a-f-]{36}"), "/blobs/uploads/<uuid>"),
)


def grouped(requests: list[Any]) -> list[tuple[str, int, int]]:
    return noop.grouped(requests, _GROUPS)  # type: ignore[no-any-return]


def manifest_bytes(m: Any) -> int:
    return sum(r.size for r in m.requests
               if r.method == "GET" and "/manifests/" in r.path and r.status == 200)


def built_summary(m: Any) -> str:
    notes = m.notes
    if "built" in notes:
        built = notes["built"]
        if len(built) > 5:
            return f"{len(built)} stages ({', '.join(built[:3])}, …)"
        return ", ".join(built) if built else "none"
    return f"{notes['executed']} of {notes['steps']} steps run, {notes['pulled']} pulled"


def table(rows: list[tuple[str, str, list[Any]]]) -> list[str]:
    lines = ["| tool | scenario | wall s, best (range) | built | registry requests | manifest bytes "
             "| blob bytes downloaded (configs + layers) |", "|---|---|---|---|---|---|---|"]
    for tool, scenario, runs in rows:
        m = best(runs)
        blobs = f"{m.blob_bytes:,} ({m.config_bytes:,} + {m.blob_bytes - m.config_bytes:,})"
        lines.append(f"| {tool} | {scenario} | {m.seconds:.2f} ({spread(runs)}) | {built_summary(m)} "
                     f"| {len(m.requests)} | {manifest_bytes(m):,} | {blobs} |")
    return lines


def per_image(results: dict[tuple[str, str], list[Any]], n: int) -> list[str]:
    """What one image's cache hit costs (the best run of each scenario divided by the number of images)."""
    out = []
    for scenario in ("hit", "unrelated"):
        for tool in ("shipyard", "peer"):
            m = best(results[(tool, scenario)])
            out.append(f"* per image, {tool} / {scenario}: {len(m.requests) / n:.2f} requests, "
                       f"{manifest_bytes(m) / n / 1024:.1f} KiB of manifests, "
                       f"{m.config_bytes / n / 1024:.1f} KiB of configs, "
                       f"{(m.blob_bytes - m.config_bytes) / n / 1024:.1f} KiB of layers.")
    return out


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


SCENARIOS = ("hit", "unrelated", "changed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measured runs per tool and scenario (best of)")
    parser.add_argument("--images", type=int, default=IMAGES)
    parser.add_argument("--shipyard", help="a shipyard executable instead of a snapshot of src/shipyard")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (printed)")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    options = parser.parse_args()
    for tool in ("buildah", "docker-registry", "git", "busybox"):
        if shutil.which(tool) is None:
            print(f"stapel_noop: {tool} not found (run scripts/setup)", file=sys.stderr)
            return 2

    load_start = os.getloadavg()[0]
    images = [f"img{n:02}" for n in range(1, options.images + 1)]
    total_started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="shipyard-bench-stapel-"))
    stores: list[tuple[Path, Path]] = [(work / "base-store" / "root", work / "base-store" / "runroot")]
    registry = Registry(work / "registry")
    (work / "registry").mkdir()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        shipyard = Shipyard((options.shipyard,), what=options.shipyard) if options.shipyard \
            else noop.snapshot_shipyard(work)
        registry.start()
        print(f"registry http://{registry.address} (access log {registry.log_path})")
        base = noop.build_base(work, registry)
        project, dockerfiles = work / "project", work / "dockerfiles"
        generate(project, dockerfiles, base, images)
        repo, cache = f"{registry.address}/bench", f"{registry.address}/cache"

        def home(label: str) -> Path:
            path = work / label
            stores.append((path / "buildah" / "root", path / "buildah" / "runroot"))
            return path

        def peer_store(label: str) -> Path:
            path = work / label
            stores.append((path / "root", path / "runroot"))
            return path

        def ours(label: str, report: bool = False) -> Any:
            h = home(label)
            m = measured(registry, lambda: shipyard_build(
                shipyard, project, repo, h, work / f"{label}.json" if report else None))
            remove_tree(h, stores)
            return m

        def peer(label: str) -> Any:
            s = peer_store(label)
            m = measured(registry, lambda: peer_pass(project, dockerfiles, cache, images, s))
            remove_tree(s, stores)
            return m

        warm = {"shipyard": ours("warm-shipyard"), "peer": peer("warm-peer")}
        print(f"warm-up done at {time.perf_counter() - total_started:.0f}s")

        results: dict[tuple[str, str], list[Any]] = {}
        loads = [load_start]

        def record(tool: str, scenario: str, m: Any) -> None:
            results.setdefault((tool, scenario), []).append(m)
            loads.append(os.getloadavg()[0])

        for attempt in range(options.runs):
            record("shipyard", "hit", ours(f"hit-{attempt}"))
            record("shipyard + report", "hit", ours(f"hit-report-{attempt}", report=True))
            record("peer", "hit", peer(f"peer-hit-{attempt}"))
        for attempt in range(options.runs):
            # a new commit each round: the first build at a commit also writes werf's per-commit records
            commit_change(project, "README.md", f"stapel_noop bench project, edit {attempt + 1}\n",
                          f"unrelated change #{attempt + 1}")
            record("shipyard", "unrelated", ours(f"unrelated-{attempt}"))
            record("peer", "unrelated", peer(f"peer-unrelated-{attempt}"))
        for attempt in range(options.runs):
            # a new content each round, so each round has one stage to build
            commit_change(project, f"src/{images[0]}/main.txt", f"{images[0]} main v{attempt + 2}\n",
                          f"change {images[0]} #{attempt + 1}")
            record("shipyard", "changed", ours(f"changed-{attempt}"))
            record("peer", "changed", peer(f"peer-changed-{attempt}"))
        print(f"measured runs done at {time.perf_counter() - total_started:.0f}s")
        report(options, shipyard, images, warm, results, loads, time.perf_counter() - total_started)
    finally:
        registry.stop()
        if options.keep:
            print(f"kept {work}")
        else:
            remove_tree(work, stores)
    return 0


def report(options: argparse.Namespace, shipyard: Any, images: list[str], warm: dict[str, Any],
           results: dict[tuple[str, str], list[Any]], loads: list[float], total: float) -> None:
    rows = [(tool, scenario, runs) for (tool, scenario), runs in results.items()]
    rows.sort(key=lambda row: (SCENARIOS.index(row[1]), row[0] == "peer"))
    lines = table(rows)
    ratios = []
    for scenario in SCENARIOS:
        ours, peer = best(results[("shipyard", scenario)]), best(results[("peer", scenario)])
        ratios.append(f"ratio peer / shipyard ({scenario}): **{peer.seconds / ours.seconds:.1f}×** "
                      f"({peer.seconds:.2f} s / {ours.seconds:.2f} s)")
    n = len(images)
    details = [f"* {n} images × {len(STAPEL_STAGES)} stages ({', '.join(STAPEL_STAGES)}) = "
               f"{n * len(STAPEL_STAGES)} stages."]
    ordered = sorted(results.items(), key=lambda kv: (SCENARIOS.index(kv[0][1]), kv[0][0]))
    for (tool, scenario), runs in ordered:
        m = best(runs)
        extra = ""
        if "store" in m.notes:
            stores = sorted({str(r.notes["store"]) for r in runs})
            extra = ("; local store after each run: "
                     + ", ".join("never created" if s == "None" else f"(images, containers) = {s}"
                                 for s in stores)
                     + f"; stages reused per run {sorted({r.notes['reused'] for r in runs})}")
        details.append(f"* {tool} / {scenario}: requests per run "
                       f"{sorted({len(r.requests) for r in runs})}{extra}; "
                       "best run's requests grouped (METHOD path STATUS: count, bytes):")
        details += [f"  - `{key}`: {count}, {size:,} B" for key, count, size in grouped(m.requests)]
    for tool, m in warm.items():
        details.append(f"* warm-up {tool} (publishes, not measured): {m.seconds:.2f} s, "
                       f"{len(m.requests)} requests, built: {built_summary(m)}.")
    print()
    print("\n".join(lines))
    print("\n".join(ratios))
    print()
    print("\n".join(per_image(results, n)))
    print("\n".join(details))
    print(f"\nwhole run {total:.0f}s")
    if options.no_results:
        return
    date = run(["date"]).stdout.strip()
    section = [
        "", "## stapel_noop", "",
        f"Machine: {noop.machine()}. Date: {date}. {noop.versions(shipyard)}. Load average (1 min) at the "
        f"start {loads[0]:.2f}, highest after a measured run {max(loads):.2f}, at the end "
        f"{os.getloadavg()[0]:.2f}.",
        f"Command: `python bench/stapel_noop/run.py` ({n} Stapel images already published; every measured "
        f"run with an empty local store; best of {options.runs}; whole script {total:.0f} s). Wall seconds; "
        "requests and bytes from the registry's access log (the noop_rebuild method).",
        "", *lines, "", *ratios, "", *per_image(results, n), *details, "",
    ]
    with RESULTS.open("a") as out:
        out.write("\n".join(section))
    print(f"appended the stapel_noop section to {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
