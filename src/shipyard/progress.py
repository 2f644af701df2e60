"""The live view of a build on a terminal: one line per running image (stage, state, elapsed, last output
line), redrawn in place, with the usual event lines scrolling above it."""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from shipyard.output import TerminalBuildEvents, stage_label
from shipyard.stages.model import PlannedImage
from shipyard.storage.description import StageDescription


class LiveBuildEvents(TerminalBuildEvents):
    def __init__(self) -> None:
        self._console = Console(highlight=False)
        self._lock = threading.Lock()
        self._running: dict[str, list[str | float]] = {}  # label → [state, started, last output line]
        self._live = Live(console=self._console, refresh_per_second=4, transient=True,
                          get_renderable=self._table)

    def __enter__(self) -> LiveBuildEvents:
        self._live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._live.stop()

    def write(self, text: str) -> None:
        self._live.console.print(Text(text))

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        now = time.monotonic()
        with self._lock:
            for label, (state, started, last) in sorted(self._running.items()):
                table.add_row(Text(label, style="bold"), Text(str(state)),
                              Text(f"{now - float(started):5.1f}s"), Text(str(last)[:80], style="dim"))
        return table

    def _set(self, image: PlannedImage, state: str | None) -> None:
        label = stage_label(image)
        with self._lock:
            if state is None:
                self._running.pop(label, None)
            elif label in self._running:
                self._running[label][0] = state
            else:
                self._running[label] = [state, time.monotonic(), ""]

    def building(self, image: PlannedImage, digest: str) -> None:
        super().building(image, digest)
        self._set(image, "building")

    def waiting_for_lock(self, image: PlannedImage, lock_name: str) -> None:
        super().waiting_for_lock(image, lock_name)
        self._set(image, "waiting for lock")

    def log(self, image: PlannedImage, line: str) -> None:
        with self._lock:
            entry = self._running.get(stage_label(image))
            if entry is not None:
                entry[2] = line

    def reused(self, image: PlannedImage, stage: StageDescription, seconds: float) -> None:
        self._set(image, None)
        super().reused(image, stage, seconds)

    def built(self, image: PlannedImage, stage: StageDescription, seconds: float) -> None:
        self._set(image, None)
        super().built(image, stage, seconds)

    def discarded(self, image: PlannedImage, stage: StageDescription) -> None:
        self._set(image, None)
        super().discarded(image, stage)

    def failed(self, image: PlannedImage, error: Exception) -> None:
        self._set(image, None)
        super().failed(image, error)
