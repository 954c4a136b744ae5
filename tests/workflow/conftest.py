"""Fixtures of the workflow tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from workflow_helpers import copy_workflow


@pytest.fixture
def workflow_dir(tmp_path) -> Path:
    """A fresh copy of the workflow to run in."""
    return copy_workflow(tmp_path / "wf")
