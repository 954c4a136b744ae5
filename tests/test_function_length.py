"""No function in synflair/ is longer than 80 lines (issue 15): a longer one is split into
named steps."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 80


def function_lengths() -> dict[str, int]:
    lengths = {}
    for path in sorted((ROOT / "synflair").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                key = f"{path.relative_to(ROOT).as_posix()}:{node.name}"
                lengths[key] = max(lengths.get(key, 0), node.end_lineno - node.lineno + 1)
    return lengths


def test_no_function_is_longer_than_80_lines():
    lengths = function_lengths()
    assert len(lengths) > 100  # the scan reads the package
    long = {k: n for k, n in lengths.items() if n > MAX_LINES}
    assert not long, f"functions over {MAX_LINES} lines (split them into named steps): {long}"
