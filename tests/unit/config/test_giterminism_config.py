"""werf-giterminism.yaml parsing, werf's glob matching, and the config checks it enables."""

from __future__ import annotations

import pytest

from shipyard.config.giterminism import (
    GiterminismConfig,
    check_config,
    glob_matches,
    parse_giterminism_config,
)
from shipyard.config.validate import parse_werf_config
from shipyard.errors import ConfigError, GiterminismError

FULL = """\
giterminismConfigVersion: 1
cli:
  allowCustomTags: true
config:
  allowUncommitted: true
  allowUncommittedTemplates: [.werf/**/*.tmpl]
  goTemplateRendering:
    allowEnvVariables: [CI_COMMIT_SHA, "/^CI_.*/", "/APP_[0-9]+/"]
    allowUncommittedFiles: ["configs/*.yaml"]
  secrets:
    allowEnvVariables: [AWS_ACCESS_KEY_ID]
    allowFiles: ["~/.aws/credentials", /run/secrets/*]
    allowValueIds: [plainSecret]
  stapel:
    allowFromLatest: true
    git:
      allowBranch: true
    mount:
      allowBuildDir: true
      allowFromPaths: [/srv/cache/**]
  dockerfile:
    allowUncommitted: [backend/Dockerfile]
    allowUncommittedDockerignoreFiles: [.dockerignore]
    allowContextAddFiles: [app/file1, app/dir1/, "app/**/*.out"]
helm:
  allowUncommittedFiles: [.helm/values.yaml]
includes:
  allowIncludesUpdate: true
"""


def test_absent_file_allows_nothing() -> None:
    nothing = GiterminismConfig()
    assert not nothing.config.allow_uncommitted and not nothing.cli.allow_custom_tags
    assert not nothing.config.dockerfile.allows_uncommitted("Dockerfile")
    assert not nothing.config.go_template_rendering.allows_env("HOME")


def test_every_key_is_read() -> None:
    config = parse_giterminism_config(FULL)
    assert config.cli.allow_custom_tags and config.includes.allow_includes_update
    assert config.config.allow_uncommitted
    assert config.config.allows_uncommitted_template(".werf/a/b.tmpl")
    rendering = config.config.go_template_rendering
    assert rendering.allows_env("CI_COMMIT_SHA") and rendering.allows_env("CI_JOB_ID")
    assert (
        rendering.allows_env("APP_12")
        and not rendering.allows_env("XAPP_1")
        and not rendering.allows_env("HOME")
    )
    assert rendering.allows_uncommitted_file("configs/a.yaml") and not rendering.allows_uncommitted_file(
        "configs/a/b.yaml"
    )
    secrets = config.config.secrets
    assert secrets.allows_env("AWS_ACCESS_KEY_ID") and not secrets.allows_env("AWS_SECRET")
    assert secrets.allows_file("~/.aws/credentials") and secrets.allows_file("/run/secrets/token")
    assert secrets.allows_value_id("plainSecret")
    stapel = config.config.stapel
    assert stapel.allow_from_latest and stapel.git.allow_branch and stapel.mount.allow_build_dir
    assert stapel.mount.allows_from_path("/srv/cache/apt/archives")
    dockerfile = config.config.dockerfile
    assert dockerfile.allows_uncommitted("backend/Dockerfile") and not dockerfile.allows_uncommitted(
        "Dockerfile"
    )
    assert dockerfile.allows_uncommitted_dockerignore(".dockerignore")
    assert dockerfile.allows_context_add_file("app/file1") and dockerfile.allows_context_add_file(
        "app/dir1/x/y"
    )
    assert dockerfile.allows_context_add_file(
        "app/dir2/file2.out"
    ) and not dockerfile.allows_context_add_file("app/x")
    assert config.helm.allows_uncommitted_file(".helm/values.yaml")


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("a/*.txt", "a/b.txt", True),
        ("a/*.txt", "a/b/c.txt", False),
        ("a/**/*.txt", "a/b/c/d.txt", True),
        ("a/**/*.txt", "a/d.txt", True),
        ("**/*.go", "x.go", True),
        ("dir", "dir/sub/file", True),
        ("dir/", "dir/file", True),
        ("./dir", "dir/file", True),
        ("dir", "dir2/file", False),
        ("f?le", "file", True),
        ("f?le", "f/le", False),
        ("[ab].txt", "b.txt", True),
        ("[!ab].txt", "c.txt", True),
        ("{x,y}.txt", "y.txt", True),
        ("a\\*b", "a*b", True),
        ("a\\*b", "axb", False),
        ("**", "any/thing", True),
    ],
)
def test_globs_match_like_werf_path_matcher(pattern: str, path: str, matches: bool) -> None:
    assert glob_matches(pattern, path) is matches


@pytest.mark.parametrize("version", ["1", "'1'"])
def test_version_may_be_a_number_or_a_string(version: str) -> None:
    assert parse_giterminism_config(f"giterminismConfigVersion: {version}\n") == GiterminismConfig()


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        (
            "config:\n  allowUncommitted: true\n",
            "werf-giterminism.yaml: `giterminismConfigVersion: 1` is required\n"
            "  hint: 1 is the only version: add `giterminismConfigVersion: 1` at the top",
        ),
        (
            "giterminismConfigVersion: 2\n",
            "werf-giterminism.yaml:1: `giterminismConfigVersion: 1` is required\n"
            "  hint: 1 is the only version: add `giterminismConfigVersion: 1` at the top",
        ),
        (
            "giterminismConfigVersion: 1\nconfig:\n  dockerfile:\n    allowContextAddFile: [a]\n",
            "werf-giterminism.yaml:4: unknown key `allowContextAddFile` in `config.dockerfile`\n"
            "  hint: did you mean `allowContextAddFiles`?",
        ),
        (
            "giterminismConfigVersion: 1\nconfig:\n  allowUncommitted: [werf.yaml]\n",
            "werf-giterminism.yaml:3: `allowUncommitted` must be a boolean (true or false), got a list\n"
            "  hint: e.g. `allowUncommitted: true`",
        ),
        (
            "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: ['/(/']\n",
            "werf-giterminism.yaml:4: invalid regular expression /(/ in "
            "`config.goTemplateRendering.allowEnvVariables`: "
            "missing ), unterminated subpattern at position 0\n"
            "  hint: write the regex between slashes, e.g. `/^CI_.*/`",
        ),
        (
            "- a\n",
            "werf-giterminism.yaml:1: werf-giterminism.yaml must be a mapping starting with "
            "`giterminismConfigVersion: 1`\n  hint: see https://werf.io/docs/v2/usage/project_configuration/"
            "giterminism.html",
        ),
    ],
)
def test_errors_are_located(text: str, rendered: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_giterminism_config(text)
    assert caught.value.render() == rendered


WERF_YAML = """\
project: demo
configVersion: 1
---
image: app
dockerfile: Dockerfile
context: app
contextAddFiles: [file1, dir1/sub]
secrets:
- env: AWS_ACCESS_KEY_ID
- id: plainSecret
  value: x
---
image: tool
from: alpine:3.20
fromLatest: true
git:
- url: https://github.com/werf/werf.git
  branch: main
  add: /docs
  to: /docs
mount:
- from: build_dir
  to: /cache
- fromPath: /srv/cache/apt
  to: /var/cache/apt
"""


def test_check_config_passes_when_everything_is_allowed() -> None:
    check_config(parse_werf_config(WERF_YAML), parse_giterminism_config(FULL))


@pytest.mark.parametrize(
    ("removed", "line", "needle"),
    [
        ("app/dir1/, ", 4, "contextAddFiles entry `dir1/sub`"),
        ("AWS_ACCESS_KEY_ID", 9, "secret from environment variable `AWS_ACCESS_KEY_ID`"),
        ("plainSecret", 10, "secret value `plainSecret`"),
        ("allowFromLatest: true", 13, "`fromLatest: true`"),
        ("allowBranch: true", 17, "remote git `branch: main`"),
        ("allowBuildDir: true", 22, "mount `from: build_dir`"),
        ("/srv/cache/**", 24, "mount `fromPath: /srv/cache/apt`"),
    ],
)
def test_check_config_refuses_what_is_not_allowed(removed: str, line: int, needle: str) -> None:
    giterminism = parse_giterminism_config(FULL.replace(removed, ""))
    with pytest.raises(GiterminismError) as caught:
        check_config(parse_werf_config(WERF_YAML), giterminism)
    assert needle in caught.value.message and caught.value.location is not None
    assert (
        caught.value.location.line == line
        and caught.value.hint
        and "werf-giterminism.yaml" in caught.value.hint
    )
