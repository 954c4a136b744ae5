"""Helpers to run the Snakemake workflow of this checkout in a scratch copy (tests/workflow)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: What a workflow run needs besides the installed synflair package.
WORKFLOW_PARTS = ("Snakefile", "workflow", "config", "envs")


def copy_workflow(dest: Path) -> Path:
    """Copy the Snakefile, rules, schemas, configs and envs of this checkout to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_PARTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def snakemake_command(*args: str) -> list[str]:
    """``snakemake`` of this interpreter's environment, with ``args``."""
    executable = Path(sys.executable).with_name("snakemake")
    return [str(executable) if executable.exists() else "snakemake", *args]


def snakemake(workdir: Path, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    """Run ``snakemake`` (of this interpreter's environment) in ``workdir``."""
    command = snakemake_command(*args)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("FSLDIR", None)  # the ants backends: FSL is not part of the test environment
    return subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout
    )


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a Snakemake (dry) run: rule -> number of jobs."""
    counts: dict[str, int] = {}
    lines = output.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Job stats:")
    except StopIteration:
        return counts
    for line in lines[start + 3 :]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        if parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


def write_config(workdir: Path, name: str, base: str = "config/ci.yaml", **changes) -> Path:
    """``base`` with ``changes`` (dotted keys, e.g. ``**{"phantom.subjects": 3}``) as ``name``."""
    import yaml

    config = yaml.safe_load((workdir / base).read_text())
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = config
        for key in parents:
            node = node[key]
        node[last] = value
    path = workdir / name
    path.write_text(yaml.safe_dump(config))
    return path
