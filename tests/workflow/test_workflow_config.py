"""An invalid configuration or subject sheet stops the workflow before any job runs.

Each case runs ``snakemake --cores 1`` for real (not a dry run) in a scratch copy
of the workflow and checks the message and that nothing was written.
"""

from __future__ import annotations

import pytest
from workflow_helpers import job_counts, snakemake, write_config

pytestmark = pytest.mark.slow


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _config_file(workdir, **changes):
    return write_config(workdir, "bad.yaml", **changes)


def _sheet(workdir, rows, make_folders=True):
    lines = ["subject\tmdme\tflair\tsplit"]
    for subject, split in rows:
        lines.append(f"{subject}\tdicom/{subject}/mdme\tdicom/{subject}/flair\t{split}")
        if make_folders:
            for kind in ("mdme", "flair"):
                (workdir / "study" / "dicom" / subject / kind).mkdir(parents=True, exist_ok=True)
    return _write(workdir / "study" / "subjects.tsv", "\n".join(lines) + "\n")


def _fails_before_any_job(workdir, result, *needles):
    assert result.returncode != 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    for needle in needles:
        assert needle in output, output
    assert not (workdir / "results").exists()
    assert not (workdir / "logs").exists()
    assert not (workdir / "resources").exists()


@pytest.mark.parametrize(
    "changes, needles",
    [
        ({"registration.dofs": 6}, ["unknown config key 'registration.dofs'"]),
        (
            {"phantom.subjects": "many"},
            ["config key 'phantom.subjects': 'many' is invalid; expected a value of type integer"],
        ),
        # a shell command in a value that reaches a job: refused before any job runs
        (
            {"conversion.delay_attribute": "TriggerTime;touch X"},
            ["config key 'conversion.delay_attribute': 'TriggerTime;touch X'", "DICOM keyword"],
        ),
        # the CSF-suppression image numbers: 1-8, refused here rather than at job time
        (
            {"preprocess.ir_index": [5, 99]},
            ["config key 'preprocess.ir_index[1]': 99 is invalid; expected a number <= 8"],
        ),
        (
            {"registration.interpolation": "cubic"},
            ["config key 'registration.interpolation': 'cubic'", "linear", "spline"],
        ),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "delay-attribute-injection",
        "ir-index-range",
        "interpolation",
    ],
)
def test_invalid_config_value(workflow_dir, changes, needles):
    path = _config_file(workflow_dir, **changes)
    result = snakemake(workflow_dir, "--cores", "1", "--configfile", str(path))
    _fails_before_any_job(workflow_dir, result, *needles)
    assert not (workflow_dir / "X").exists()


def test_missing_training_preset(workflow_dir):
    path = _config_file(workflow_dir, **{"training.preset": "config/train/nope.yaml"})
    result = snakemake(workflow_dir, "--cores", "1", "--configfile", str(path))
    _fails_before_any_job(workflow_dir, result, "config key 'training.preset'", "nope.yaml")


def test_missing_sheet(workflow_dir):
    result = snakemake(
        workflow_dir, "--cores", "1", "--config", "cohort=sheet", "sheet=study/none.tsv"
    )
    _fails_before_any_job(workflow_dir, result, "config key 'sheet'", "study/none.tsv")


def test_subject_in_both_splits(workflow_dir):
    sheet = _sheet(workflow_dir, [("p01", "train"), ("p02", "train"), ("p01", "test")])
    result = snakemake(workflow_dir, "--cores", "1", "--config", "cohort=sheet", f"sheet={sheet}")
    _fails_before_any_job(
        workflow_dir, result, "line 4", "'p01' appears twice", "cannot also be a training subject"
    )


def test_missing_dicom_folder(workflow_dir):
    sheet = _sheet(workflow_dir, [("p01", "train"), ("p02", "test")])
    (workflow_dir / "study" / "dicom" / "p02" / "mdme").rmdir()
    result = snakemake(workflow_dir, "--cores", "1", "--config", "cohort=sheet", f"sheet={sheet}")
    _fails_before_any_job(
        workflow_dir, result, "line 3", "column 'mdme'", "study/dicom/p02/mdme does not exist"
    )


def test_bad_split_value_names_line_and_column(workflow_dir):
    sheet = _sheet(workflow_dir, [("p01", "train"), ("p02", "holdout")])
    result = snakemake(workflow_dir, "--cores", "1", "--config", "cohort=sheet", f"sheet={sheet}")
    _fails_before_any_job(workflow_dir, result, "line 3", "column 'split': 'holdout'")


def test_valid_sheet_with_relative_paths_plans_the_whole_pipeline(workflow_dir):
    sheet = _sheet(workflow_dir, [("p01", "train"), ("p02", "train"), ("p03", "test")])
    # run from another directory than the sheet's: paths are relative to the sheet
    result = snakemake(
        workflow_dir, "-n", "--config", "cohort=sheet", f"sheet={sheet.relative_to(workflow_dir)}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    assert counts["convert_mdme"] == 3 and counts["convert_flair"] == 3
    assert counts["train_stage"] == 2
    assert counts["infer_dl_flair"] == 2  # one test subject: DL (stage 2) and stage 1
    assert counts["evaluate_metrics"] == 1
    assert "phantom_subject" not in counts and "evaluate_truth" not in counts
    assert "phantom_template" not in counts
    assert counts["report_html"] == 1


@pytest.mark.parametrize(
    ("override", "subjects"),
    [("phantom={preset: ci, subjects: 5, seed: 1}", 5), ("phantom={subjects: 8}", 8)],
)
def test_nested_command_line_override_as_config_readme_shows(workflow_dir, override, subjects):
    """``--config phantom='{preset: demo, subjects: 8, seed: 1}'`` (config/README.md) works."""
    result = snakemake(workflow_dir, "-n", "--config", override)
    assert result.returncode == 0, result.stdout + result.stderr
    assert job_counts(result.stdout)["phantom_subject"] == subjects


def test_registration_interpolation_reaches_the_register_command(workflow_dir):
    result = snakemake(workflow_dir, "-n", "-p", "--config", "registration={interpolation: spline}")
    assert result.returncode == 0, result.stdout + result.stderr
    commands = [line for line in result.stdout.splitlines() if "synflair register" in line]
    assert len(commands) == job_counts(result.stdout)["register_flair"] > 0
    assert all("--interp spline" in line for line in commands), commands


def test_nested_override_of_the_wrong_type_names_the_key(workflow_dir):
    result = snakemake(workflow_dir, "--cores", "1", "--config", "phantom={subjects: eight}")
    _fails_before_any_job(workflow_dir, result, "config key 'phantom.subjects'", "integer")
