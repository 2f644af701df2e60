"""Each tests/cases/config/<case>/werf.yaml must fail with exactly the text of its expected_error.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config.validate import parse_werf_config
from shipyard.errors import ConfigError

CASES = Path(__file__).resolve().parents[2] / "cases" / "config"


def case_names() -> list[str]:
    return sorted(path.name for path in CASES.iterdir() if (path / "expected_error.txt").is_file())


def test_there_are_enough_cases_to_pin_the_wording() -> None:
    assert len(case_names()) >= 30


@pytest.mark.parametrize("case", case_names())
def test_config_error_case(case: str) -> None:
    directory = CASES / case
    expected = (directory / "expected_error.txt").read_text()
    with pytest.raises(ConfigError) as caught:
        parse_werf_config((directory / "werf.yaml").read_text())
    assert caught.value.render() + "\n" == expected
