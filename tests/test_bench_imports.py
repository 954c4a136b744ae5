"""Every benchmark's imports from synflair resolve (a moved name breaks no benchmark unseen).

The benchmarks under ``bench/`` are run by hand, not by the suite; this reads each one's
``from synflair... import ...`` statements (module level and inside functions) and checks that
every name is an attribute or a submodule of the module it is imported from.
"""

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def synflair_imports(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("synflair"):
            pairs += [(node.module, alias.name) for alias in node.names]
    return pairs


@pytest.mark.parametrize("path", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_benchmark_imports_resolve(path):
    missing = []
    for module_name, name in synflair_imports(path):
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            continue
        try:
            importlib.import_module(f"{module_name}.{name}")
        except ModuleNotFoundError:
            missing.append(f"{module_name}.{name}")
    assert not missing, f"{path.name} imports names that no longer exist: {missing}"
