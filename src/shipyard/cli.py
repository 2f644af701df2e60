"""Command line: werf's flag names and WERF_* variables. Imports stay lazy so `--help` starts fast."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from shipyard import __version__

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USER_ERROR = 1
EXIT_INTERNAL_BUG = 2


def _project_options(func: F) -> F:
    """Options every command that reads werf.yaml shares."""
    options = [
        click.option("--dir", "project_dir", envvar="WERF_DIR", default=".", show_default=True,
                     type=click.Path(file_okay=False),
                     help="Project directory (where werf.yaml lives)."),
        click.option("--config", "config_path", envvar="WERF_CONFIG", default=None,
                     help="werf.yaml path relative to the project directory (default werf.yaml, werf.yml)."),
        click.option("--config-templates-dir", envvar="WERF_CONFIG_TEMPLATES_DIR", default=None,
                     help="Directory with *.tmpl templates for werf.yaml (default .werf)."),
        click.option("--env", "environment", envvar="WERF_ENV", default="",
                     help="Environment name passed to werf.yaml templates as .Env."),
        click.option("--loose-giterminism", envvar="WERF_LOOSE_GITERMINISM", is_flag=True, default=False,
                     help="Read werf.yaml, Dockerfiles and build context from the work tree, uncommitted "
                          "changes included (no giterminism checks)."),
        click.option("--dev", envvar="WERF_DEV", is_flag=True, default=False,
                     help="Development mode: use the work tree with its uncommitted changes."),
        click.option("--platform", "platforms", envvar="WERF_PLATFORM", multiple=True,
                     help="Target platform(s), e.g. linux/amd64; comma-separated or repeated."),
        click.option("--debug-digest", envvar="WERF_DEBUG_STAGE_DIGEST", is_flag=True, default=False,
                     help="Print every input of every stage digest."),
        click.option("--skip-image-spec-stage", envvar="WERF_SKIP_IMAGE_SPEC_STAGE", is_flag=True,
                     default=False, help="Leave out the imageSpec stage of Stapel images."),
        click.option("--debug", envvar="SHIPYARD_DEBUG", is_flag=True, default=False,
                     help="Show a traceback on internal errors."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _repo_options(func: F) -> F:
    options = [
        click.option("--repo", envvar="WERF_REPO", default="",
                     help="Container registry repository keeping the stages (default: local storage)."),
        click.option("--insecure-registry", envvar="WERF_INSECURE_REGISTRY", is_flag=True, default=False,
                     help="Use plain HTTP for the registry."),
        click.option("--skip-tls-verify-registry", envvar="WERF_SKIP_TLS_VERIFY_REGISTRY", is_flag=True,
                     default=False, help="Do not verify the registry's TLS certificate."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shipyard")
def cli() -> None:
    """Build container images described in werf.yaml, with a content-based stage cache in the registry."""


@cli.command()
@click.argument("images", nargs=-1)
@_project_options
@_repo_options
@click.option("--json", "as_json", is_flag=True, default=False, help="Print the plan as JSON.")
def plan(**options: Any) -> None:
    """Print every stage's digest for IMAGES (glob patterns, !exclusions; default all) without building."""
    _run("plan", options)


@cli.command()
@_project_options
def render(**options: Any) -> None:
    """Print the rendered werf.yaml."""
    _run("render", options)


@cli.command()
@click.argument("images", nargs=-1)
@_project_options
@_repo_options
@click.option("--add-custom-tag", "custom_tags", multiple=True,
              help="Extra tag for every final image (%image%, %image_slug%, %image_safe_slug%, "
                   "%image_content_based_tag%); repeatable, also WERF_ADD_CUSTOM_TAG_*.")
@click.option("--final-repo", envvar="WERF_FINAL_REPO", default="", help="Repository for final images.")
@click.option("--secondary-repo", "secondary_repos", envvar="WERF_SECONDARY_REPO", multiple=True,
              help="Read-only repository to copy stages from.")
@click.option("--cache-repo", "cache_repos", envvar="WERF_CACHE_REPO", multiple=True,
              help="Repository used as a stage cache.")
@click.option("--synchronization", "-S", envvar="WERF_SYNCHRONIZATION", default="",
              help="Lock service: :local, http(s)://HOST:PORT, redis://HOST:PORT.")
@click.option("--parallel", "-p", envvar="WERF_PARALLEL", type=click.BOOL, default=True, is_flag=False,
              flag_value=True, show_default=True,
              help="Build independent images in parallel (--parallel=false: one at a time).")
@click.option("--no-parallel", is_flag=True, default=False, help="The same as --parallel=false.")
@click.option("--parallel-tasks-limit", envvar="WERF_PARALLEL_TASKS_LIMIT", default=5, show_default=True,
              type=int, help="Images built at the same time (<= 0: unlimited).")
@click.option("--save-build-report", envvar="WERF_SAVE_BUILD_REPORT", is_flag=True, default=False,
              help="Write the build report.")
@click.option("--build-report-path", envvar="WERF_BUILD_REPORT_PATH", default=".werf-build-report.json",
              show_default=True, help="Build report path: .json or .env.")
@click.option("--require-built-images", envvar="WERF_REQUIRE_BUILT_IMAGES", is_flag=True, default=False,
              help="Fail instead of building a stage that is not in the storage.")
@click.option("--ssh-key", "ssh_keys", envvar="WERF_SSH_KEY", multiple=True, type=click.Path(dir_okay=False),
              help="Private key for the builds' SSH agent (repeatable); default: $SSH_AUTH_SOCK's agent, "
                   "else ~/.ssh/id_rsa or id_dsa.")
@click.option("--trace-file", envvar="SHIPYARD_TRACE_FILE", default=None, type=click.Path(dir_okay=False),
              help="Write a Chrome/Perfetto trace of the run (one track per worker) to this file.")
def build(**options: Any) -> None:
    """Build IMAGES (default all), reusing every stage already in the storage."""
    options["custom_tags"] = tuple(options["custom_tags"]) + _custom_tags_from_env()
    _run("build", options)


@cli.group()
def cr() -> None:
    """Container registry credentials (the Docker-compatible auth file)."""


@cr.command()
@click.argument("registry")
@click.option("--username", "-u", envvar="WERF_USERNAME", default="", help="Registry user name.")
@click.option("--password", "-p", envvar="WERF_PASSWORD", default="", help="Password or access token.")
@click.option("--password-stdin", envvar="WERF_PASSWORD_STDIN", is_flag=True, default=False,
              help="Read the password from standard input.")
@click.option("--insecure-registry", envvar="WERF_INSECURE_REGISTRY", is_flag=True, default=False,
              help="The registry speaks plain HTTP.")
@click.option("--debug", envvar="SHIPYARD_DEBUG", is_flag=True, default=False, hidden=True)
def login(**options: Any) -> None:
    """Check the credentials against REGISTRY, then store them in the auth file."""
    if options["password_stdin"]:
        options["password"] = sys.stdin.readline().rstrip("\r\n")
    _run("cr-login", options)


@cr.command()
@click.argument("registry")
@click.option("--debug", envvar="SHIPYARD_DEBUG", is_flag=True, default=False, hidden=True)
def logout(**options: Any) -> None:
    """Remove the stored credentials of REGISTRY."""
    _run("cr-logout", options)


@cli.command()
@click.option("--host", envvar="WERF_HOST", default="localhost", show_default=True,
              help="Address to listen on (localhost: this host only; 0.0.0.0 or :: for every interface).")
@click.option("--port", envvar="WERF_PORT", default=55581, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port, printed at start).")
@click.option("--lease-ttl", envvar="SHIPYARD_LEASE_TTL", default=10.0, show_default=True,
              type=click.FloatRange(min=0, min_open=True),
              help="Seconds a lock outlives its last lease renewal. werf clients renew every 3 s: keep it "
                   "well above that.")
@click.option("--redis", "redis_url", envvar="SHIPYARD_SYNCHRONIZATION_REDIS", default=None,
              metavar="redis://[:PASSWORD@]HOST:PORT[/DB]",
              help="Keep leases in Redis instead of memory, so several servers behind a load balancer share "
                   "them. Prefer SHIPYARD_SYNCHRONIZATION_REDIS: it keeps the password out of `ps`.")
@click.option("--token", envvar="SHIPYARD_SYNCHRONIZATION_TOKEN", default=None,
              help="Require `Authorization: Bearer TOKEN` on every request but GET / and /health. Prefer "
                   "SHIPYARD_SYNCHRONIZATION_TOKEN: it keeps the token out of `ps`. TLS: use a proxy.")
def synchronization(host: str, port: int, lease_ttl: float, redis_url: str | None, token: str | None) -> None:
    """Run the lock server (werf's `werf synchronization` HTTP API) until SIGTERM or Ctrl-C."""
    from shipyard.errors import ShipyardError

    try:
        from shipyard.locks.server import serve

        serve(host, port, lease_ttl=lease_ttl, redis_url=redis_url or None, token=token or None,
              announce=lambda line: click.echo(line, err=True))
    except ShipyardError as error:
        click.echo(f"Error: {error.render()}", err=True)
        sys.exit(error.exit_code)


def _custom_tags_from_env() -> tuple[str, ...]:
    """werf reads every WERF_ADD_CUSTOM_TAG_<anything> variable, in name order."""
    prefix = "WERF_ADD_CUSTOM_TAG_"
    return tuple(os.environ[key] for key in sorted(os.environ) if key.startswith(prefix))


def _run(command: str, options: dict[str, Any]) -> None:
    """Run one command; turn user errors into a message and exit 1, bugs into exit 2."""
    from shipyard.errors import ShipyardError

    debug = bool(options.get("debug"))
    try:
        from shipyard import app

        app.run(command, options)
    except ShipyardError as error:
        click.echo(f"Error: {error.render()}", err=True)
        sys.exit(error.exit_code)
    except BrokenPipeError:
        # The reader went away (`shipyard plan | head`): not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Terminated:
        click.echo("Terminated.", err=True)
        sys.exit(143)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception:
        if debug:
            raise
        import traceback

        last = traceback.format_exc().strip().splitlines()[-1]
        click.echo(f"Internal error (a bug in shipyard): {last}\n  hint: rerun with --debug for the "
                   "traceback and report it.", err=True)
        sys.exit(EXIT_INTERNAL_BUG)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled CI job): unwind like Ctrl-C, so running buildah commands are stopped, their
    working containers removed and locks released, instead of dying with them orphaned."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    cli()
