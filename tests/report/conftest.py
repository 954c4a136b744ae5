"""Fixtures of the report tests: a small results folder (report_results.py) and the ci config."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_results import make_results


@pytest.fixture(scope="session")
def results(tmp_path_factory) -> Path:
    return make_results(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="session")
def config() -> dict:
    import yaml

    path = Path(__file__).resolve().parents[2] / "config" / "ci.yaml"
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="session")
def report(results, config, tmp_path_factory) -> Path:
    """The report of ``results``, built once for the content and browser tests."""
    from synflair.report.build import build_report
    from synflair.report.layout import discover

    out = tmp_path_factory.mktemp("built") / "report.html"
    return build_report(discover(results), config, out, n_train=3)
