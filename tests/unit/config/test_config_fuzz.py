"""Whatever the text, parsing returns a WerfConfig or raises ConfigError: never a crash."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipyard.config.giterminism import parse_giterminism_config
from shipyard.config.model import WerfConfig
from shipyard.config.validate import parse_werf_config
from shipyard.config.validate_image import DOCKERFILE_KEYS, STAPEL_KEYS
from shipyard.errors import ConfigError

KEYS = sorted(
    {
        *DOCKERFILE_KEYS,
        *STAPEL_KEYS,
        "configVersion",
        "project",
        "build",
        "imports",
        "type",
        "add",
        "to",
        "before",
        "after",
        "targetEnv",
        "targetBuildArg",
        "url",
        "branch",
        "includePaths",
        "config",
        "labels",
        "install",
        "setup",
        "id",
        "env",
        "src",
        "value",
        "bogus",
        "Image",
        "<<",
    }
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, width=32),
    st.sampled_from(
        [
            "a",
            "/abs",
            "../up",
            "base",
            "app",
            "alpine:3.20",
            "ImageName",
            "install",
            "1",
            "",
            "~",
            "linux/amd64",
            "yes",
            "x,y",
            "/",
        ]
    ),
    st.text(max_size=6),
)
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=12,
)
META = {"project": "demo", "configVersion": 1}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parses_or_reports(text: str) -> None:
    try:
        result = parse_werf_config(text)
    except ConfigError as error:
        assert error.message and error.location is not None and error.location.file == "werf.yaml"
        assert error.hint, f"every config error needs a hint: {error.render()}"
    else:
        assert isinstance(result, WerfConfig)


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    parses_or_reports(text)


@SETTINGS
@given(
    st.lists(st.dictionaries(st.sampled_from(KEYS), TREES, max_size=6), min_size=1, max_size=3), st.booleans()
)
def test_yaml_shaped_documents(sections: list[dict[str, object]], with_meta: bool) -> None:
    documents = ([META] if with_meta else []) + sections
    parses_or_reports(
        "---\n".join(yaml.safe_dump(section, default_flow_style=False) for section in documents)
    )


@SETTINGS
@given(st.sampled_from(sorted(DOCKERFILE_KEYS | STAPEL_KEYS)), TREES, st.booleans())
def test_one_directive_with_any_value(key: str, value: object, dockerfile: bool) -> None:
    section: dict[str, object] = {"image": "app", ("dockerfile" if dockerfile else "from"): "x"}
    section[key] = value
    parses_or_reports(yaml.safe_dump(META) + "---\n" + yaml.safe_dump(section))


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "giterminismConfigVersion",
                "config",
                "cli",
                "helm",
                "dockerfile",
                "allowUncommitted",
                "stapel",
                "mount",
                "allowFromPaths",
            ]
        ),
        TREES,
        max_size=4,
    )
)
def test_giterminism_never_crashes(document: dict[str, object]) -> None:
    try:
        parse_giterminism_config(yaml.safe_dump(document))
    except ConfigError as error:
        assert error.location is not None
