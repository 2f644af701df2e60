"""What a plan is made of: images expanded per platform, each a list of stages with their digests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlannedStage:
    name: str  # werf's stage name, e.g. "dockerfile"
    digest: str  # 56 hex chars (SHA3-224)
    digest_inputs: tuple[str, ...]  # every argument of the digest, for --debug-digest
    dependency_inputs: tuple[str, ...] = ()  # the stage's own dependency list (e.g. Dockerfile D)


@dataclass(frozen=True, slots=True)
class PlannedImage:
    name: str
    platform: str
    config_type: str  # dockerfile | staged | stapel (werf's report ConfigType)
    final: bool
    stages: tuple[PlannedStage, ...]
    not_supported: str = ""  # why no digests could be computed yet (empty when stages are complete)

    @property
    def last_stage(self) -> PlannedStage | None:
        return self.stages[-1] if self.stages else None
