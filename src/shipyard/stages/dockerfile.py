"""The dependency list D of a non-staged Dockerfile image (werf-internals §1.4a), as pure functions.

Port of werf `pkg/build/stage/full_dockerfile.go` (`GetDependencies`, `dockerfileInstructionDependencies`)
and `pkg/dockerfile/frontend/buildkit_dockerfile.go` (`ResolveDockerStagesFromValue`,
`GetDockerTargetStageIndex`). Expansion is buildkit's `ProcessWord` (see `shellword.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from shipyard.errors import DockerfileError, Location
from shipyard.stages.dockerfile_parse import (
    Instruction,
    ParsedDockerfile,
    Stage,
    arg_pairs,
    copy_sources,
    env_pairs,
    parse_dockerfile,
)
from shipyard.stages.platform import platform_build_args
from shipyard.stages.shellword import ShellWordError, process_word

# Given the expanded sources of one COPY/ADD (exactly as written after ProcessWord), return the files
# checksum `cs` of §1.4a (ls-tree checksum of the matched git objects, dockerignore, contextAddFiles).
FilesChecksum = Callable[[Sequence[str]], str]

_STAGE_NUMBER = re.compile(r"^\+?[0-9]+$")  # Go strconv.Atoi, minus negatives (werf would panic on those)


@dataclass(frozen=True)
class DockerfileInputs:
    dockerfile: bytes  # file content (from git HEAD)
    dockerfile_path: str  # for messages, e.g. "Dockerfile" or "docker/app.Dockerfile"
    target: str  # "" = last stage
    args: Mapping[str, str]  # werf.yaml args
    dependency_args: Mapping[str, str]  # targetBuildArg -> value (werf.yaml dependencies)
    add_hosts: tuple[str, ...]
    cache_version: str  # image cacheVersion, else meta build.cacheVersion, else ""
    target_platform: str  # normalised, e.g. "linux/amd64"
    build_platform: str  # host platform, e.g. "linux/amd64"


@dataclass(frozen=True)
class DependencyEntry:
    value: str
    origin: str  # where the entry comes from, for --debug-digest


@dataclass(frozen=True)
class DockerfileAnalysis:
    entries: tuple[DependencyEntry, ...]  # D, labelled
    target_index: int
    target_name: str  # "" when the target stage is unnamed
    stage_names: tuple[str, ...]  # lowercased `AS` names, "" for unnamed stages
    base_images: tuple[str, ...]  # each stage's FROM after meta-arg expansion
    stage_bases: tuple[int | None, ...]  # the stage the build bases a stage on (FROM <stage name>), else None

    @property
    def dependencies(self) -> list[str]:
        return [entry.value for entry in self.entries]

    @property
    def external_base_images(self) -> tuple[str, ...]:
        """Base image references that are not stages of this Dockerfile (what a build pulls)."""
        pairs = zip(self.base_images, self.stage_bases, strict=True)
        return tuple(dict.fromkeys(image for image, base in pairs if base is None))


def dockerfile_dependencies(inputs: DockerfileInputs, files_checksum: FilesChecksum) -> list[str]:
    """D: the list whose H256 is the `dockerfile` stage's dependencies."""
    return analyze_dockerfile(inputs, files_checksum).dependencies


def dockerfile_debug_entries(
    inputs: DockerfileInputs, files_checksum: FilesChecksum
) -> list[DependencyEntry]:
    """D with the origin of every entry (`--debug-digest`)."""
    return list(analyze_dockerfile(inputs, files_checksum).entries)


def analyze_dockerfile(inputs: DockerfileInputs, files_checksum: FilesChecksum) -> DockerfileAnalysis:
    parsed = parse_dockerfile(inputs.dockerfile, inputs.dockerfile_path)
    target_index = _target_index(parsed, inputs.target)
    collector = _DependencyCollector(parsed, inputs, files_checksum)
    stage_entries = collector.all_stages()
    _add_related_stages(parsed.stages, stage_entries, collector.onbuild_entries)
    entries = stage_entries[target_index]
    if inputs.cache_version:
        entries.append(DependencyEntry(inputs.cache_version, "cacheVersion"))
    names = tuple(stage.name for stage in parsed.stages)
    bases = collector.base_images
    return DockerfileAnalysis(
        entries=tuple(entries),
        target_index=target_index,
        target_name=names[target_index],
        stage_names=names,
        base_images=tuple(bases),
        stage_bases=tuple(_base_stage(index, image, names) for index, image in enumerate(bases)),
    )


def _target_index(parsed: ParsedDockerfile, target: str) -> int:
    """`GetDockerTargetStageIndex`: the last stage, or the stage named exactly `target`."""
    if not target:
        return len(parsed.stages) - 1
    for stage in parsed.stages:
        if stage.name == target:
            return stage.index
    named = [stage.name for stage in parsed.stages if stage.name]
    hint = f"known stages: {', '.join(named)}" if named else "no stage is named (FROM … AS name)"
    raise DockerfileError(
        f"target {target!r} is not a valid target build stage", location=Location(parsed.path), hint=hint
    )


def _base_stage(index: int, base_image: str, stage_names: Sequence[str]) -> int | None:
    """The build resolves the *expanded* FROM case-insensitively against the other stages' names."""
    wanted = base_image.lower()
    matches = [other for other, name in enumerate(stage_names) if other != index and name and name == wanted]
    return matches[0] if matches else None


class _DependencyCollector:
    """First pass of `GetDependencies`: every stage's own entries, with per-stage ARG and ENV maps."""

    def __init__(self, parsed: ParsedDockerfile, inputs: DockerfileInputs, files_checksum: FilesChecksum):
        self.parsed = parsed
        self.inputs = inputs
        self.files_checksum = files_checksum
        self.meta_args = self._resolve_meta_args()
        self.stage_args: dict[str, str] = {}
        self.stage_envs: dict[str, str] = {}
        self.base_images: list[str] = []
        self.onbuild_entries: list[list[DependencyEntry]] = []

    def expand(self, word: str, env: Mapping[str, str], line: int) -> str:
        try:
            return process_word(word, env)
        except ShellWordError as error:
            raise DockerfileError(error.message, location=Location(self.parsed.path, line)) from None

    def origin(self, instruction: Instruction, what: str = "") -> str:
        return f"{self.parsed.path}:{instruction.line} {instruction.keyword}{what}"

    def _resolve_meta_args(self) -> dict[str, str]:
        """Meta ARGs: dependency arg > werf.yaml arg > default expanded with the meta args before it."""
        resolved: dict[str, str] = {}
        for instruction in self.parsed.meta_args:
            for raw_key, default in arg_pairs(instruction):
                key = self.expand(raw_key, resolved, instruction.line)
                if key in self.inputs.dependency_args:
                    resolved[key] = self.inputs.dependency_args[key]
                elif key in self.inputs.args:
                    resolved[key] = self.inputs.args[key]
                else:
                    resolved[key] = self.expand(default or "", resolved, instruction.line)
        platform_args = platform_build_args(self.inputs.target_platform, self.inputs.build_platform)
        return {**platform_args, **resolved}

    def all_stages(self) -> list[list[DependencyEntry]]:
        return [self.stage_entries(stage) for stage in self.parsed.stages]

    def stage_entries(self, stage: Stage) -> list[DependencyEntry]:
        self.stage_args, self.stage_envs = {}, {}
        entries = [DependencyEntry(host, "addHost") for host in self.inputs.add_hosts]
        base_image = self.expand(stage.base_name, self.meta_args, stage.line)
        if not base_image:
            raise DockerfileError(
                f"FROM {stage.base_name} expands to an empty image name",
                location=Location(self.parsed.path, stage.line),
                hint="give the ARG a default before the first FROM or set it in werf.yaml `args`",
            )
        self.base_images.append(base_image)
        entries.append(DependencyEntry(base_image, f"{self.parsed.path}:{stage.line} FROM"))
        onbuild: list[DependencyEntry] = []
        for instruction in stage.instructions:
            entries += self.instruction_entries(instruction)
            if instruction.trigger is not None:
                onbuild += self.trigger_entries(instruction.trigger)
        self.onbuild_entries.append(onbuild)
        return entries

    def stage_scope(self) -> dict[str, str]:
        # werf's toArgsArray(args, envs) lets a stage ARG win over an ENV of the same name
        return {**self.stage_envs, **self.stage_args}

    def instruction_entries(self, instruction: Instruction) -> list[DependencyEntry]:
        scope = self.stage_scope()
        line = instruction.line
        command = instruction.command
        if command == "arg":
            return [self.stage_arg_entry(instruction, key, value) for key, value in arg_pairs(instruction)]
        if command == "env":
            entries = []
            for raw_key, raw_value in env_pairs(instruction):
                key, value = self.expand(raw_key, scope, line), self.expand(raw_value, scope, line)
                self.stage_envs[key] = value
                scope = self.stage_scope()
                entries.append(DependencyEntry(f"ENV {key}={value}", self.origin(instruction)))
            return entries
        if command in ("add", "copy"):
            return self.files_entries(instruction, scope)
        if command == "onbuild":
            return [DependencyEntry(instruction.trigger_expression, self.origin(instruction))]
        return [DependencyEntry(self.expand(instruction.text, scope, line), self.origin(instruction))]

    def stage_arg_entry(self, instruction: Instruction, raw_key: str, default: str | None) -> DependencyEntry:
        """Stage ARG: dependency arg > werf.yaml arg > (no default: resolved meta arg) > expanded default."""
        key = self.expand(raw_key, self.stage_scope(), instruction.line)
        if key in self.inputs.dependency_args:
            value = self.inputs.dependency_args[key]
        elif key in self.inputs.args:
            value = self.inputs.args[key]
        elif not default:
            value = self.meta_args.get(key, "")
        else:
            value = self.expand(default, self.stage_scope(), instruction.line)
        self.stage_args[key] = value
        return DependencyEntry(f"ARG {key}={value}", self.origin(instruction))

    def files_entries(self, instruction: Instruction, scope: Mapping[str, str]) -> list[DependencyEntry]:
        """ADD/COPY: the original text, then the files checksum (not for `COPY --from`)."""
        entries = [DependencyEntry(instruction.text, self.origin(instruction))]
        if instruction.command == "copy" and instruction.flag("from"):
            return entries
        sources = [self.expand(source, scope, instruction.line) for source in copy_sources(instruction)]
        checksum = self.files_checksum(sources)
        entries.append(DependencyEntry(checksum, self.origin(instruction, f" files {sources}")))
        return entries

    def trigger_entries(self, trigger: Instruction) -> list[DependencyEntry]:
        """An ONBUILD trigger's own entries: expanded with the stage ENVs only, nothing recorded."""
        env, line = self.stage_envs, trigger.line
        origin = self.origin(trigger, " (ONBUILD trigger)")
        if trigger.command == "arg":
            return [
                DependencyEntry(f"ARG {self.expand(k, env, line)}={self.expand(v or '', env, line)}", origin)
                for k, v in arg_pairs(trigger)
            ]
        if trigger.command == "env":
            return [
                DependencyEntry(f"ENV {self.expand(k, env, line)}={self.expand(v, env, line)}", origin)
                for k, v in env_pairs(trigger)
            ]
        if trigger.command in ("add", "copy"):
            return [
                DependencyEntry(entry.value, entry.origin + " (ONBUILD trigger)")
                for entry in self.files_entries(trigger, env)
            ]
        return [DependencyEntry(self.expand(trigger.text, env, line), origin)]


def _add_related_stages(
    stages: Sequence[Stage], entries: list[list[DependencyEntry]], onbuild: list[list[DependencyEntry]]
) -> None:
    """Second pass: a stage gets the entries of its base stage (+ its ONBUILD triggers) and of every stage it
    copies or mounts from. Stages are extended in order, so a stage already carries its earlier relatives."""
    stage_refs = _stage_references(stages)
    for stage in stages:
        for related in stages:
            if related.index != stage.index and stage.base_name == related.name:
                relayed = entries[related.index] + onbuild[related.index]
                entries[stage.index] += _relayed(relayed, f"base stage {related.display_name}")
        for instruction in stage.instructions:
            for reference in _instruction_stage_refs(instruction):
                number = _stage_number(stage_refs.get(reference.lower(), reference))
                if number is not None and number < len(stages):
                    via = f"{instruction.keyword} from stage {number}"
                    entries[stage.index] += _relayed(entries[number], via)


def _stage_references(stages: Sequence[Stage]) -> dict[str, str]:
    """`ResolveDockerStagesFromValue`: lowercased stage name -> index (as text)."""
    return {stage.name: str(stage.index) for stage in stages if stage.name != str(stage.index)}


def _instruction_stage_refs(instruction: Instruction) -> list[str]:
    if instruction.command == "copy":
        source = instruction.flag("from")
        return [source] if source else []
    if instruction.command == "run":
        return [source for source in instruction.mount_froms if source]
    return []


def _stage_number(reference: str) -> int | None:
    return int(reference) if _STAGE_NUMBER.match(reference) else None


def _relayed(entries: Sequence[DependencyEntry], via: str) -> list[DependencyEntry]:
    return [DependencyEntry(entry.value, f"{entry.origin} (via {via})") for entry in entries]
