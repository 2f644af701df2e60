"""Valid werf.yaml files parse into the model werf would build (the seed's examples first)."""

from __future__ import annotations

import pytest

from shipyard.config.model import (
    Dependency,
    DependencyImport,
    DockerfileImage,
    GitMapping,
    GitStageDependencies,
    Import,
    Mount,
    Secret,
    StapelImage,
)
from shipyard.config.validate import parse_werf_config, relations

META = "project: example\nconfigVersion: 1\n---\n"


def dockerfile_image(text: str, name: str) -> DockerfileImage:
    image = parse_werf_config(text).image(name)
    assert isinstance(image, DockerfileImage)
    return image


def stapel_image(text: str, name: str) -> StapelImage:
    image = parse_werf_config(text).image(name)
    assert isinstance(image, StapelImage)
    return image


def test_seed_images_from_stages_of_one_dockerfile() -> None:
    config = parse_werf_config(
        META + "image: backend\ndockerfile: Dockerfile\ntarget: backend\n---\n"
        "image: frontend\ndockerfile: Dockerfile\ntarget: frontend\n"
    )
    assert config.meta.project == "example" and config.meta.config_version == 1
    assert config.image_names == ("backend", "frontend")
    backend, frontend = config.images
    assert isinstance(backend, DockerfileImage) and isinstance(frontend, DockerfileImage)
    assert (backend.target, backend.line, frontend.target, frontend.line) == ("backend", 4, "frontend", 8)
    assert backend.final and backend.context == "" and backend.staged is None


def test_seed_three_images_with_contexts() -> None:
    config = parse_werf_config(
        META + "image: backend\ndockerfile: dockerfiles/Dockerfile.backend\n---\n"
        "image: frontend\ndockerfile: dockerfiles/Dockerfile.frontend\n---\n"
        "image: frontend-assets\ncontext: frontend/assets\ndockerfile: Dockerfile\n"
    )
    assert config.image_names == ("backend", "frontend", "frontend-assets")
    assets = config.image("frontend-assets")
    assert isinstance(assets, DockerfileImage)
    assert (assets.context, assets.dockerfile) == ("frontend/assets", "Dockerfile")
    assert relations(config) == {"backend": set(), "frontend": set(), "frontend-assets": set()}


def test_seed_dependencies_pass_names_and_digests_as_build_args() -> None:
    config = parse_werf_config(
        META + "image: auth\ndockerfile: Dockerfile\ncontext: modules/auth/\n---\n"
        "image: controlplane\ndockerfile: Dockerfile\ncontext: modules/controlplane/\n---\n"
        "image: app\ndockerfile: Dockerfile\ndependencies:\n"
        "- image: auth\n  imports:\n  - type: ImageName\n    targetBuildArg: AUTH_IMAGE_NAME\n"
        "  - type: ImageDigest\n    targetBuildArg: AUTH_IMAGE_DIGEST\n"
        "- image: controlplane\n  imports:\n  - type: ImageName\n"
        "    targetBuildArg: CONTROLPLANE_IMAGE_NAME\n"
        "  - type: ImageDigest\n    targetBuildArg: CONTROLPLANE_IMAGE_DIGEST\n"
    )
    app = config.image("app")
    assert app.dependencies == (
        Dependency(
            "auth",
            (
                DependencyImport("ImageName", "AUTH_IMAGE_NAME"),
                DependencyImport("ImageDigest", "AUTH_IMAGE_DIGEST"),
            ),
            line=15,
        ),
        Dependency(
            "controlplane",
            (
                DependencyImport("ImageName", "CONTROLPLANE_IMAGE_NAME"),
                DependencyImport("ImageDigest", "CONTROLPLANE_IMAGE_DIGEST"),
            ),
            line=21,
        ),
    )
    assert relations(config)["app"] == {"auth", "controlplane"}


def test_seed_base_image_dependency_and_intermediate_image() -> None:
    config = parse_werf_config(
        META + "image: base\nfinal: false\ndockerfile: base.Dockerfile\n---\n"
        "image: app\ndockerfile: Dockerfile\ndependencies:\n"
        "- image: base\n  imports:\n  - type: ImageName\n    targetBuildArg: BASE_IMAGE\n"
    )
    assert not config.image("base").final and config.image("app").final
    assert config.image("app").dependencies[0].imports == (DependencyImport("ImageName", "BASE_IMAGE"),)


def test_dependency_named_with_from() -> None:
    app = dockerfile_image(
        META + "image: base\ndockerfile: D\n---\nimage: app\ndockerfile: D\n"
        "dependencies:\n- from: base\n  imports:\n  - type: ImageTag\n    targetBuildArg: BASE_TAG\n",
        "app",
    )
    assert app.dependencies[0].image == "base"


def test_seed_stapel_builder_imported_into_app() -> None:
    config = parse_werf_config(
        META + "image: builder\nfrom: ubuntu:22.04\nshell:\n  beforeInstall:\n"
        "  - apt update -q\n  - apt install -y gcc g++ build-essential make\n"
        "  install:\n  - cd /app\n  - make build\n---\n"
        "image: app\nfrom: alpine:latest\nimport:\n- image: builder\n  add: /app/build/app\n"
        "  to: /usr/local/bin/app\n  after: install\n"
    )
    builder, app = config.images
    assert isinstance(builder, StapelImage) and isinstance(app, StapelImage)
    assert builder.shell is not None
    assert builder.shell.before_install == ("apt update -q", "apt install -y gcc g++ build-essential make")
    assert builder.shell.install == ("cd /app", "make build")
    assert app.imports == (
        Import("builder", "/app/build/app", "/usr/local/bin/app", after="install", line=17),
    )
    assert relations(config) == {"builder": set(), "app": {"builder"}}


def test_seed_stapel_git_with_stage_dependencies_and_shell() -> None:
    app = stapel_image(
        META + "image: app\nfrom: ubuntu:22.04\ngit:\n- add: /\n  to: /app\n  stageDependencies:\n"
        "    install:\n    - package-lock.json\n    - Gemfile.lock\n    beforeSetup:\n    - app/webpack/\n"
        "    setup: config/templates/\nshell:\n  beforeInstall: apt update -q\n  setup:\n"
        "  - rake generate:configs\n",
        "app",
    )
    assert app.git == (
        GitMapping(
            add="/",
            to="/app",
            line=7,
            stage_dependencies=GitStageDependencies(
                ("package-lock.json", "Gemfile.lock"), ("app/webpack",), ("config/templates",)
            ),
        ),
    )
    assert app.git_local == app.git and app.git_remote == ()
    assert app.shell is not None and app.shell.before_install == ("apt update -q",)


def test_seed_stapel_image_based_on_another_after_image_spec() -> None:
    config = parse_werf_config(
        META + "image: base\nfrom: postgres:12.22-bookworm\nimageSpec:\n  config:\n    removeVolumes:\n"
        "      - /var/lib/postgresql/data\n---\nimage: app\nfromImage: base\ngit:\n"
        "  - add: /postgresql/data\n"
        "    to: /var/lib/postgresql/data\n"
    )
    app = config.image("app")
    assert isinstance(app, StapelImage) and app.from_ == "base"
    assert relations(config)["app"] == {"base"}
    base = config.image("base")
    assert base.image_spec is not None and base.image_spec.remove_volumes == ("/var/lib/postgresql/data",)


def test_seed_secrets_get_werf_default_ids() -> None:
    app = dockerfile_image(
        META + "image: backend\ndockerfile: Dockerfile\nsecrets:\n  - env: AWS_ACCESS_KEY_ID\n"
        '  - id: aws_secret_key\n    env: AWS_SECRET_ACCESS_KEY\n  - src: "~/.aws/credentials"\n'
        "  - id: plainSecret\n    value: plainSecretValue\n",
        "backend",
    )
    assert app.secrets == (
        Secret("AWS_ACCESS_KEY_ID", env="AWS_ACCESS_KEY_ID", line=7),
        Secret("aws_secret_key", env="AWS_SECRET_ACCESS_KEY", line=8),
        Secret("credentials", src="~/.aws/credentials", line=10),
        Secret("plainSecret", value="plainSecretValue", line=11),
    )


def test_seed_context_add_files() -> None:
    app = dockerfile_image(
        META + "image: app\ndockerfile: Dockerfile\ncontext: app\ncontextAddFiles:\n"
        "- file1\n- dir1/\n- dir2/file2.out\n",
        "app",
    )
    assert app.context_add_files == ("file1", "dir1/", "dir2/file2.out")
    single = dockerfile_image(META + "image: app\ndockerfile: Dockerfile\ncontextAddFile: a.txt\n", "app")
    assert single.context_add_files == ("a.txt",)


def test_seed_image_spec_merges_global_settings_into_final_images() -> None:
    config = parse_werf_config(
        'project: test\nconfigVersion: 1\nbuild:\n  imageSpec:\n    author: "Global <g@example.com>"\n'
        '    clearHistory: true\n    config:\n      removeLabels:\n        - "unnecessary-label"\n'
        '        - /org.opencontainers.image..*/\n      labels:\n        app: "my-app"\n'
        "        team: global\n"
        '---\nimage: frontend_image\nfrom: alpine\nimageSpec:\n  author: "Frontend <f@example.com>"\n'
        '  config:\n    user: "1001:1001"\n    expose:\n      - "8080/tcp"\n    env:\n'
        '      NODE_ENV: "production"\n    entrypoint:\n      - "/usr/local/bin/start.sh"\n'
        "    labels:\n      team: frontend\n    removeLabels:\n      - old-frontend-label\n"
        "    healthcheck:\n      test: [CMD, curl, -f, localhost]\n      interval: 30\n      startperiod: 5\n"
        "---\nimage: tools\nfinal: false\nfrom: alpine\n"
    )
    frontend = config.image("frontend_image")
    spec = frontend.image_spec
    assert spec is not None
    assert spec.author == "Frontend <f@example.com>" and spec.clear_history
    assert dict(spec.labels) == {"team": "global", "app": "my-app"}  # werf: the meta's labels win
    assert spec.remove_labels == ("old-frontend-label", "unnecessary-label", "/org.opencontainers.image..*/")
    assert (spec.user, spec.expose, dict(spec.env)) == (
        "1001:1001",
        ("8080/tcp",),
        {"NODE_ENV": "production"},
    )
    assert spec.entrypoint == ("/usr/local/bin/start.sh",)
    assert spec.healthcheck is not None and spec.healthcheck.start_period == 5
    assert config.image("tools").image_spec is None  # not final: no global imageSpec
    assert config.meta.build.image_spec is not None and config.meta.build.image_spec.clear_history


def test_image_list_makes_one_image_per_name() -> None:
    config = parse_werf_config(META + "image: [api, worker]\ndockerfile: Dockerfile\ntarget: run\n")
    assert config.image_names == ("api", "worker")
    assert all(isinstance(image, DockerfileImage) and image.target == "run" for image in config.images)


def test_a_nameless_image_alone_is_allowed() -> None:
    config = parse_werf_config(META + "image: ~\nfrom: alpine:3.20\n")
    assert config.image_names == ("",)
    assert parse_werf_config(
        META + "image: ~\nfrom: alpine:3.20\n---\nimage: tool\nfinal: false\nfrom: alpine:3.20\n"
    ).image_names == ("", "tool")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", "1"),
        ("1.0", "1"),
        ("1.50", "1.5"),
        ("1e6", "1e+06"),
        ("123456.0", "123456"),
        ("0.00001", "1e-05"),
        ("yes", "true"),
        ("y", "true"),
        ("off", "false"),
        ("~", "<nil>"),
        ('"007"', "007"),
        ("007", "7"),
        ("0x1F", "31"),
        ("'1.0'", "1.0"),
        ("[1, x]", "[1 x]"),
        ("{b: 2, a: 1}", "map[a:1 b:2]"),
        ("1:30", "1:30"),
        ("2024-01-02", "2024-01-02"),
        ("plain text", "plain text"),
    ],
)
def test_args_are_stringified_like_go_percent_v(value: str, expected: str) -> None:
    image = dockerfile_image(META + f"image: app\ndockerfile: Dockerfile\nargs:\n  VALUE: {value}\n", "app")
    assert image.args["VALUE"] == expected


def test_string_directives_keep_the_scalar_text() -> None:
    image = dockerfile_image(
        META + "image: app\ndockerfile: Dockerfile\ncacheVersion: 1.10\ntarget: 007\n", "app"
    )
    assert (image.cache_version, image.target) == ("1.10", "007")


def test_staged_and_cache_version_fall_back_to_meta() -> None:
    config = parse_werf_config(
        "project: example\nconfigVersion: 1\nbuild:\n  staged: true\n  cacheVersion: global\n"
        "  platform: [linux/amd64, linux/arm64]\n---\n"
        "image: a\ndockerfile: D\n---\nimage: b\ndockerfile: D\nstaged: false\ncacheVersion: own\n"
        "platform: [linux/arm64]\n"
    )
    a, b = config.images
    assert isinstance(a, DockerfileImage) and isinstance(b, DockerfileImage)
    assert (a.staged, config.staged(a), b.staged, config.staged(b)) == (None, True, False, False)
    assert (config.cache_version(a), config.cache_version(b)) == ("global", "own")
    assert (config.platforms(a), config.platforms(b)) == (("linux/amd64", "linux/arm64"), ("linux/arm64",))


def test_project_override_replaces_the_project() -> None:
    config = parse_werf_config(META + "image: a\ndockerfile: D\n", project_override="from-env")
    assert config.meta.project == "from-env"


def test_an_image_named_like_its_base_pulls_the_latest_tag() -> None:
    config = parse_werf_config(META + "image: alpine\nfrom: alpine\n")
    image = config.image("alpine")
    assert isinstance(image, StapelImage) and image.from_ == "alpine:latest"
    assert relations(config) == {"alpine": set()}


def test_external_imports_and_artifacts() -> None:
    config = parse_werf_config(
        META + "artifact: build\nfrom: golang:1.22\n---\nimage: app\nfrom: alpine:3.20\nimport:\n"
        "- artifact: build\n  add: /out\n  before: setup\n- from: golang:1.22\n  add: /usr/local/go\n"
        "  to: /go\n  after: install\n  stage: install\n  includePaths: [bin/, ./src/**/*.go]\n"
    )
    build, app = config.images
    assert isinstance(build, StapelImage) and build.is_artifact and not build.final
    assert isinstance(app, StapelImage)
    assert app.imports[0] == Import("build", "/out", "/out", before="setup", is_artifact=True, line=10)
    assert app.imports[1].include_paths == ("bin", "src/**/*.go") and app.imports[1].stage == "install"
    assert relations(config)["app"] == {"build"}


def test_stapel_mounts_docker_remote_git_and_dependencies() -> None:
    app = stapel_image(
        META + "image: base\nfrom: alpine:3.20\n---\n"
        "image: app\nfrom: alpine:3.20\nmount:\n- from: tmp_dir\n  to: /var/cache/apt/\n"
        "- fromPath: /srv/cache\n  to: /cache\ndocker:\n  CMD: [run, --fast]\n  ENTRYPOINT: /bin/sh\n"
        "  ENV: {A: 1}\n  EXPOSE: '80'\ngit:\n- url: https://github.com/werf/werf.git\n  tag: v2.0.0\n"
        "  add: /docs\n  to: /docs\n  basicAuth:\n    username: bot\n    password: {env: GIT_TOKEN}\n"
        "dependencies:\n- image: base\n  after: setup\n  imports:\n  - type: ImageRepo\n"
        "    targetEnv: BASE_REPO\n",
        "app",
    )
    assert app.mount == (
        Mount("/var/cache/apt", "tmp_dir", line=10),
        Mount("/cache", "custom_dir", "/srv/cache", 12),
    )
    assert app.docker is not None
    assert (app.docker.cmd, app.docker.entrypoint, dict(app.docker.env), app.docker.expose) == (
        '["run", "--fast"]',
        "/bin/sh",
        {"A": "1"},
        ("80",),
    )
    (remote,) = app.git_remote
    assert (remote.url, remote.tag, remote.add, remote.to) == (
        "https://github.com/werf/werf.git",
        "v2.0.0",
        "/docs",
        "/docs",
    )
    assert remote.basic_auth is not None and remote.basic_auth.password_env == "GIT_TOKEN"
    assert app.dependencies == (
        Dependency("base", (DependencyImport("ImageRepo", target_env="BASE_REPO"),), after="setup", line=28),
    )


def test_meta_sections() -> None:
    config = parse_werf_config(
        "project: example\nconfigVersion: 1\ncleanup:\n  disableGitHistoryBasedPolicy: true\n"
        "  keepImagesBuiltWithinLastNHours: 6\n  keepPolicies:\n  - references:\n      tag: /.*/\n"
        "gitWorktree:\n  allowUnshallow: false\ndeploy:\n  helmChartDir: .helm\n"
    )
    meta = config.meta
    assert (
        meta.cleanup.disable_git_history_based_policy
        and meta.cleanup.keep_images_built_within_last_n_hours == 6
    )
    assert meta.cleanup.keep_policies == ({"references": {"tag": "/.*/"}},)
    assert meta.git_worktree.allow_unshallow is False and meta.git_worktree.force_shallow_clone is None
    assert meta.deploy == {"helmChartDir": ".helm"}
    assert config.images == ()


def test_document_lines_follow_separators_and_comments() -> None:
    text = (
        "# header\nproject: example\nconfigVersion: 1\n--- # images\n# only a comment\n---\n\n"
        "image: app   # the app\ndockerfile: Dockerfile\n---\t\n----\n"
    )
    with pytest.raises(Exception) as caught:  # `----` is content, not a separator
        parse_werf_config(text)
    assert "werf.yaml:11" in str(caught.value)
    config = parse_werf_config(text.replace("----\n", ""))
    assert config.image("app").line == 8 and config.meta.line == 2  # the first line with content


def test_yaml_merge_keys_are_supported() -> None:
    image = dockerfile_image(
        META + "image: a\ndockerfile: D\nplatform: &both [linux/amd64, linux/arm64]\nargs:\n  <<: &common\n"
        "    A: 1\n    B: 2\n  B: 3\nimageSpec:\n  config:\n    labels:\n      <<: [*common, {C: 4}]\n",
        "a",
    )
    assert dict(image.args) == {"A": "1", "B": "3"} and image.platform == ("linux/amd64", "linux/arm64")
    assert image.image_spec is not None and dict(image.image_spec.labels) == {"A": "1", "B": "2", "C": "4"}


def test_models_are_hashable_values() -> None:
    first = parse_werf_config(META + "image: a\ndockerfile: D\nargs: {A: 1}\n")
    second = parse_werf_config(META + "image: a\ndockerfile: D\nargs: {A: 1}\n")
    assert first == second and hash(first) == hash(second)
