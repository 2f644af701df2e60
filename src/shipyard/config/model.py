"""The parsed werf.yaml: frozen, pure values (no I/O). Field names follow werf's directives in snake_case.

Empty string means "not set" for string directives (as in werf); `None` marks the few places where "not set"
and "set to the default" behave differently (e.g. a Dockerfile image's `staged`, the gitWorktree options).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")


class FrozenMap(Mapping[str, V], Generic[V]):
    """A read-only, hashable str-keyed mapping that keeps insertion order (werf.yaml order)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, V] | None = None) -> None:
        self._items: dict[str, V] = dict(items or {})

    def __getitem__(self, key: str) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


# Sections werf does not interpret during a build (deploy, cleanup policies, ansible) are kept as plain data:
# str/int/float/bool/None, tuples for lists, FrozenMap for mappings.
RawValue = object


@dataclass(frozen=True, slots=True)
class Healthcheck:
    """imageSpec.config.healthcheck (yaml.v2 reads the untagged Go struct with lowercase keys)."""

    test: tuple[str, ...] = ()
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    retries: int = 0


@dataclass(frozen=True, slots=True)
class ImageSpec:
    author: str | None = None  # None: not set (the meta's author may apply)
    clear_history: bool = False
    keep_essential_werf_labels: bool = False
    clear_werf_labels: bool = False
    clear_cmd: bool = False
    clear_entrypoint: bool = False
    clear_user: bool = False
    clear_working_dir: bool = False
    remove_labels: tuple[str, ...] = ()  # names or /regex/
    remove_volumes: tuple[str, ...] = ()
    remove_env: tuple[str, ...] = ()  # names or /regex/
    volumes: tuple[str, ...] = ()
    labels: FrozenMap[str] = field(default_factory=FrozenMap)
    env: FrozenMap[str] = field(default_factory=FrozenMap)
    expose: tuple[str, ...] = ()
    user: str = ""
    cmd: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    working_dir: str = ""
    stop_signal: str = ""
    healthcheck: Healthcheck | None = None


@dataclass(frozen=True, slots=True)
class MetaBuild:
    cache_version: str = ""
    platform: tuple[str, ...] = ()
    staged: bool = False
    image_spec: ImageSpec | None = None


@dataclass(frozen=True, slots=True)
class MetaCleanup:
    disable: bool = False
    disable_kubernetes_based_policy: bool = False
    disable_git_history_based_policy: bool = False
    disable_built_within_last_n_hours_policy: bool = False
    keep_images_built_within_last_n_hours: int | None = None
    keep_policies: tuple[RawValue, ...] = ()


@dataclass(frozen=True, slots=True)
class MetaGitWorktree:
    force_shallow_clone: bool | None = None
    allow_unshallow: bool | None = None  # werf's default: true
    allow_fetch_origin_branches_and_tags: bool | None = None


@dataclass(frozen=True, slots=True)
class Meta:
    project: str
    config_version: int = 1
    build: MetaBuild = field(default_factory=MetaBuild)
    cleanup: MetaCleanup = field(default_factory=MetaCleanup)
    git_worktree: MetaGitWorktree = field(default_factory=MetaGitWorktree)
    deploy: RawValue = None
    line: int = 1


@dataclass(frozen=True, slots=True)
class DependencyImport:
    type: str  # ImageName | ImageTag | ImageRepo | ImageID | ImageDigest
    target_build_arg: str = ""  # Dockerfile images
    target_env: str = ""  # Stapel images


@dataclass(frozen=True, slots=True)
class Dependency:
    image: str
    imports: tuple[DependencyImport, ...] = ()
    before: str = ""  # Stapel only: install | setup
    after: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class Secret:
    id: str  # defaulted like werf: env name, or the src file's base name
    env: str = ""
    src: str = ""
    value: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class DockerfileImage:
    name: str  # "" for a nameless image (`image: ~`)
    dockerfile: str
    final: bool = True
    context: str = ""
    context_add_files: tuple[str, ...] = ()
    target: str = ""
    args: FrozenMap[str] = field(default_factory=FrozenMap)  # values stringified like Go's %v
    add_host: tuple[str, ...] = ()
    network: str = ""
    ssh: str = ""
    secrets: tuple[Secret, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    staged: bool | None = None  # None: inherit meta build.staged
    platform: tuple[str, ...] = ()
    cache_version: str = ""
    image_spec: ImageSpec | None = None  # already merged with the meta's imageSpec for final images
    line: int = 0  # first line of the image's document

    is_stapel = False


@dataclass(frozen=True, slots=True)
class GitStageDependencies:
    install: tuple[str, ...] = ()
    before_setup: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GitBasicAuth:
    username: str
    password_env: str = ""
    password_file: str = ""
    password_value: str = ""


@dataclass(frozen=True, slots=True)
class GitMapping:
    """A `git:` entry: the project repository when `url` is empty, a remote repository otherwise."""

    add: str = "/"
    to: str = "/"
    owner: str = ""
    group: str = ""
    include_paths: tuple[str, ...] = ()  # relative globs, cleaned, slash form
    exclude_paths: tuple[str, ...] = ()
    stage_dependencies: GitStageDependencies = field(default_factory=GitStageDependencies)
    url: str = ""
    branch: str = ""
    tag: str = ""
    commit: str = ""
    basic_auth: GitBasicAuth | None = None
    line: int = 0

    @property
    def is_remote(self) -> bool:
        return self.url != ""


@dataclass(frozen=True, slots=True)
class Shell:
    before_install: tuple[str, ...] = ()
    install: tuple[str, ...] = ()
    before_setup: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    cache_version: str = ""
    before_install_cache_version: str = ""
    install_cache_version: str = ""
    before_setup_cache_version: str = ""
    setup_cache_version: str = ""


@dataclass(frozen=True, slots=True)
class Mount:
    to: str
    type: str  # tmp_dir | build_dir | custom_dir (`fromPath`)
    from_path: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class Import:
    image: str  # `from`/`image` (a werf image, or an external reference with a tag/digest) or `artifact`
    add: str
    to: str
    before: str = ""  # install | setup
    after: str = ""
    stage: str = ""  # beforeInstall | install | beforeSetup | setup (which stage of the source image)
    is_artifact: bool = False  # named with the deprecated `artifact:`
    include_paths: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()
    owner: str = ""
    group: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class DockerInstructions:
    """The deprecated `docker:` directive; CMD/ENTRYPOINT as werf renders them (text, or `["a", "b"]`)."""

    volume: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    env: FrozenMap[str] = field(default_factory=FrozenMap)
    label: FrozenMap[str] = field(default_factory=FrozenMap)
    cmd: str = ""
    entrypoint: str = ""
    workdir: str = ""
    user: str = ""
    healthcheck: str = ""
    exact_values: bool = False


@dataclass(frozen=True, slots=True)
class StapelImage:
    name: str  # "" for a nameless image (`image: ~`)
    from_: str = ""  # `from`/`fromImage`/`fromArtifact`: a werf image name if one exists, else external
    final: bool = True
    is_artifact: bool = False  # declared with the deprecated `artifact: NAME`
    from_latest: bool = False
    from_cache_version: str = ""
    cache_version: str = ""
    disable_git_after_patch: bool = False
    git: tuple[GitMapping, ...] = ()
    shell: Shell | None = None
    ansible: RawValue = None
    mount: tuple[Mount, ...] = ()
    docker: DockerInstructions | None = None
    imports: tuple[Import, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    platform: tuple[str, ...] = ()
    network: str = ""
    secrets: tuple[Secret, ...] = ()
    image_spec: ImageSpec | None = None  # already merged with the meta's imageSpec for final images
    line: int = 0

    is_stapel = True

    @property
    def git_local(self) -> tuple[GitMapping, ...]:
        return tuple(mapping for mapping in self.git if not mapping.is_remote)

    @property
    def git_remote(self) -> tuple[GitMapping, ...]:
        return tuple(mapping for mapping in self.git if mapping.is_remote)


Image = DockerfileImage | StapelImage


@dataclass(frozen=True, slots=True)
class WerfConfig:
    meta: Meta
    images: tuple[Image, ...]
    # name → image, built once: validation and planning look images up per relation (linear scans made a
    # 1,000-image config quadratic to load)
    _by_name: Mapping[str, Image] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Image] = {}
        for image in self.images:
            by_name.setdefault(image.name, image)  # the first wins, as the linear scan did
        object.__setattr__(self, "_by_name", by_name)

    @property
    def image_names(self) -> tuple[str, ...]:
        return tuple(image.name for image in self.images)

    def image(self, name: str) -> Image:
        return self._by_name[name]

    def has_image(self, name: str) -> bool:
        return name in self._by_name

    def cache_version(self, image: Image) -> str:
        """werf-internals §1.3: the image's cacheVersion, else the meta's build.cacheVersion."""
        return image.cache_version or self.meta.build.cache_version

    def staged(self, image: DockerfileImage) -> bool:
        return self.meta.build.staged if image.staged is None else image.staged

    def platforms(self, image: Image) -> tuple[str, ...]:
        """The platforms werf.yaml asks for (image, else meta); empty means "decide at build time"."""
        return image.platform or self.meta.build.platform
