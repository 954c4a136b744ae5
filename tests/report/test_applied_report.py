"""The report of a run that applied a trained model: which model, and plainly no evaluation."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from synflair.errors import SynflairError
from synflair.nifti import save
from synflair.report.applied import AppliedSubject, applied_statement, build_applied_report

RECORDED = {
    "path": "runs/site-a/results/train/stage-2/model.pt",
    "stage": 2,
    "iterations": 600,
    "device": "cpu (torch 2.5, no CUDA build, 2 threads)",
    "selection": {"subjects": ["ph06", "ph07"], "iteration": 450, "rule": "highest PSNR"},
    "trained_on": {
        "subjects": ["ph01", "ph02"],
        "protocols": [
            {
                "EchoTime": [16.9, 84.5],
                "SaturationDelayTime": [146.0, 546.0, 1879.0, 3879.0],
                "RepetitionTime": 4000.0,
                "FlipAngle": 90.0,
                "SaturationFlipAngle": 120.0,
                "ImageComponent": "magnitude",
            }
        ],
        "flair": [],
    },
}
OLD = {"path": "old/model.pt", "stage": 2, "iterations": 100, "device": "", "selection": {},
       "trained_on": None}  # fmt: skip


def test_the_statement_names_the_model_its_training_and_selection():
    text = applied_statement(RECORDED)
    assert text.startswith("Applied model runs/site-a/results/train/stage-2/model.pt (stage 2")
    assert "trained on 2 subject(s) (ph01, ph02)" in text
    assert "TE [16.9, 84.5] ms, TD [146, 546, 1879, 3879] ms, TR 4000 ms" in text
    assert "selected on validation subject(s) ph06, ph07" in text
    assert "iteration 450" in text


def test_the_statement_of_an_old_model_says_the_protocol_was_not_checked():
    text = applied_statement(OLD)
    assert text.startswith("Applied model old/model.pt (stage 2, 100 iterations")
    assert "records neither its training subjects nor their MDME protocol" in text
    assert "not checked" in text and "selected" not in text


def _subject(folder, label, seed) -> AppliedSubject:
    rng = np.random.default_rng(seed)
    mask = np.zeros((10, 10, 3), np.uint8)
    mask[2:8, 2:8, 1] = 1
    affine = np.eye(4)
    paths = {
        "mask": save(mask, affine, folder / f"{label}_mask.nii.gz", dtype=np.uint8),
        "synthetic": save(rng.random((10, 10, 3)).astype(np.float32) * 100 + 1, affine,
                          folder / f"{label}_synthetic.nii.gz"),
        "dl": save(rng.random((10, 10, 3)).astype(np.float32) * 50 + 1, affine,
                   folder / f"{label}_dl.nii.gz"),
    }  # fmt: skip
    return AppliedSubject(label, str(paths["synthetic"]), str(paths["dl"]), str(paths["mask"]))


def test_the_report_says_there_is_no_fidelity_evaluation_and_shows_each_subject(tmp_path):
    subjects = [_subject(tmp_path, "n01", 1), _subject(tmp_path, "n02", 2)]
    out = build_applied_report(subjects, RECORDED, tmp_path / "report.html", title="Applied")
    text = html.unescape(out.read_text())
    assert applied_statement(RECORDED) in text
    assert "No conventional FLAIR is used in this run, so there is no fidelity evaluation" in text
    assert len(re.findall(r"<img src=\"data:image/png;base64,", text)) == 2
    assert "sub-n01" in text and "sub-n02" in text and subjects[1].dl in text
    assert "PSNR" not in text.replace("no PSNR/NRMSE", "")  # no result is reported


def test_a_report_of_no_subject_is_refused(tmp_path):
    with pytest.raises(SynflairError, match="at least one subject"):
        build_applied_report([], RECORDED, tmp_path / "report.html", title="Applied")
    assert not (tmp_path / "report.html").exists()
