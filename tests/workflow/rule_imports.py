"""What each workflow rule runs and which third-party packages that code imports.

Read statically (``ast``), without conda and without importing anything: the
rules' ``conda:`` files and their ``shell:`` (``python -m synflair COMMAND``) or
``script:`` entry points from ``workflow/rules/*.smk``, then the import closure of
that entry point inside the ``synflair`` package. Imports inside functions count
(they run when the command does); imports guarded by ``try/except ImportError``
count too, as the conservative choice.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "synflair"

#: import name -> conda package name (conda-forge, or pip inside the env file)
CONDA_NAME = {
    "ants": "antspyx",
    "fsl": "fslpy",
    "gdcm": "gdcm",
    "jsonschema": "jsonschema",
    "matplotlib": "matplotlib-base",
    "nibabel": "nibabel",
    "nilearn": "nilearn",
    "nipype": "nipype",
    "numpy": "numpy",
    "pandas": "pandas",
    "PIL": "pillow",
    "pydicom": "pydicom",
    "scipy": "scipy",
    "skimage": "scikit-image",
    "torch": "pytorch",
    "tqdm": "tqdm",
    "yaml": "pyyaml",
}


@dataclass(frozen=True)
class Rule:
    """One workflow rule: its name, conda environment file and entry point."""

    name: str
    smk: Path
    env: Path
    entry: str  # "synflair.<module>" (a CLI subcommand's module) or a script path


def _subcommands() -> dict[str, str]:
    tree = ast.parse((PACKAGE / "cli.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "SUBCOMMANDS":
            pairs = zip(node.value.keys, node.value.values, strict=True)
            return {k.value: v.elts[0].value for k, v in pairs}
    raise AssertionError("synflair/cli.py: no SUBCOMMANDS table")


def workflow_rules() -> list[Rule]:
    """Every rule of ``workflow/rules/*.smk`` with its conda file and entry point."""
    commands = _subcommands()
    rules = []
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        text = smk.read_text()
        for block in re.split(r"^rule ", text, flags=re.M)[1:]:
            name = block.split(":", 1)[0].strip()
            env = re.search(r"^\s+conda:\s*\n\s+\"([^\"]+)\"", block, re.M)
            assert env, f"{smk.name}: rule {name} has no conda: environment"
            env_path = (smk.parent / env.group(1)).resolve()
            command = re.search(r"python -m synflair (\w+)", block)
            script = re.search(r"^\s+script:\s*\n\s+\"([^\"]+)\"", block, re.M)
            if command:
                entry = commands[command.group(1)]
            elif script:
                entry = str((smk.parent / script.group(1)).resolve())
            else:
                raise AssertionError(f"{smk.name}: rule {name} runs neither synflair nor a script")
            rules.append(Rule(name, smk, env_path, entry))
    return rules


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    base = ROOT.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


@cache
def _lazy_package(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """A package's statically bound names, and what its module ``__getattr__`` imports.

    A package ``__init__`` may serve heavy names lazily (PEP 562): importing the
    package, or a light submodule of it, does not run those imports; importing
    one of the lazy names does.
    """
    file = _module_file(name)
    if file is None or file.name != "__init__.py":
        return frozenset(), frozenset()
    tree = ast.parse(file.read_text())
    bound, lazy = set(), set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            lazy |= _collect(node, name, expand_lazy=False)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Assign):
            bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return frozenset(bound), frozenset(lazy)


def _imports(path: Path, module: str) -> set[str]:
    """Absolute names imported by one file (``from .x import y`` resolved)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            continue  # lazy names: counted where they are imported (_lazy_package)
        names |= _collect(node, package)
    return names


def _collect(tree, package: str, *, expand_lazy: bool = True) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
            if expand_lazy and base.startswith("synflair"):
                bound, lazy = _lazy_package(base)
                lazy_names = [
                    alias.name
                    for alias in node.names
                    if alias.name not in bound and _module_file(f"{base}.{alias.name}") is None
                ]
                if lazy_names:
                    names |= lazy
        elif (  # importlib.util.find_spec("nilearn"): a package used by its files
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") in ("find_spec", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def _script_commands(path: Path) -> set[str]:
    """Subcommand modules a script runs through ``synflair.cli.main([COMMAND, ...])``."""
    tree = ast.parse(path.read_text())
    if "synflair.cli" not in _imports(path, "__script__"):
        return set()
    commands = _subcommands()
    literals = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
    return {module for name, module in commands.items() if name in literals}


@cache
def third_party_imports(entry: str) -> frozenset[str]:
    """Top-level third-party packages imported by ``entry`` and the synflair code it reaches."""
    stdlib = set(sys.stdlib_module_names)
    seen: set[str] = set()
    found: set[str] = set()
    todo: list[tuple[str, Path]] = []
    if entry.endswith(".py"):
        todo.append(("__script__", Path(entry)))
        todo += [(m, _module_file(m)) for m in _script_commands(Path(entry))]
    else:
        todo += [
            ("synflair", PACKAGE / "__init__.py"),
            ("synflair.__main__", PACKAGE / "__main__.py"),
        ]
        todo += [("synflair.cli", PACKAGE / "cli.py"), (entry, _module_file(entry))]
    while todo:
        module, path = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for name in _imports(path, module):
            top = name.split(".")[0]
            if top == "synflair":
                parts = name.split(".")
                for k in range(1, len(parts) + 1):  # packages' __init__ run too
                    sub = ".".join(parts[:k])
                    file = _module_file(sub)
                    if file is not None and sub not in seen:
                        todo.append((sub, file))
            elif top and top not in stdlib and top != "__future__":
                found.add(top)
    return frozenset(found)


def env_packages(env: Path) -> dict[str, str]:
    """Package name -> version specification of a conda environment file."""
    import yaml

    spec = yaml.safe_load(env.read_text())
    packages = {}
    for item in spec.get("dependencies", []):
        entries = item["pip"] if isinstance(item, dict) else [item]
        for entry in entries:
            match = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", entry)
            packages[match.group(1).lower()] = match.group(2).strip()
    return packages
