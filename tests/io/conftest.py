"""Fixtures of the io tests (the helpers live in :mod:`dicom_cases`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dicom_cases import Acquisition, write_acquisition


@pytest.fixture(scope="session")
def acquisition(tmp_path_factory) -> Acquisition:
    """The 32x32x3 MDME series (one folder); do not modify its files."""
    return write_acquisition(tmp_path_factory.mktemp("mdme") / "dicom")


@pytest.fixture
def mdme_copy(acquisition, tmp_path) -> Path:
    """A private copy of the MDME folder that a test may damage."""
    return Path(shutil.copytree(acquisition.directory, tmp_path / "dicom"))
