"""Fixtures of the workflow tests, and the background start of the SLURM run."""

from __future__ import annotations

from pathlib import Path

import pytest
from slurm_workflow import SlurmWorkflowRun, slurm_ready
from workflow_helpers import copy_workflow

SLURM_TESTS = "test_slurm.py"
_SLURM_RUN = pytest.StashKey[SlurmWorkflowRun]()


@pytest.fixture
def workflow_dir(tmp_path) -> Path:
    """A fresh copy of the workflow to run in."""
    return copy_workflow(tmp_path / "wf")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """test_slurm.py's tests last, so the whole rest of the suite overlaps the SLURM run."""
    items.sort(key=lambda item: item.path.name == SLURM_TESTS)  # stable: order kept otherwise


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the SLURM run now when test_slurm.py's tests are selected and SLURM answers.

    Its waiting then overlaps the rest of the suite (it ends long before pytest
    reaches test_slurm.py); the ``slurm_run`` fixture joins it. Without a cluster
    nothing starts here, and the fixtures skip or fail exactly as they would alone.
    """
    if session.config.option.collectonly or _SLURM_RUN in session.config.stash:
        return
    if not any(item.path.name == SLURM_TESTS for item in session.items):
        return
    if slurm_ready() is not None:
        return
    workdir = session.config._tmp_path_factory.mktemp("slurm") / "wf"
    session.config.stash[_SLURM_RUN] = SlurmWorkflowRun(workdir).start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Kill the SLURM run and cancel its jobs, should it still run (a failure, -x, Ctrl-C)."""
    run = session.config.stash.get(_SLURM_RUN, None)
    if run is not None:
        run.stop()


@pytest.fixture(scope="module")
def background_slurm_run(request) -> SlurmWorkflowRun | None:
    """The SLURM run started at collection, if any."""
    return request.config.stash.get(_SLURM_RUN, None)
