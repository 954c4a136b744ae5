"""The layer rule of docs/design.md, checked from the import graph.

From the bottom: foundation modules (errors, atomic writing, NIfTI reading,
physics, intensity, geometry, ...) -> stage packages (file-level APIs and
the array code under them) -> command-line modules (``*.cli``,
``*_cli``: parse arguments, call the API) -> ``synflair.cli`` (the
dispatcher) -> the workflow. Nothing imports upward: the foundation imports
only the foundation, no library module imports a command-line module or the
dispatcher, and the workflow's scripts and rules call the APIs, not the
command line.

Every import statement is read with ``ast`` (module level and inside
functions, so lazy imports count too); ``importlib.import_module`` with a
literal name counts as an import of that name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from synflair.cli import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "synflair"

#: The bottom layer: modules every stage may use; they import only each other.
FOUNDATION = {
    "synflair",
    "synflair.errors",
    "synflair.atomic",
    "synflair.nifti",
    "synflair.physics",
    "synflair.intensity",
    "synflair.geometry",
    "synflair.schema",
    "synflair.provenance",
    "synflair.progress",
    "synflair.tables",
}

#: Workflow scripts that still go through the command line: none (workflow/scripts/train.py
#: calls synflair.train.api). Add no script here.
SCRIPT_EXCEPTIONS: set[str] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_cli(name: str) -> bool:
    """A command-line module: ``*.cli`` or ``*_cli`` (the dispatcher is ``synflair.cli``)."""
    last = name.rsplit(".", 1)[-1]
    return last == "cli" or last.endswith("_cli")


def imported_names(source: str, name: str, is_package: bool) -> set[str]:
    """Every module (and ``module.attribute``) a source imports, lazily or not."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return {n for n in names if n == "synflair" or n.startswith("synflair.")}


def library_modules() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        graph[name] = imported_names(path.read_text(), name, path.name == "__init__.py")
    return graph


def known(graph: dict[str, set[str]], name: str) -> str | None:
    """The module an imported name refers to (``a.b.f`` -> ``a.b``), or None."""
    while name:
        if name in graph:
            return name
        name = name.rpartition(".")[0]
    return None


GRAPH = library_modules()


def edges() -> list[tuple[str, str]]:
    """(importer, imported module) pairs, each once."""
    found = set()
    for source, names in GRAPH.items():
        for name in names:
            target = known(GRAPH, name)
            if target is not None and target != source:
                found.add((source, target))
    return sorted(found)


def test_graph_is_read():
    """The scan finds the package and its imports (a broken scan would pass everything)."""
    assert {"synflair.cli", "synflair.quantify.cli", "synflair.nifti"} <= set(GRAPH)
    assert ("synflair.__main__", "synflair.cli") in set(edges())
    assert ("synflair.nifti", "synflair.atomic") in set(edges())
    # the dispatcher's lazy imports are literal names in SUBCOMMANDS, not import statements
    assert all(module in GRAPH for module, _ in SUBCOMMANDS.values())


def test_only_the_dispatcher_imports_command_line_modules():
    bad = [
        f"{source} imports {target}"
        for source, target in edges()
        if is_cli(target)
        and source != "synflair.cli"
        and not (source == "synflair.__main__" and target == "synflair.cli")
    ]
    assert not bad, "only synflair/cli.py imports command-line modules:\n" + "\n".join(bad)


def test_subcommands_are_command_line_modules():
    """Each subcommand's module only parses and calls an API (named ``cli``/``*_cli``)."""
    bad = [
        f"{command}: {module}" for command, (module, _) in SUBCOMMANDS.items() if not is_cli(module)
    ]
    assert not bad, "subcommand modules that are not command-line modules:\n" + "\n".join(bad)


def test_foundation_imports_only_the_foundation():
    assert FOUNDATION <= set(GRAPH)
    bad = [
        f"{source} imports {target}"
        for source, target in edges()
        if source in FOUNDATION and target not in FOUNDATION
    ]
    assert not bad, "the bottom layer imports upward:\n" + "\n".join(bad)


def test_command_line_modules_do_not_import_each_other():
    bad = [
        f"{source} imports {target}"
        for source, target in edges()
        if is_cli(source) and source != "synflair.cli" and is_cli(target)
    ]
    assert not bad, "\n".join(bad)


WORKFLOW_SOURCES = sorted(
    [*(ROOT / "workflow" / "scripts").glob("*.py"), *(ROOT / "workflow" / "rules").glob("*.smk")]
)


@pytest.mark.parametrize("path", WORKFLOW_SOURCES, ids=lambda p: p.name)
def test_workflow_calls_apis_not_the_command_line(path: Path):
    """Scripts and rules import APIs; ``shell:`` goes through ``python -m synflair``."""
    relative = path.relative_to(ROOT).as_posix()
    if path.suffix == ".smk":
        # Snakemake syntax is not Python: read the modules its import lines name
        pattern = r"^\s*(?:from|import) (synflair[\w.]*)"
        names = set(re.findall(pattern, path.read_text(), re.M))
    else:
        names = imported_names(path.read_text(), relative, False)
    bad = sorted(n for n in names if is_cli(known(GRAPH, n) or n))
    if relative in SCRIPT_EXCEPTIONS:
        return
    assert not bad, f"{relative} imports the command line: {bad}"


def test_script_exceptions_still_exist():
    """An exception that is no longer needed is removed from the list."""
    for relative in SCRIPT_EXCEPTIONS:
        path = ROOT / relative
        names = imported_names(path.read_text(), relative, False)
        assert any(is_cli(known(GRAPH, n) or n) for n in names), f"{relative}: drop the exception"


def imported_closure(start: str) -> set[str]:
    """Every library module ``start`` reaches through imports (itself included)."""
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += [target for source, target in edges() if source == module]
    return seen


@pytest.mark.parametrize("module", ["synflair.infer", "synflair.models.modelfile"])
def test_inference_does_not_import_training(module):
    """The saved-model contract is in synflair.models: applying a model needs no training code."""
    reached = imported_closure(module)
    assert "synflair.models.normalization" in reached  # the scan follows the imports
    training = sorted(m for m in reached if m.split(".")[:2] == ["synflair", "train"])
    assert not training, f"{module} imports training code: {training}"
