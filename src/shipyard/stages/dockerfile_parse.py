"""Dockerfile text → stages, checked the way buildkit's `instructions.Parse` checks them (v0.13).

Lines and continuations are split by buildkit's own parser (the `dockerfile` package binds it); this module
does what `frontend/dockerfile/instructions/parse.go` adds on top: the stage list, meta ARGs before the first
FROM, flag validation (`bflag.go`), `RUN --mount` sources (`commands_runmount.go`) and ONBUILD triggers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import dockerfile

from shipyard.errors import DockerfileError, Location
from shipyard.stages.shellword import GO_SPACES

KNOWN_INSTRUCTIONS = frozenset(
    {
        "add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label",
        "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir",
    }
)  # fmt: skip
# flag name -> kind ("string", "strings" = repeatable, "bool"); instructions not listed take no flags
_FILE_FLAGS = {"chown": "string", "chmod": "string", "link": "bool", "exclude": "strings"}
_HEALTHCHECK_FLAGS = ("interval", "timeout", "start-period", "start-interval", "retries")
_FLAGS: dict[str, dict[str, str]] = {
    "from": {"platform": "string"},
    "run": {"mount": "strings", "network": "string", "security": "string"},
    "copy": {**_FILE_FLAGS, "from": "string", "parents": "bool"},
    "add": {**_FILE_FLAGS, "keep-git-dir": "bool", "checksum": "string"},
    "healthcheck": dict.fromkeys(_HEALTHCHECK_FLAGS, "string"),
}
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")
_ONBUILD_PREFIX = re.compile(r"^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*", re.IGNORECASE)
_HEREDOC_HINT = (
    "the buildah backend (1.28) cannot build heredocs: rewrite it as a RUN with a shell string "
    "(e.g. RUN printf '%s\\n' line1 line2 > /file) or COPY a file committed to the repository"
)


@dataclass(frozen=True)
class Instruction:
    keyword: str  # as written: `RUN` or `run`
    text: str  # buildkit `String()`: the trimmed original, continuation lines joined without the `\`
    line: int
    args: tuple[str, ...]
    flags: tuple[tuple[str, str], ...] = ()
    mount_froms: tuple[str, ...] = ()  # RUN: the `from=` of each --mount ("" when absent)
    trigger: Instruction | None = None  # ONBUILD: the instruction it registers…
    trigger_expression: str = ""  # …and its text as buildkit keeps it (`OnbuildCommand.Expression`)

    @property
    def command(self) -> str:
        return self.keyword.lower()

    def flag(self, name: str) -> str | None:
        values = [value for flag_name, value in self.flags if flag_name == name]
        return values[-1] if values else None


@dataclass(frozen=True)
class Stage:
    index: int
    name: str  # the `AS` name lowercased, "" when unnamed
    base_name: str  # the FROM argument as written (not expanded)
    platform: str  # --platform as written
    line: int
    instructions: tuple[Instruction, ...]

    @property
    def display_name(self) -> str:
        return self.name or str(self.index)


@dataclass(frozen=True)
class ParsedDockerfile:
    path: str
    meta_args: tuple[Instruction, ...]  # ARG instructions before the first FROM
    stages: tuple[Stage, ...]


@dataclass
class _StageBuilder:
    header: Instruction
    instructions: list[Instruction] = field(default_factory=list)


def parse_dockerfile(content: bytes, path: str) -> ParsedDockerfile:
    """Parse a whole Dockerfile; every error names `path:LINE`."""
    meta_args: list[Instruction] = []
    builders: list[_StageBuilder] = []
    for instruction in _instructions(_decode(content, path), path):
        if instruction.command == "from":
            builders.append(_StageBuilder(instruction))
        elif builders:
            builders[-1].instructions.append(instruction)
        elif instruction.command == "arg":
            meta_args.append(instruction)
        else:
            raise DockerfileError(
                f"{instruction.keyword} before the first FROM: no build stage in current context",
                location=Location(path, instruction.line),
                hint="only ARG instructions may come before the first FROM",
            )
    if not builders:
        raise DockerfileError("no FROM instruction: the Dockerfile defines no stage", location=Location(path))
    stages = tuple(_stage(index, builder, path) for index, builder in enumerate(builders))
    return ParsedDockerfile(path, tuple(meta_args), stages)


def arg_pairs(instruction: Instruction) -> list[tuple[str, str | None]]:
    """ARG `k` / `k=v` pairs (buildkit `parseArg`: split at the first `=`; the value keeps its quotes)."""
    pairs: list[tuple[str, str | None]] = []
    for arg in instruction.args:
        key, has_value, value = arg.partition("=")
        pairs.append((key, value if has_value else None))
    return pairs


def env_pairs(instruction: Instruction) -> list[tuple[str, str]]:
    """ENV/LABEL key-value pairs; the parser already split them (`k=v k2=v2` and legacy `k v`)."""
    return list(zip(instruction.args[0::2], instruction.args[1::2], strict=True))


def copy_sources(instruction: Instruction) -> list[str]:
    """COPY/ADD sources: every argument but the destination."""
    return list(instruction.args[:-1])


def _decode(content: bytes, path: str) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise DockerfileError("the Dockerfile is not valid UTF-8", location=Location(path, line)) from None


def _instructions(text: str, path: str) -> Iterable[Instruction]:
    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as error:
        where = Location(path, _failing_line(text, str(error)))
        raise DockerfileError(str(error), location=where, hint=_parse_error_hint(str(error))) from None
    return [_instruction(command, path) for command in commands]


def _parse_error_hint(message: str) -> str | None:
    return _HEREDOC_HINT if "heredoc" in message else None


def _failing_line(text: str, message: str) -> int | None:
    """The parser reports no line: find the shortest prefix of the file that fails the same way."""
    lines = text.splitlines(keepends=True)
    for count in range(1, len(lines) + 1):
        try:
            dockerfile.parse_string("".join(lines[:count]))
        except dockerfile.GoParseError as error:
            if str(error) == message:
                return count
    return None


def _instruction(command: dockerfile.Command, path: str, line: int | None = None) -> Instruction:
    line = line or command.start_line
    where = Location(path, line)
    name = command.cmd.lower()
    if name not in KNOWN_INSTRUCTIONS:
        raise DockerfileError(f"unknown instruction: {command.cmd}", location=where)
    if command.heredocs:
        raise DockerfileError(
            f"{command.cmd} with a heredoc (<<{command.heredocs[0].name}) is not supported",
            location=where,
            hint=_HEREDOC_HINT,
        )
    instruction = Instruction(
        keyword=command.cmd,
        text=command.original.strip(GO_SPACES),
        line=line,
        args=tuple(command.value),
        flags=_flags(name, command.flags, where),
    )
    return _checked(instruction, command, path)


def _checked(instruction: Instruction, command: dockerfile.Command, path: str) -> Instruction:
    where = Location(path, instruction.line)
    name = instruction.command
    if name in ("copy", "add") and len(instruction.args) < 2:
        raise DockerfileError(
            f"{instruction.keyword} requires at least two arguments, but only one was provided. "
            "Destination could not be determined",
            location=where,
        )
    if name == "arg":
        _check_arg(instruction, where)
    if name == "run":
        froms = tuple(_mount_from(mount, where) for mount in _flag_values(instruction, "mount"))
        return replace(instruction, mount_froms=froms)
    if name == "onbuild":
        expression = _ONBUILD_PREFIX.sub("", command.original, count=1)
        trigger = _onbuild_trigger(command, expression, Location(path, instruction.line))
        return replace(instruction, trigger=trigger, trigger_expression=expression)
    return instruction


def _check_arg(instruction: Instruction, where: Location) -> None:
    if not instruction.args:
        raise DockerfileError("ARG requires at least one argument", location=where)
    if any(key == "" for key, _ in arg_pairs(instruction)):
        raise DockerfileError("ARG names can not be blank", location=where)


def _flag_values(instruction: Instruction, name: str) -> list[str]:
    return [value for flag_name, value in instruction.flags if flag_name == name]


def _flags(instruction: str, raw_flags: Sequence[str], where: Location) -> tuple[tuple[str, str], ...]:
    """buildkit `BFlags.Parse`: `--name=value` / `--bool`; unknown or repeated single flags are errors."""
    allowed = _FLAGS.get(instruction, {})
    parsed: list[tuple[str, str]] = []
    for raw in raw_flags:
        if not raw.startswith("--"):
            raise DockerfileError(f"arg should start with -- : {raw}", location=where)
        if raw == "--":
            break
        name, has_value, value = raw[2:].partition("=")
        kind = allowed.get(name)
        if kind is None:
            known = ", ".join(f"--{flag}" for flag in allowed) or "no flags"
            raise DockerfileError(
                f"unknown flag: {name}", location=where, hint=f"{instruction.upper()} accepts {known}"
            )
        if kind != "strings" and any(flag == name for flag, _ in parsed):
            raise DockerfileError(f"duplicate flag specified: {name}", location=where)
        parsed.append((name, _flag_value(name, kind, value, has_value=bool(has_value), where=where)))
    return tuple(parsed)


def _flag_value(name: str, kind: str, value: str, *, has_value: bool, where: Location) -> str:
    if kind != "bool":
        if not has_value:
            raise DockerfileError(f"missing a value on flag: {name}", location=where)
        return value
    if has_value and value == "":
        raise DockerfileError(f"missing a value on flag: {name}", location=where)
    if value.lower() not in ("", "true", "false"):
        raise DockerfileError(f"expecting boolean value for flag {name}, not: {value}", location=where)
    return "false" if value.lower() == "false" else "true"


def _mount_from(mount: str, where: Location) -> str:
    """The `from=` of one `--mount` value (csv `key=value` fields; only `from` is read at parse time)."""
    rows = list(csv.reader([mount]))
    if not rows:
        raise DockerfileError(f"failed to parse csv mounts: {mount!r}", location=where)
    source_stage = ""
    for mount_field in rows[0]:
        key, has_value, value = mount_field.partition("=")
        if has_value and key.lower() == "from":
            if re.search(r"\$.", value):
                raise DockerfileError(
                    "'from' doesn't support variable expansion, define alias stage instead", location=where
                )
            source_stage = value
    return source_stage


def _onbuild_trigger(command: dockerfile.Command, expression: str, where: Location) -> Instruction:
    """buildkit `parseOnBuild`: the trigger is the original text after `ONBUILD`, parsed on its own."""
    trigger_name = (command.sub_cmd or "").upper()
    if trigger_name == "ONBUILD":
        raise DockerfileError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", location=where)
    if trigger_name in ("MAINTAINER", "FROM"):
        raise DockerfileError(f"{trigger_name} isn't allowed as an ONBUILD trigger", location=where)
    try:
        trigger_commands = dockerfile.parse_string(expression)
    except dockerfile.GoParseError as error:
        message = "ONBUILD with a heredoc is not supported" if "heredoc" in str(error) else f"ONBUILD {error}"
        raise DockerfileError(message, location=where, hint=_parse_error_hint(str(error))) from None
    if len(trigger_commands) != 1:
        raise DockerfileError(f"ONBUILD trigger {expression!r} is not one instruction", location=where)
    return _instruction(trigger_commands[0], where.file, where.line)


def _stage(index: int, builder: _StageBuilder, path: str) -> Stage:
    header = builder.header
    return Stage(
        index=index,
        name=_stage_name(header, path),
        base_name=header.args[0] if header.args else "",
        platform=header.flag("platform") or "",
        line=header.line,
        instructions=tuple(builder.instructions),
    )


def _stage_name(header: Instruction, path: str) -> str:
    """buildkit `parseBuildStageName`: `FROM image [AS name]`, names lowercased and validated."""
    where = Location(path, header.line)
    args = header.args
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not _STAGE_NAME.match(name):
            raise DockerfileError(
                f"invalid name for build stage: {args[2]!r}, "
                "name can't start with a number or contain symbols",
                location=where,
            )
        return name
    if len(args) != 1:
        raise DockerfileError("FROM requires either one or three arguments", location=where)
    return ""
