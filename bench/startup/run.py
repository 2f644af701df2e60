"""Start-up time of `shipyard --help` (target < 0.3 s) beside the peer `python -c pass`, best of N runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

RUNS = 15


def best_of(command: list[str]) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    venv_shipyard = Path(sys.executable).with_name("shipyard")
    shipyard = str(venv_shipyard) if venv_shipyard.exists() else shutil.which("shipyard") or "shipyard"
    ours = best_of([shipyard, "--help"])
    peer = best_of([sys.executable, "-c", "pass"])
    print(f"{'command':<28} {'best of ' + str(RUNS):>12}")
    print(f"{'shipyard --help':<28} {ours:>11.3f}s")
    print(f"{'python -c pass (peer)':<28} {peer:>11.3f}s")
    print(f"ratio shipyard/peer: {ours / peer:.2f}x  (target: shipyard < 0.300 s)")


if __name__ == "__main__":
    main()
