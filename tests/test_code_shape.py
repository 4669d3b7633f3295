"""The shape the project keeps its code in: every module of ``app/``, ``schema/`` and ``views/``
opens with a docstring saying what it holds, and none grows past 500 lines (a module that long
holds more than one thing: split it by concern)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MOST_LINES = 500
MODULES = sorted(
    path.relative_to(ROOT)
    for package in ("app", "schema", "views")
    for path in (ROOT / package).rglob("*.py")
)


@pytest.mark.parametrize("module", MODULES, ids=str)
def test_a_module_says_what_it_holds_in_at_most_500_lines(module: Path) -> None:
    source = (ROOT / module).read_text()
    lines = source.count("\n")
    assert lines <= MOST_LINES, f"{module} has {lines} lines: split it by what it holds"
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring and len(docstring.split()) >= 5, f"{module} opens with no docstring"
