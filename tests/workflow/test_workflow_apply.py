"""Applying a trained model (config key ``model``): no training and no evaluation is planned.

A dry run (``snakemake -n``) in a scratch copy of the workflow, on a subject
sheet with neither a ``split`` nor a ``flair`` column: every subject gets a
DL-FLAIR from the configured model, nothing is trained, and nothing that
needs a conventional FLAIR (its conversion, registration, metrics,
statistics, lesion Dice) is planned. One dry run only (about 15 s): the
phantom cohort takes the same path in ``common.smk``. The real inference call
is covered by ``tests/badinput/test_infer_protocol.py``; a whole applied run
on phantom subjects was checked by hand (README, "Reusing a trained model").
"""

from __future__ import annotations

import pytest
import torch
from workflow_helpers import job_counts, snakemake, write_config

pytestmark = pytest.mark.slow

#: Rules that train, or that need a conventional FLAIR: none may run when applying a model.
NOT_PLANNED = (
    "train_manifest",
    "train_validation_manifest",
    "train_stage",
    "preprocess_csf_suppress",
    "convert_flair",
    "register_flair",
    "segment_tissues",
    "lesions_segment",
    "evaluate_metrics",
    "evaluate_stats",
    "evaluate_truth",
    "derivatives_dseg_table",
)


def _sheet(workdir, subjects):
    """A sheet with only subject and mdme columns (no split, no FLAIR)."""
    lines = ["subject\tmdme"]
    for subject in subjects:
        (workdir / "site" / subject / "mdme").mkdir(parents=True)
        lines.append(f"{subject}\t{subject}/mdme")
    path = workdir / "site" / "subjects.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("cohort", ["phantom", "sheet"])
def test_applying_a_model_plans_inference_for_every_subject_and_nothing_else(workflow_dir, cohort):
    model = workflow_dir / "trained" / "model.pt"
    model.parent.mkdir()
    torch.save({}, model)  # read fully by the jobs; the plan only checks it is a torch archive
    sheet = _sheet(workflow_dir, ["s01", "s02", "s03"])
    config = write_config(
        workflow_dir, "apply.yaml", model=str(model), cohort="sheet", sheet=str(sheet)
    )
    result = snakemake(workflow_dir, "-n", "--configfile", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    assert counts["convert_mdme"] == counts["quantify_maps"] == 3
    assert counts["infer_dl_flair"] == 3  # every subject, DL-FLAIR only (no stage-1 image)
    assert counts["infer_model_description"] == counts["report_html"] == 1
    assert counts["derivatives_description"] == 3  # nifti, quantify, infer
    assert "phantom_subject" not in counts
    planned = sorted(rule for rule in NOT_PLANNED if rule in counts)
    assert not planned, f"planned although a model is applied: {planned}"
    assert str(model) in result.stdout  # the configured model feeds the inference jobs
