"""The workflow is lint-clean, snakefmt-formatted, and its dry runs plan the expected jobs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from workflow_helpers import ROOT, job_counts, snakemake

pytestmark = pytest.mark.slow


def test_snakemake_lint_is_clean(workflow_dir):
    result = snakemake(workflow_dir, "--lint", "--configfile", "config/ci.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + (
        result.stderr
    )


def test_snakefmt_leaves_the_rules_unchanged():
    executable = Path(sys.executable).with_name("snakefmt")
    command = str(executable) if executable.exists() else shutil.which("snakefmt")
    assert command, "snakefmt is part of the test extra"
    result = subprocess.run(
        [command, "--check", "Snakefile", "workflow"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "configfile, n_subjects, n_test",
    [("config/ci.yaml", 5, 2), ("config/config.yaml", 14, 6), ("config/paper.yaml", 40, 10)],
)
def test_dry_run_plans_every_stage(workflow_dir, configfile, n_subjects, n_test):
    result = snakemake(workflow_dir, "-n", "--configfile", configfile)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    n_train = n_subjects - n_test
    assert counts["phantom_subject"] == n_subjects
    assert counts["phantom_template"] == 1  # the template anatomy, built once for all
    assert counts["convert_mdme"] == counts["convert_flair"] == n_subjects
    assert counts["quantify_maps"] == counts["register_flair"] == n_subjects
    assert counts["preprocess_csf_suppress"] == n_train
    assert counts["train_stage"] == 2 and counts["train_manifest"] == 1
    assert counts["infer_dl_flair"] == 2 * n_test
    assert counts["segment_tissues"] == n_subjects
    # conventional FLAIR of every subject (QC), synthetic/DL/stage-1 of the test subjects
    assert counts["lesions_segment"] == n_subjects + 3 * n_test
    assert counts["evaluate_metrics"] == n_test and counts["evaluate_stats"] == 1
    assert counts["evaluate_truth"] == n_subjects and counts["report_html"] == 1
    # the demo keeps its last 3 training subjects for validation (model selection)
    validating = configfile == "config/config.yaml"
    assert counts.get("train_validation_manifest", 0) == int(validating)
