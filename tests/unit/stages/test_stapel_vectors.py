"""Stapel digests pinned by werf's golden vectors (werf-internals §1.6, §11) and werf's own test tables.

Sources: test/e2e/build/_fixtures/multiarch (orange), pkg/build/stage/from_test.go,
pkg/build/stage/dependencies_test.go (two revisions), pkg/build/builder/shell_test.go (formulas),
pkg/build/stage/image_spec_test.go (order independence). werf has no hex vectors for git params hashes,
dockerInstructions or imageSpec: those layouts are pinned from werf's source, with the hex recorded here.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from shipyard.config.model import (
    Dependency,
    DependencyImport,
    DockerInstructions,
    FrozenMap,
    GitMapping,
    Healthcheck,
    ImageSpec,
    Import,
    Shell,
    StapelImage,
)
from shipyard.hashsum import sha256_hash
from shipyard.stages.stapel import StapelInputs, StapelPlan
from shipyard.stages.stapel_deps import (
    builder_checksum,
    dependencies_stage_dependencies,
    from_dependencies,
    import_id,
    import_source_id,
)
from shipyard.stages.stapel_git import full_name, params_hash, repository_id
from shipyard.stages.stapel_spec import docker_instructions_dependencies, image_spec_dependencies

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
ORANGE_FROM = "85279ff0e1713f78e68b4356b2fa6a889e85b260e1ba7cf8d3ea09d3"
ORANGE_INSTALL = "f401fc847eba504268377fe9a6e192bd90cd9cd4e9333c3564846264"


# --- §1.6 orange: `from: alpine`, `shell.install: [echo install]`, linux/amd64 ----------------------------


def test_orange_fresh_build_reproduces_werfs_digests() -> None:
    image = StapelImage(name="orange", from_="alpine", shell=Shell(install=("echo install",)))
    stages = StapelPlan(image, StapelInputs(target_platform="linux/amd64")).stages_for_fresh_build()

    assert [stage.name for stage in stages] == ["from", "install"]
    from_stage, install = stages
    assert from_stage.deps == sha256_hash("alpine")
    assert from_stage.digest.args == ("1.2", "from", sha256_hash("alpine"))
    assert from_stage.digest.digest == ORANGE_FROM
    install_deps = sha256_hash(sha256_hash("echo install"), sha256_hash())
    assert install.deps == install_deps
    assert install.digest.args == ("1.2", "install", install_deps, ORANGE_FROM, "")
    assert install.digest.digest == ORANGE_INSTALL


def test_orange_debug_inputs_name_every_argument() -> None:
    image = StapelImage(name="orange", from_="alpine", shell=Shell(install=("echo install",)))
    install = StapelPlan(image, StapelInputs()).stages_for_fresh_build()[1]
    assert install.digest.dependencies == (sha256_hash("echo install"), EMPTY_SHA256)
    assert install.digest.dependency_origins[0] == "shell install checksum"
    assert install.as_planned_stage().digest_inputs == install.digest.args


# --- from_test.go: werf's stub base image has the empty name, hence the final "" argument ------------------


@pytest.mark.parametrize(
    ("image", "base_content_digest", "base_repo_id", "expected"),
    [
        (StapelImage(name="x"), None, "", EMPTY_SHA256),
        (
            StapelImage(name="x", cache_version="image-cache-version"),
            None,
            "",
            "62cc7cbbeb4189a01f9071091675d14e56faffbb1cd910e7e26858546028ef8f",
        ),
        (
            StapelImage(name="x", from_cache_version="from-cache-version"),
            None,
            "",
            "30a820396785223b2734a036e91697e727e16c01cd30fe64cbb04d81fbc6c1ae",
        ),
        (
            StapelImage(name="x", from_latest=True),
            None,
            "base-image-repo-id-or-none",
            "29e4de9b8f38c28e4fffb47f5a22f2c8ac76986cffd81133d5180586ebf85adf",
        ),
        # fromImage: the werf base image's content digest, "" in werf's conveyor stub
        (StapelImage(name="x", from_="from-image-or-artifact-image-name"), "", "", EMPTY_SHA256),
        (
            StapelImage(name="x", from_="scratch"),
            None,
            "",
            "5a9cb6b54ea56d52a69891af8c21afb73d3841611bbabb5d7c61312d81e6e041",
        ),
    ],
    ids=["no-params", "image-cache-version", "from-cache-version", "repo-id", "from-image", "scratch"],
)
def test_from_test_go_vectors(
    image: StapelImage, base_content_digest: str | None, base_repo_id: str, expected: str
) -> None:
    deps = from_dependencies(image, image.cache_version, base_content_digest, base_repo_id)
    assert deps.value == expected
    inputs = StapelInputs(base_image_content_digest=base_content_digest, base_image_repo_id=base_repo_id)
    assert StapelPlan(image, inputs).first_stage().deps == expected


def test_from_repo_id_counts_only_with_from_latest() -> None:
    deps = from_dependencies(StapelImage(name="x"), "", None, "base-image-repo-id-or-none")
    assert deps.value == EMPTY_SHA256


# --- dependencies_test.go ----------------------------------------------------------------------------------

ONE = "ONE_REPO:796e905d0cc975e718b3f8b3ea0199ea4d52668ecc12c4dbf85a136d-1638863657513"
ONE_CHANGED = "ONE_REPO:b7aebf280be3fbb7d207d3b659bfc1a49338441ea933c1eac5766a5f-1638863693022"
TWO = "TWO_REPO:bc6db8dde5c051349b85dbb8f858f4c80a519a17723d2c67dc9f890c-1643039584147"
THREE = "THREE_REPO:custom-tag"


def dependency(
    image: str, name: str, repo: str, tag: str, image_id: str = "", digest: str = ""
) -> Dependency:
    """werf's TestDependency.ToConfigDependency: imports in the order Name, Repo, Tag, ID, Digest."""
    kinds = (
        ("ImageName", name),
        ("ImageRepo", repo),
        ("ImageTag", tag),
        ("ImageID", image_id),
        ("ImageDigest", digest),
    )
    return Dependency(
        image, tuple(DependencyImport(kind, target_env=env) for kind, env in kinds if env), after="install"
    )


FIRST = dependency("one", "IMAGE_ONE_NAME", "IMAGE_ONE_REPO", "IMAGE_ONE_TAG")
SECOND = dependency("two", "TWO_NAME", "TWO_REPO", "TWO_TAG", "TWO_ID", "TWO_DIGEST")
THIRD = dependency("one", "ONE_NAME", "ONE_REPO", "ONE_TAG", "ONE_ID", "ONE_DIGEST")


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ((), EMPTY_SHA256),
        (
            ((FIRST, ONE), (SECOND, TWO), (THIRD, ONE)),
            "62b956afc89d0918164545c6336ecbcf3d29415cb42724368c6d331439bee956",
        ),
        (
            (
                (FIRST, ONE),
                (SECOND, TWO),
                (THIRD, ONE),
                (dependency("three", "THREE_IMAGE_NAME", "", ""), THREE),
            ),
            "69812782590820b507d9c8a2f74ed54d6544070ea28028e6fced4bf70f40112e",
        ),
        (
            ((FIRST, ONE_CHANGED), (SECOND, TWO), (THIRD, ONE_CHANGED)),
            "686672be02deb993edb8d41cd97eafdf26ebcfa5b878063ddd887ec623d84a1c",
        ),
        (
            (
                (dependency("one", "IMAGE_ONE_NAME", "IMAGE_ONE_REPO", "IMAGE_ONE_TAG_VARIABLE"), ONE),
                (SECOND, TWO),
                (THIRD, ONE),
            ),
            "1aa753aa608f9f19c85732d338e2f96236c2d2463de776b84936bedade37e9ce",
        ),
    ],
    ids=["none", "dependencies", "image-added", "tag-changed", "env-changed"],
)
def test_dependencies_test_go_vectors(entries: tuple[tuple[Dependency, str], ...], expected: str) -> None:
    assert dependencies_stage_dependencies((), entries).value == expected


def test_dependencies_test_go_vector_of_the_later_revision_without_image_id() -> None:
    second = dependency("two", "TWO_NAME", "TWO_REPO", "TWO_TAG", digest="TWO_DIGEST")
    third = dependency("one", "ONE_NAME", "ONE_REPO", "ONE_TAG", digest="ONE_DIGEST")
    entries = ((FIRST, ONE), (second, TWO), (third, ONE), (second, TWO), (third, ONE))
    expected = "17136cd6b67a73a8e34bc0159bfeb0d1e09d6a72938bc88237bc142065d2442f"
    assert dependencies_stage_dependencies((), entries).value == expected


# --- shell builder checksums (shell.go, shell_test.go) -----------------------------------------------------


@pytest.mark.parametrize(
    ("shell", "stage", "formula", "expected"),
    [
        (Shell(), "install", "", ""),
        (
            Shell(install=("echo one", "echo two")),
            "install",
            sha256_hash("echo one", "echo two"),
            "781114d9d4ba606a61a96c94f9dcfaf5f8fea27e28ea94da272bcbdca92e074a",
        ),
        (
            Shell(before_install=("echo one",), before_install_cache_version="v1"),
            "beforeInstall",
            sha256_hash("echo one", sha256_hash("v1")),
            "b16a199a28fc314ac9186aa659b786639ed38c48d54d9b6b958831339d66b965",
        ),
        (
            Shell(install=("echo one",), cache_version="global", install_cache_version="stage"),
            "install",
            sha256_hash("echo one", sha256_hash("stage", "global")),
            "6f7071cade213a6dc0704b270f188dda7e5ebe103271bd5a362e035d6b066703",
        ),
        # only the global cacheVersion: the stage exists and runs nothing
        (
            Shell(install=("echo one",), cache_version="global"),
            "setup",
            sha256_hash(sha256_hash("global")),
            "b156532a92f59023cc07d3abd360c92b6f3c7e8a146cd2761f951b63f63fa878",
        ),
    ],
    ids=["empty", "commands", "stage-version", "stage-and-global-version", "global-version-only"],
)
def test_shell_builder_checksums(shell: Shell, stage: str, formula: str, expected: str) -> None:
    assert builder_checksum(shell, stage) == formula == expected


# --- git mapping params hash (git_mapping.go GetParamshash) ------------------------------------------------


def test_params_hash_concatenates_the_parts_without_separators() -> None:
    local = GitMapping(to="/app")
    raw = "own_own:::/app" + ":::" * 8  # then add ("" for `/`), no globs, owner, group, branch, tag, commit
    assert params_hash(local) == hashlib.sha256(raw.encode()).hexdigest()
    assert params_hash(local) == "69595bebc4fb0895aebaaf3d1d7a1fbfc3bad0380610b6910cd05e2bc52fc63d"


def test_params_hash_of_a_remote_mapping() -> None:
    remote = GitMapping(
        url="https://github.com/golang/example.git",
        add="/hello",
        to="/src",
        include_paths=("**/*.go",),
        exclude_paths=("testdata",),
        owner="app",
        group="app",
        commit="1a2b",
    )
    assert full_name(remote) == "golang/example_golang/example"
    raw = "golang/example_golang/example:::/src:::hello:::**/*.go:::testdata:::app:::app" + ":::" * 3 + "1a2b"
    assert params_hash(remote) == hashlib.sha256(raw.encode()).hexdigest()
    assert params_hash(remote) == "85821ad5409076b73a0fe1861701e945a20a461749f4fa7d0ed9940fef0ae187"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/golang/example.git", "golang/example"),
        ("https://github.com/golang/example", "golang/example"),
        ("git@github.com:werf/werf.git", "werf/werf"),
        ("file:///tmp/repos/project.git", "repos/project"),
        ("ssh://git@host:2222/group/sub/repo.git/", "sub/repo"),
        ("no-slash", "no-slash"),
    ],
)
def test_repository_id_follows_werfs_ungreedy_regex(url: str, expected: str) -> None:
    assert repository_id(url) == expected


# --- dockerInstructions and imageSpec layouts --------------------------------------------------------------


def test_docker_instructions_layout() -> None:
    docker = DockerInstructions(
        volume=("/data",),
        expose=("80/tcp",),
        env=FrozenMap({"B": "2", "A": "1"}),
        label=FrozenMap({"x": "y"}),
        cmd='["run"]',
        workdir="/app",
        user="app",
        healthcheck="CMD true",
        exact_values=True,
    )
    deps = docker_instructions_dependencies(docker)
    assert deps.args == (
        "exact-values:::",
        "/data",
        "80/tcp",
        "A",
        "1",
        "B",
        "2",
        "x",
        "y",
        '["run"]',
        "",
        "/app",
        "app",
        "CMD true",
    )
    assert deps.value == "b41f0faa866a1b6aac9d9daf43b098c9d4afceea28b67db66dce0f0025d002f5"


def test_docker_instructions_without_exact_values_have_no_mark() -> None:
    assert docker_instructions_dependencies(DockerInstructions()).args == ("", "", "", "", "")


def test_image_spec_layout_formats_values_like_go_fmt() -> None:
    spec = ImageSpec(
        author="me",
        clear_history=True,
        cmd=("sh", "-c", "echo hi"),
        env=FrozenMap({"Z": "1", "A": "2"}),
        expose=("443", "80"),
        labels=FrozenMap({"v": "1"}),
        volumes=("/b", "/a"),
        healthcheck=Healthcheck(
            test=("CMD-SHELL", "curl -f localhost"), interval=10, timeout=3, start_period=5, retries=2
        ),
        keep_essential_werf_labels=True,
        clear_user=True,
    )
    deps = image_spec_dependencies(spec)
    assert deps.args == (
        "me", "true", "sh -c echo hi", "", "A", "2", "Z", "1", "443", "80",
        "&{[CMD-SHELL curl -f localhost] 10 3 5 2}", "v", "1", "", "", "/a", "/b", "",
        "true", "false", "false", "true", "false",
    )  # fmt: skip
    assert deps.value == "77109d176a4571364f9b0865ec8a8a07a3f175441595bef43a2ba51417cfb013"


def test_empty_image_spec_prints_nil_healthcheck_and_false_flags() -> None:
    deps = image_spec_dependencies(ImageSpec())
    assert deps.args == (
        "",
        "false",
        "",
        "",
        "<nil>",
        "",
        "",
        "",
        "false",
        "false",
        "false",
        "false",
        "false",
    )
    assert deps.value == "deb4d8a5b41e9441aba6a2c5643d483eb214b99710100624c17465445ce32516"


def test_image_spec_hash_ignores_element_order() -> None:
    """image_spec_test.go TestGetDependencies_StableHash."""
    first = ImageSpec(
        author="test-author",
        clear_history=True,
        remove_labels=("label1", "label2"),
        remove_volumes=("/data", "/cache"),
        remove_env=("ENV_VAR",),
        volumes=("/var/log", "/opt/app"),
        labels=FrozenMap({"app": "test", "version": "1.0"}),
        env=FrozenMap({"ENV_VAR": "value", "DEBUG": "true"}),
        expose=("80", "443"),
        user="root",
        cmd=("sh", "-c", "echo Hello"),
        entrypoint=("/entrypoint.sh",),
        working_dir="/app",
        stop_signal="SIGTERM",
    )
    second = ImageSpec(
        author="test-author",
        clear_history=True,
        remove_labels=("label2", "label1"),
        remove_volumes=("/cache", "/data"),
        remove_env=("ENV_VAR",),
        volumes=("/opt/app", "/var/log"),
        labels=FrozenMap({"version": "1.0", "app": "test"}),
        env=FrozenMap({"DEBUG": "true", "ENV_VAR": "value"}),
        expose=("443", "80"),
        user="root",
        cmd=("sh", "-c", "echo Hello"),
        entrypoint=("/entrypoint.sh",),
        working_dir="/app",
        stop_signal="SIGTERM",
    )
    assert image_spec_dependencies(first).value == image_spec_dependencies(second).value


# --- import ids (dependencies.go getImportSourceID, getImportID) --------------------------------------------


def test_import_source_id_and_import_id_layouts() -> None:
    item = Import(
        image="builder", add="/out", to="/app", after="install", include_paths=("bin", "lib"), owner="u"
    )
    assert import_source_id("cd", item) == sha256_hash(
        "SourceImageContentDigest", "cd", "Add", "/out", "IncludePaths", "bin///lib", "ExcludePaths", ""
    )
    expected = sha256_hash(
        "ImageName", "builder", "ArtifactName", "", "Stage", "", "After", "install", "Before", "",
        "Add", "/out", "To", "/app", "Group", "", "Owner", "u",
        "IncludePaths", "bin///lib", "ExcludePaths", "",
    )  # fmt: skip
    assert import_id(item) == expected
    artifact = replace(item, is_artifact=True)
    assert import_id(artifact) == sha256_hash(
        "ImageName", "", "ArtifactName", "builder", *expected_tail(item)
    )


def expected_tail(item: Import) -> tuple[str, ...]:
    return ("Stage", item.stage, "After", item.after, "Before", item.before, "Add", item.add, "To", item.to,
            "Group", item.group, "Owner", item.owner, "IncludePaths", "///".join(item.include_paths),
            "ExcludePaths", "///".join(item.exclude_paths))  # fmt: skip
