"""Container leases: a container is an orphan exactly when the process that created it is gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shipyard.backends.container_leases import ContainerLeases

HOLDER = """
import sys, time
from pathlib import Path
from shipyard.backends.container_leases import ContainerLeases
ContainerLeases(Path(sys.argv[1])).hold(sys.argv[2])
print("held", flush=True)
time.sleep(60)
"""


def test_a_living_owner_keeps_its_container_and_a_dead_one_leaves_an_orphan(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), "c1"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        leases = ContainerLeases(tmp_path)
        assert leases.orphans(["c1"]) == []
    finally:
        holder.kill()
        holder.wait()
    assert leases.orphans(["c1"]) == ["c1"]


def test_own_containers_are_never_orphans_and_unknown_ones_are(tmp_path: Path) -> None:
    leases = ContainerLeases(tmp_path)
    leases.hold("mine")
    assert leases.orphans(["mine", "no-lock-file"]) == ["no-lock-file"]
    leases.release("mine")
    assert not (tmp_path / "mine.lock").exists()
    assert leases.orphans(["mine"]) == ["mine"]  # released: the container is gone, or nobody owns it
