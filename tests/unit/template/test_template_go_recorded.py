"""Outputs and error messages recorded from Go text/template + sprig + werf's functions, compared exactly."""

from __future__ import annotations

from typing import Any

import pytest
from template_go_recorded import CORE, DATES, FUNCS, PARSE, SPRIG, TEXT

from shipyard.config.template import TemplateError, render

GROUPS = {"core": CORE, "parse": PARSE, "sprig": SPRIG, "funcs": FUNCS, "dates": DATES, "text": TEXT}
CASES = [(group, *case) for group, cases in GROUPS.items() for case in cases]


def _render(text: str, data: Any) -> tuple[str, str | None]:
    try:
        return render(text, data=data), None
    except TemplateError as err:
        return "", err.message


@pytest.mark.parametrize(
    ("group", "text", "data", "expected", "error"),
    CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)],
)
def test_matches_go(group: str, text: str, data: Any, expected: str, error: str | None) -> None:
    output, message = _render(text, data)
    assert message == error
    if error is None:
        assert output == expected
