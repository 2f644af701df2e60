"""Go's own exec_test.go table, run against the engine with only Go's builtins and the test's FuncMap."""

from __future__ import annotations

import pytest
from template_go_data import DATA, FUNCS
from template_go_exec_cases import EXEC_CASES

from shipyard.config.template import TemplateError, TemplateSet


def _run(name: str, text: str, data: object) -> str:
    templates = TemplateSet(name, FUNCS)
    templates.parse(name, text)
    return templates.execute(name, data)


@pytest.mark.parametrize(
    ("name", "text", "expected", "data", "ok"),
    EXEC_CASES,
    ids=[f"{i}-{case[0]}" for i, case in enumerate(EXEC_CASES)],
)
def test_go_exec_table(name: str, text: str, expected: str, data: str, ok: bool) -> None:
    if ok:
        assert _run(name, text, DATA[data]) == expected
    else:
        with pytest.raises(TemplateError):
            _run(name, text, DATA[data])
