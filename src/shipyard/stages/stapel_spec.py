"""The image-config stages: Stapel `dockerInstructions` (§1.4c row 13) and `imageSpec` (§1.4d).

werf: `pkg/build/stage/docker_instructions.go` (StapelDockerInstructionsStage.GetDependencies),
`pkg/build/stage/image_spec.go` (ImageSpecStage.GetDependencies). Values werf formats with Go's `fmt.Sprint`
are formatted the same way here: bools `true`/`false`, the healthcheck pointer `<nil>` or
`&{[test words] interval timeout startPeriod retries}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shipyard.config.model import DockerInstructions, Healthcheck, ImageSpec
from shipyard.stages.stapel_deps import Dependencies, DependencyArgs

__all__ = [
    "docker_instructions_dependencies",
    "go_sprint_bool",
    "go_sprint_healthcheck",
    "image_spec_dependencies",
]

EXACT_VALUES_MARK = "exact-values:::"


def go_sprint_bool(value: bool) -> str:
    return "true" if value else "false"


def go_sprint_healthcheck(healthcheck: Healthcheck | None) -> str:
    """fmt.Sprint of werf's *HealthConfig{Test []string; Interval, Timeout, StartPeriod, Retries int}."""
    if healthcheck is None:
        return "<nil>"
    numbers = (healthcheck.interval, healthcheck.timeout, healthcheck.start_period, healthcheck.retries)
    return "&{[" + " ".join(healthcheck.test) + "] " + " ".join(str(number) for number in numbers) + "}"


def _add_sorted_map(args: DependencyArgs, values: Mapping[str, str], what: str) -> None:
    """werf's mapToSortedArgs: key, value pairs by key (Go sorts bytes; UTF-8 order is code point order)."""
    for key in sorted(values):
        args.add(key, f"{what} key")
        args.add(values[key], f"{what}[{key}]")


def _add_all(args: DependencyArgs, values: Iterable[str], what: str) -> None:
    for value in values:
        args.add(value, what)


def docker_instructions_dependencies(docker: DockerInstructions) -> Dependencies:
    """[exact-values mark], VOLUME…, EXPOSE…, ENV and LABEL pairs by key, CMD, ENTRYPOINT, WORKDIR, USER,
    HEALTHCHECK."""
    args = DependencyArgs()
    if docker.exact_values:
        args.add(EXACT_VALUES_MARK, "docker.exactValues")
    _add_all(args, docker.volume, "docker.VOLUME")
    _add_all(args, docker.expose, "docker.EXPOSE")
    _add_sorted_map(args, docker.env, "docker.ENV")
    _add_sorted_map(args, docker.label, "docker.LABEL")
    args.add(docker.cmd, "docker.CMD")
    args.add(docker.entrypoint, "docker.ENTRYPOINT")
    args.add(docker.workdir, "docker.WORKDIR")
    args.add(docker.user, "docker.USER")
    args.add(docker.healthcheck, "docker.HEALTHCHECK")
    return args.done()


def image_spec_dependencies(spec: ImageSpec) -> Dependencies:
    """image_spec.go GetDependencies: the fields in werf's order; lists that are sets are sorted."""
    args = DependencyArgs()
    args.add(spec.author or "", "imageSpec.author")
    args.add(go_sprint_bool(spec.clear_history), "imageSpec.clearHistory")
    args.add(" ".join(spec.cmd), "imageSpec.config.cmd")
    args.add(" ".join(spec.entrypoint), "imageSpec.config.entrypoint")
    _add_sorted_map(args, spec.env, "imageSpec.config.env")
    _add_all(args, sorted(spec.expose), "imageSpec.config.expose")
    args.add(go_sprint_healthcheck(spec.healthcheck), "imageSpec.config.healthcheck")
    _add_sorted_map(args, spec.labels, "imageSpec.config.labels")
    args.add(spec.stop_signal, "imageSpec.config.stopSignal")
    args.add(spec.user, "imageSpec.config.user")
    _add_all(args, sorted(spec.volumes), "imageSpec.config.volumes")
    args.add(spec.working_dir, "imageSpec.config.workingDir")
    _add_all(args, sorted(spec.remove_labels), "imageSpec.config.removeLabels")
    _add_all(args, sorted(spec.remove_volumes), "imageSpec.config.removeVolumes")
    _add_all(args, sorted(spec.remove_env), "imageSpec.config.removeEnv")
    for flag, what in (
        (spec.keep_essential_werf_labels, "keepEssentialWerfLabels"),
        (spec.clear_cmd, "clearCmd"),
        (spec.clear_entrypoint, "clearEntrypoint"),
        (spec.clear_user, "clearUser"),
        (spec.clear_working_dir, "clearWorkingDir"),
    ):
        args.add(go_sprint_bool(flag), f"imageSpec.config.{what}")
    return args.done()
