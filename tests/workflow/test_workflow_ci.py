"""The real workflow, end to end, on the ``ci`` phantom preset (config/ci.yaml).

One run from nothing to ``results/report.html`` (a few minutes on 2 cores), then:
the report's table, no patient identifier in any output, a rerun that does
nothing, and a parameter change that reruns exactly what depends on it.
"""

from __future__ import annotations

import gzip
import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon
from workflow_helpers import copy_workflow, job_counts, snakemake, write_config

from synflair.phantom.cohort import patient_info

pytestmark = [pytest.mark.slow, pytest.mark.workflow]

N_SUBJECTS, N_TEST = 5, 2
UPSTREAM = (
    "phantom_template",
    "phantom_subject",
    "convert_mdme",
    "convert_flair",
    "quantify_maps",
    "register_flair",
    "segment_tissues",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("ci") / "wf")
    # one torch thread for the training: with 2 on 2 cores, anything else running (another
    # job, the SLURM run of test_slurm.py) makes it wait at every parallel op (10x slower)
    result = snakemake(
        workdir, "--cores", "2", "--set-threads", "train_stage=1", "--configfile", "config/ci.yaml"
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return workdir


def _changed_config(workdir, dotted, value):
    return write_config(workdir, f"changed-{dotted}.yaml", **{dotted: value})


def test_report_and_the_papers_table(run):
    report = run / "results" / "report.html"
    assert report.is_file() and report.stat().st_size > 10_000
    table = pd.read_csv(run / "results" / "stats" / "table.tsv", sep="\t")
    quality = table[table["metric"].isin(["psnr", "nrmse"])]
    assert sorted(set(quality["region"])) == ["CSF", "GM", "WM", "intracranial"]
    assert len(quality) == 8
    assert set(quality["n"]) == {N_TEST}
    # the exact two-sided signed-rank p, recomputed with scipy from the per-subject tables
    assert set(quality["method"]) == {"exact"}
    metrics = pd.concat(
        pd.read_csv(path, sep="\t") for path in (run / "results" / "metrics").rglob("*.tsv")
    )
    common = metrics[metrics["scaling"] == "common"]
    for row in quality.itertuples():
        values = {
            image: common[
                (common["image"] == image)
                & (common["region"] == row.region)
                & (common["metric"] == row.metric)
            ].sort_values("subject")["value"]
            for image in ("synthetic", "dl")
        }
        expected = wilcoxon(values["synthetic"], values["dl"], method="exact").pvalue
        assert float(row.p) == pytest.approx(expected), (row.region, row.metric)
    for column in ("synthetic", "dl"):
        assert quality[column].str.contains("±").all()
    html = report.read_text()
    for heading in ("Methods", "the paper's Table", "Loss curves", "Fig 2 analogue", "QC, sub-"):
        assert heading in html
    assert html.count("<img") >= 6
    assert 'src="http' not in html and "src='http" not in html  # self-contained
    # every number of the table is in the report
    for value in quality["synthetic"]:
        assert value.split(" ±")[0] in html


def test_metrics_per_subject_and_region(run):
    for subject in ("ph04", "ph05"):
        metrics = pd.read_csv(
            run / "results" / "metrics" / f"sub-{subject}" / f"sub-{subject}_metrics.tsv",
            sep="\t",
        )
        psnr = metrics[(metrics["metric"] == "psnr") & (metrics["scaling"] == "common")]
        assert set(psnr["image"]) == {"synthetic", "dl", "stage1"}
        assert psnr["value"].between(10, 80).all()


def test_conventional_flair_lesions_are_segmented_on_its_own_grid(run):
    sidecars = sorted((run / "results" / "lesions").rglob("*_desc-conventional_lesions.json"))
    assert sidecars
    for sidecar in sidecars:
        subject = sidecar.parent.name
        meta = json.loads(sidecar.read_text())
        xfm = f"results/registration/{subject}/{subject}_from-FLAIR_to-synthetic_xfm.json"
        assert meta["segmented_on"] == f"the FLAIR's own grid, carried by {xfm}"
        # ... and written on the synthetic grid, like the other lesion maps
        lesions = nib.load(sidecar.with_name(sidecar.name.replace(".json", ".nii.gz")))
        mask = nib.load(
            run / "results" / "quantify" / subject / f"{subject}_desc-intracranial_mask.nii.gz"
        )
        assert lesions.shape == mask.shape
        assert np.allclose(lesions.affine, mask.affine)
    others = sorted((run / "results" / "lesions").rglob("*_desc-synthetic_lesions.json"))
    assert others
    for sidecar in others:
        meta = json.loads(sidecar.read_text())
        assert meta["segmented_on"] == "the grid of the FLAIR and the tissue maps"


def test_no_patient_identifier_in_any_output(run):
    needles = []
    for number in range(1, N_SUBJECTS + 1):
        info = patient_info(f"ph{number:02d}")
        needles += [info.name, info.patient_id, info.accession, info.birth_date]
        needles += [info.name.replace("^", " ")]
    needles.append(patient_info("ph01").institution)
    needles = [n.encode() for n in needles if n]
    scanned = 0
    for path in (run / "results").rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        scanned += 1
        for needle in needles:
            assert needle not in data, f"{needle!r} in {path}"
    assert scanned > 100
    # the identifiers are really in the phantom's DICOM, so the scan can fail
    dicom = next((run / "resources" / "phantom").rglob("*.dcm")).read_bytes()
    assert patient_info("ph01").institution.encode() in dicom


def test_rerun_does_nothing(run):
    result = snakemake(run, "-n", "--configfile", "config/ci.yaml")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_changed_csf_threshold_reruns_the_target_and_what_follows(run):
    config = _changed_config(run, "preprocess.ir_threshold", 0.35)
    result = snakemake(run, "-n", "--configfile", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    assert counts["preprocess_csf_suppress"] == N_SUBJECTS - N_TEST
    assert counts["train_stage"] == 2
    assert counts["infer_dl_flair"] == 2 * N_TEST
    assert counts["lesions_segment"] == 2 * N_TEST  # DL and stage-1 maps only
    assert counts["report_html"] == 1
    assert not set(UPSTREAM) & set(counts)


def test_changed_psnr_peak_reruns_only_the_metrics(run):
    config = _changed_config(run, "metrics.peak", 4095.0)
    result = snakemake(run, "-n", "--configfile", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    assert counts == {"all": 1, "evaluate_metrics": N_TEST, "evaluate_stats": 1, "report_html": 1}


def test_snakemake_report_of_the_run(run):
    out = run / "snakemake-report.html"
    result = snakemake(run, "--configfile", "config/ci.yaml", "--report", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert out.is_file() and out.stat().st_size > 10_000
