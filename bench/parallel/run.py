"""Parallel image builds: wall time of `shipyard build` with the default task limit against
`--no-parallel`, and a DAG (a long chain beside short independent images) against werf's set-barrier schedule.

Part 1 (`wide`): 10 independent Dockerfile images, each `RUN sleep 2`. The peer is shipyard `--no-parallel`
itself: one image after another, what a script of `buildah bud` calls does. Target: parallel ≤ 30 % of it.

Part 2 (`dag`): a chain c1 → c2 → c3 (each `RUN sleep 2`, each FROM its predecessor through an ImageName
dependency) beside short independent images (`RUN sleep 1`), `--parallel-tasks-limit 5`. werf builds in sets
by dependency depth and waits for a whole set before the next one starts; inside a set `parallel.DoTasks`
gives each of min(limit, n) workers a fixed contiguous slice of the set. That schedule's wall time is computed
from the per-image durations shipyard printed in the same run (`Built and published … (S.SSs)`).

Every measured run is a real buildah build: a new SHIPYARD_HOME (empty buildah store) and a new, empty
registry repository. Registry, busybox base and helpers come from bench/noop_rebuild/run.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS = REPO_ROOT / "bench" / "RESULTS.md"
TARGET_SHARE = 0.30
LIMIT = 5


def _load_noop():  # type: ignore[no-untyped-def]
    """bench/noop_rebuild/run.py as a module (bench/ is not a package and our own file is also run.py)."""
    path = REPO_ROOT / "bench" / "noop_rebuild" / "run.py"
    spec = importlib.util.spec_from_file_location("noop_rebuild_run", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


noop = _load_noop()

BUILT = re.compile(r"^(?P<image>[^/\s]+)/\S+: Built and published \S+ \((?P<seconds>[\d.]+)s\)$")


# --- projects --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    name: str
    sleep: int
    parent: str | None = None  # FROM this image (ImageName dependency), else FROM the busybox base


def write_project(path: Path, project: str, images: list[Image], base: str) -> None:
    docs = [f"project: {project}\nconfigVersion: 1\n"]
    for image in images:
        (path / image.name).mkdir(parents=True)
        (path / image.name / "Dockerfile").write_text(
            f"ARG BASE_IMAGE\nFROM $BASE_IMAGE\nRUN sleep {image.sleep} && echo {image.name} >> /built-by\n")
        doc = f"image: {image.name}\ndockerfile: Dockerfile\ncontext: {image.name}\n"
        if image.parent is None:
            doc += f"args:\n  BASE_IMAGE: {base}\n"
        else:
            doc += (f"dependencies:\n- image: {image.parent}\n  imports:\n  - type: ImageName\n"
                    "    targetBuildArg: BASE_IMAGE\n")
        docs.append(doc)
    (path / "werf.yaml").write_text("---\n".join(docs))
    noop.git(path, "init", "-q")
    noop.git(path, "add", "-A")
    noop.git(path, "commit", "-q", "-m", "parallel bench")


def wide_images(count: int) -> list[Image]:
    return [Image(f"w{n:02}", 2) for n in range(1, count + 1)]


def dag_images(chain: int, short: int) -> list[Image]:
    images = [Image(f"c{n}", 2, f"c{n - 1}" if n > 1 else None) for n in range(1, chain + 1)]
    return images + [Image(f"s{n:02}", 1) for n in range(1, short + 1)]


# --- one measured shipyard build -----------------------------------------------------------------


@dataclass
class Run:
    wall: float
    seconds: dict[str, float]  # image → printed build duration
    ends: dict[str, float] = field(default_factory=dict)  # image → when its "Built" line arrived
    cpu: float = 0.0  # user + system seconds of shipyard and every process it ran (buildah, git…)

    @property
    def span(self) -> float:
        """First image start (end − printed duration) to last image published."""
        return max(self.ends.values()) - min(self.ends[i] - s for i, s in self.seconds.items())

    @property
    def overhead(self) -> float:
        """Process start, configuration, planning and exit: the wall time outside the image builds."""
        return self.wall - self.span


def shipyard_build(shipyard: object, project: Path, repo: str, home: Path, extra: list[str]) -> Run:
    argv = shipyard.argv("build", "--dir", str(project), "--repo", repo, *extra)  # type: ignore[attr-defined]
    env = shipyard.environ(SHIPYARD_HOME=str(home))  # type: ignore[attr-defined]
    seconds: dict[str, float] = {}
    ends: dict[str, float] = {}
    lines = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          text=True, env=env, cwd=project) as process:
        assert process.stdout is not None
        for line in process.stdout:
            now = time.perf_counter() - started
            lines.append(line)
            match = BUILT.match(line.strip())
            if match:
                seconds[match["image"]] = float(match["seconds"])
                ends[match["image"]] = now
        code = process.wait(timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {code}:\n{''.join(lines)[-3000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Run(wall, seconds, ends, cpu)


# --- werf's set-barrier schedule ------------------------------------------------------------------


def depth_sets(images: list[Image]) -> list[list[str]]:
    """werf's sets: images without dependencies, then those whose dependencies are all in earlier sets…"""
    placed: set[str] = set()
    sets = []
    remaining = list(images)
    while remaining:
        ready = [i.name for i in remaining if i.parent is None or i.parent in placed]
        sets.append(ready)
        placed.update(ready)
        remaining = [i for i in remaining if i.name not in placed]
    return sets


def do_tasks_time(durations: list[float], limit: int) -> float:
    """werf pkg/util/parallel.DoTasks: min(limit, n) workers, worker k runs a fixed contiguous slice
    (calculateTasksDistribution / calculateTaskId); the call returns when the slowest worker is done."""
    n = len(durations)
    workers = min(limit, n) if limit > 0 else n
    slowest, start = 0.0, 0
    for k in range(workers):
        size = n // workers + (1 if n % workers > k else 0)
        slowest = max(slowest, sum(durations[start:start + size]))
        start += size
    return slowest


def pool_time(durations: list[float], limit: int) -> float:
    """A set run on a pool that refills a free slot at once (better for werf than its fixed slices)."""
    slots = [0.0] * min(limit, len(durations))
    for duration in durations:
        slots[slots.index(min(slots))] += duration
    return max(slots)


def barrier_time(images: list[Image], seconds: dict[str, float], limit: int, *, pool: bool = False,
                 alone: dict[str, float] | None = None) -> float:
    """Sum over werf's sets of each set's time; a set of one image takes `alone`'s duration when given
    (werf builds it with nothing beside it)."""
    per_set = pool_time if pool else do_tasks_time
    total = 0.0
    for names in depth_sets(images):
        times = alone if alone is not None and len(names) == 1 else seconds
        total += per_set([times[name] for name in names], limit)
    return total


# --- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="measured runs of each build (best of)")
    parser.add_argument("--wide", type=int, default=10, help="independent images of part 1")
    parser.add_argument("--chain", type=int, default=3, help="chain length of part 2")
    parser.add_argument("--short", type=int, default=12, help="short independent images of part 2")
    parser.add_argument("--shipyard", help="a shipyard executable instead of a snapshot of src/shipyard")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (printed)")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    options = parser.parse_args()
    for tool in ("buildah", "docker-registry", "git", "busybox"):
        if shutil.which(tool) is None:
            print(f"parallel: {tool} not found (run scripts/setup)", file=sys.stderr)
            return 2

    load = os.getloadavg()[0]
    total_started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="shipyard-bench-parallel-"))
    stores: list[tuple[Path, Path]] = [(work / "base-store" / "root", work / "base-store" / "runroot")]
    registry = noop.Registry(work / "registry")
    (work / "registry").mkdir()
    signal.signal(signal.SIGTERM, noop._interrupt)
    try:
        if options.shipyard:
            shipyard = noop.Shipyard((options.shipyard,), what=options.shipyard)
        else:
            shipyard = noop.snapshot_shipyard(work)
        registry.start()
        base = noop.build_base(work, registry)
        wide, dag = wide_images(options.wide), dag_images(options.chain, options.short)
        write_project(work / "wide", "bench-wide", wide, base)
        write_project(work / "dag", "bench-dag", dag, base)

        variants = {
            "wide / parallel (default limit)": ("wide", []),
            "wide / --no-parallel": ("wide", ["--no-parallel"]),
            f"dag / parallel (limit {LIMIT})": ("dag", ["--parallel-tasks-limit", str(LIMIT)]),
            "dag / --no-parallel": ("dag", ["--no-parallel"]),
        }
        runs: dict[str, list[Run]] = {label: [] for label in variants}
        count = 0
        for attempt in range(options.runs):
            for label, (project, extra) in variants.items():
                count += 1
                home = work / f"home-{count}"
                stores.append((home / "buildah" / "root", home / "buildah" / "runroot"))
                repo = f"{registry.address}/run{count}"  # new, empty repository: nothing to reuse
                result = shipyard_build(shipyard, work / project, repo, home, extra)
                expected = len(wide if project == "wide" else dag)
                if len(result.seconds) != expected:
                    raise RuntimeError(f"{label}: {len(result.seconds)} of {expected} images built")
                runs[label].append(result)
                noop.remove_tree(home, stores)
                print(f"run {attempt + 1}/{options.runs} {label}: {result.wall:.2f}s", flush=True)
        total = time.perf_counter() - total_started
        report(options, shipyard, dag, runs, total, load)
    finally:
        registry.stop()
        if options.keep:
            print(f"kept {work}")
        else:
            noop.remove_tree(work, stores)
    return 0


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall)


def spread(runs: list[Run]) -> str:
    walls = sorted(r.wall for r in runs)
    return f"{walls[0]:.2f}-{walls[-1]:.2f}" if len(walls) > 1 else f"{walls[0]:.2f}"


def per_image(run: Run, prefix: str) -> str:
    values = [s for name, s in run.seconds.items() if name.startswith(prefix)]
    return f"{min(values):.1f}-{max(values):.1f}" if values else "-"


def row(label: str, r: Run, runs: list[Run], per: str) -> str:
    cores = os.cpu_count() or 1
    return (f"| {label} | {r.wall:.2f} ({spread(runs)}) | {r.span:.2f} | {per} "
            f"| {r.cpu:.1f} ({r.cpu / r.wall / cores:.0%}) |")


def report(options: argparse.Namespace, shipyard: object, dag: list[Image], runs: dict[str, list[Run]],
           total: float, load: float) -> None:
    labels = list(runs)
    wide_par, wide_seq, dag_par, dag_seq = (best(runs[label]) for label in labels)
    lines = ["| build | wall s, best (range) | image builds span s | per-image s (min-max) "
             f"| CPU s (share of {os.cpu_count()} cores) |",
             "|---|---|---|---|---|"]
    for label in labels[:2]:
        lines.append(row(label, best(runs[label]), runs[label], per_image(best(runs[label]), "w")))
    share = wide_par.wall / wide_seq.wall
    ratios = [f"wide: parallel / sequential = **{share:.0%}** of the sequential wall time "
              f"({wide_seq.wall / wide_par.wall:.2f}× faster; target ≤ {TARGET_SHARE:.0%}: "
              f"{'met' if share <= TARGET_SHARE else 'NOT met'})"]

    # werf's schedule from the per-image times of the same run, plus shipyard's own overhead of that run
    # (start-up, planning, exit), so that the rows compare wall times. Sets of one image (werf builds it
    # alone) take that image's time from the --no-parallel run.
    alone = dag_seq.seconds
    werf = barrier_time(dag, dag_par.seconds, LIMIT, alone=alone)
    werf_raw = barrier_time(dag, dag_par.seconds, LIMIT)
    pooled = barrier_time(dag, dag_par.seconds, LIMIT, pool=True, alone=alone)
    bound = barrier_time(dag, alone, LIMIT, pool=True)
    chain = " → ".join(i.name for i in dag if i.name.startswith("c"))
    sets = " | ".join(f"{{{', '.join(s)}}}" for s in depth_sets(dag))
    per = f"chain {per_image(dag_par, 'c')}, short {per_image(dag_par, 's')}"
    per_seq = f"chain {per_image(dag_seq, 'c')}, short {per_image(dag_seq, 's')}"
    lines.append(row(f"{labels[2]}: shipyard, measured", dag_par, runs[labels[2]], per))
    computed = [
        (f"dag / **werf set barrier** (limit {LIMIT}, DoTasks slices), computed", werf),
        (f"dag / set barrier with a pool refilling free slots inside each set (limit {LIMIT}), computed",
         pooled),
        ("dag / lower bound for any set barrier: refilling pool, every image at its uncontended "
         "--no-parallel time", bound),
    ]
    for label, span in computed:
        lines.append(f"| {label} | {span + dag_par.overhead:.2f} | {span:.2f} | - | - |")
    lines.append(row(f"{labels[3]}: shipyard, measured", dag_seq, runs[labels[3]], per_seq))

    def versus(span: float) -> str:
        wall = span + dag_par.overhead
        return f"**{dag_par.wall / wall:.0%}** (werf / shipyard = {wall / dag_par.wall:.2f}×)"

    ratios.append(f"dag: shipyard / werf set barrier = {versus(werf)}; with every image at its time in the "
                  f"parallel run (chain images after set #0 contended too): "
                  f"{dag_par.wall / (werf_raw + dag_par.overhead):.0%}")
    ratios.append(f"dag: shipyard / set barrier with a refilling pool = {versus(pooled)}")
    ratios.append(f"dag: shipyard / lower bound for any set barrier = {versus(bound)}")
    ratios.append(f"dag: shipyard parallel / --no-parallel = {dag_par.wall / dag_seq.wall:.0%}")
    print()
    print("\n".join(lines))
    print()
    print("\n".join(ratios))
    notes = [
        f"* wide: {options.wide} independent images, each `FROM` the busybox base + `RUN sleep 2`; the "
        "peer is shipyard `--no-parallel` itself (one image after another, like a script of `buildah bud` "
        "calls); the parallel run uses the default `--parallel-tasks-limit` (5).",
        f"* dag: chain {chain} (each `RUN sleep 2`, FROM its predecessor via an ImageName dependency "
        f"→ BASE_IMAGE) beside {options.short} independent images `RUN sleep 1`, in werf.yaml order; "
        f"werf's sets by dependency depth: {sets}.",
        "* werf set barrier: each set starts when the previous one is done; inside a set werf's "
        "`parallel.DoTasks` gives min(limit, n) workers a fixed contiguous slice each (calculateTaskId), "
        "so a set lasts as long as its slowest slice. Computed from the `Built and published … (S.SSs)` "
        "durations of the best parallel run (up to 5 builds at once, as in werf's set #0); a set of one "
        "image, which werf builds alone, takes that image's duration from the best --no-parallel run. Each "
        "computed wall = computed image-builds span + the parallel run's wall time outside the image builds "
        f"({dag_par.overhead:.2f} s: start-up, planning, exit). The pool row removes werf's fixed slices "
        "and leaves only the barrier; the lower bound also ignores that 5 concurrent builds on 2 cores "
        "run slower than one alone.",
        "* image builds span: from the first image's start (its line's arrival minus its printed "
        "duration) to the last `Built and published` line. CPU: user + system seconds of shipyard and "
        "its children (buildah…), from getrusage(RUSAGE_CHILDREN); the registry's CPU is not counted.",
        "* Every measured run: new SHIPYARD_HOME (empty buildah store), new empty registry repository "
        "`R/runN` on a loopback `docker-registry`; every image is built with buildah and pushed. Best of "
        f"{options.runs}; the four builds alternate within a round. Per-image durations include pulling "
        "the parent (base or chain predecessor) into the empty store, the build, commit and push.",
    ]
    print("\n".join(notes))
    print(f"\nwhole run {total:.0f}s")
    if options.no_results:
        return
    date = noop.run(["date"]).stdout.strip()
    section = [
        "", "## parallel", "",
        f"Machine: {noop.machine()}. Date: {date}. {noop.versions(shipyard)}. Load average (1 min) at the "
        f"start {load:.2f}, at the end {os.getloadavg()[0]:.2f}.",
        f"Command: `python bench/parallel/run.py` (best of {options.runs}; whole script {total:.0f} s). "
        "Wall seconds (±30 % run to run on this VM).",
        "", *lines, "", *ratios, "", *notes, "",
    ]
    with RESULTS.open("a") as results:
        results.write("\n".join(section))
    print(f"appended the parallel section to {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
