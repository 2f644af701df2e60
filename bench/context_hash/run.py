"""Build-context hashing of a 100,000-file (~1 GB) repository with `COPY . .`, beside the peer
`git ls-files -z | xargs -0 sha256sum | sha256sum`. Warm page cache, best of N runs, each a fresh process.

Target: shipyard <= 1.5 s and >= 5x faster than the peer.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_REPO = Path("/tmp/shipyard-bench/context-hash-repo")
PEER = "git ls-files -z | xargs -0 sha256sum | sha256sum"
TARGET_SECONDS = 1.5
TARGET_RATIO = 5.0

TOP_DIRS = 100
SUB_DIRS = 10
FILES_PER_DIR = 100
FILE_SIZE = 10 * 1024
DONE_MARKER = ".shipyard-bench-complete"

WERF_YAML = "project: bench\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n"
DOCKERFILE = "FROM alpine:3.20\nWORKDIR /app\nCOPY . .\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def write_files(repo: Path) -> None:
    rng = random.Random(20261122)
    for top in range(TOP_DIRS):
        for sub in range(SUB_DIRS):
            directory = repo / "src" / f"d{top:03}" / f"s{sub:02}"
            directory.mkdir(parents=True, exist_ok=True)
            for index in range(FILES_PER_DIR):
                (directory / f"f{index:03}.bin").write_bytes(rng.randbytes(FILE_SIZE))
    (repo / "werf.yaml").write_text(WERF_YAML)
    (repo / "Dockerfile").write_text(DOCKERFILE)


def generate(repo: Path) -> None:
    """Create the repository unless a complete one is already cached at `repo`."""
    if (repo / ".git" / DONE_MARKER).exists():
        return
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q")
    write_files(repo)
    git(repo, "add", "-A")
    identity = ("-c", "user.name=bench", "-c", "user.email=bench@example.invalid")
    git(repo, *identity, "commit", "-q", "-m", "bench")
    # Entries written in the same second as the index are "racily clean" and force a content re-check;
    # refresh once a second later so the index holds settled stat data, as in a long-lived checkout.
    time.sleep(1.1)
    git(repo, "update-index", "--refresh")
    (repo / ".git" / DONE_MARKER).write_text("ok\n")


def hash_once(repo: Path) -> None:
    """One shipyard run as `plan` does it for this image: open the repository, take the strict snapshot, read
    the .dockerignore, hash `COPY . .` including the strict giterminism check. Prints phase times."""
    started = time.perf_counter()
    from shipyard import context
    from shipyard.gitrepo import GitRepo

    imported = time.perf_counter()
    snapshot = GitRepo.discover(repo).snapshot("strict")
    ignore, _ = context.dockerignore_matcher(snapshot, "", "Dockerfile")
    opened = time.perf_counter()
    checksum = context.files_checksum(snapshot, ["."], context_dir="", dockerignore=ignore)
    hashed = time.perf_counter()
    print(f"checksum {checksum}")
    print(f"phases: import {imported - started:.3f}s, open+snapshot+dockerignore {opened - imported:.3f}s, "
          f"ls-tree checksum + strict uncommitted check {hashed - opened:.3f}s")


def walk_once(repo: Path) -> None:
    """The worst case for the walk: a .dockerignore pattern in progress everywhere (`**/*.tmp`) makes werf's
    ls-tree descend to every one of the 100,000 files instead of hashing the root tree id."""
    from shipyard import context
    from shipyard.gitrepo import GitRepo
    from shipyard.pathmatch import new_path_matcher

    snapshot = GitRepo.discover(repo).snapshot("strict")
    ignore = new_path_matcher(base_path=".", dockerignore_patterns=["**/*.tmp"])
    print(f"checksum {context.files_checksum(snapshot, ['.'], context_dir='', dockerignore=ignore)}")


def run(command: list[str] | str, cwd: Path) -> str:
    done = subprocess.run(command, shell=isinstance(command, str), cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed: {(done.stderr or done.stdout).strip()[:300]}")
    return done.stdout


def best_of(command: list[str] | str, runs: int, cwd: Path) -> tuple[float, str]:
    """Best wall time of `runs` runs after one uncounted warm-up run (page cache); also the last output."""
    output = run(command, cwd)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        output = run(command, cwd)
        times.append(time.perf_counter() - started)
    return min(times), output


def cli_time(repo: Path, runs: int) -> tuple[float | None, str]:
    command = [sys.executable, "-m", "shipyard", "plan", "--dir", str(repo)]
    try:
        seconds, output = best_of(command, runs, repo)
    except RuntimeError as error:
        return None, str(error).splitlines()[-1][:160]
    return seconds, output.strip().splitlines()[-1] if output.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO, help="generated once, then reused")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hash-once", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--walk-once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hash_once or args.walk_once:
        (hash_once if args.hash_once else walk_once)(args.repo)
        return
    generate(args.repo)
    ours = [sys.executable, __file__, "--repo", str(args.repo)]
    library, phases = best_of([*ours, "--hash-once"], args.runs, args.repo)
    walk, _ = best_of([*ours, "--walk-once"], args.runs, args.repo)
    cli, cli_note = cli_time(args.repo, args.runs)
    peer, _ = best_of(PEER, args.runs, args.repo)
    print_table(library, cli, cli_note, peer, phases, args.runs)
    print(f"worst case, .dockerignore `**/*.tmp` walks every file (library, not the target): {walk:.3f}s")


def print_table(library: float, cli: float | None, cli_note: str, peer: float, phases: str,
                runs: int) -> None:
    ours = cli if cli is not None else library
    print(f"{'command (100,000 files, ~1 GB, warm cache)':<58} {'best of ' + str(runs):>10}")
    print(f"{'shipyard library: strict snapshot + COPY . . checksum':<58} {library:>9.3f}s")
    if cli is not None:
        print(f"{'shipyard plan --dir REPO':<58} {cli:>9.3f}s")
    else:
        print(f"{'shipyard plan --dir REPO':<58} {'n/a':>10}  ({cli_note})")
    print(f"{'peer: ' + PEER:<58} {peer:>9.3f}s")
    met = ours <= TARGET_SECONDS and peer / ours >= TARGET_RATIO
    print(f"ratio peer/shipyard: {peer / ours:.1f}x  (target: shipyard <= {TARGET_SECONDS} s and >= "
          f"{TARGET_RATIO:.0f}x faster: {'met' if met else 'NOT met'})")
    print(phases.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
