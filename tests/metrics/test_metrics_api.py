"""synflair.metrics.api.subject_metrics_file: the function the CLI (and so the workflow) runs."""

import numpy as np
import pandas as pd
import pytest
from test_metrics_cli import AFFINE, metrics_args, write_subject

from synflair.cli import main
from synflair.errors import SynflairError
from synflair.metrics.api import MetricsFiles, subject_metrics_file
from synflair.metrics.subject import MetricsConfig
from synflair.nifti import save


def files_of(p, **changes) -> MetricsFiles:
    fields = dict(
        subject="01",
        reference=p["reference"],
        images={"synthetic": p["synthetic"], "dl": p["dl"]},
        mask=p["mask"],
        dseg=p["dseg"],
        lesions={"synthetic": p["les_syn"], "dl": p["les_dl"], "conventional": p["les_conv"]},
    )
    return MetricsFiles(**{**fields, **changes})


def test_the_command_line_writes_what_the_api_writes(tmp_path):
    p = write_subject(tmp_path / "in", np.random.default_rng(3))
    api, cli = tmp_path / "api.tsv", tmp_path / "cli.tsv"
    config = MetricsConfig(peak=2550.0, scalings=("common",), nrmse_normalizer="region")
    assert subject_metrics_file(files_of(p, lesion_truth=p["les_conv"]), api, config) == api
    extra = ["--peak", "2550", "--scaling", "common", "--nrmse-normalizer", "region"]
    assert main(metrics_args(p, "01", cli, "--lesion-truth", str(p["les_conv"]), *extra)) == 0
    assert api.read_bytes() == cli.read_bytes()
    table = pd.read_csv(api, sep="\t")
    assert {"dice_truth", "dice_conventional"} <= set(table["metric"])
    assert set(table["scaling"]) == {"common", "none"}


def test_default_config_is_the_papers(tmp_path):
    p = write_subject(tmp_path / "in", np.random.default_rng(3))
    out = subject_metrics_file(files_of(p), tmp_path / "m.tsv")
    table = pd.read_csv(out, sep="\t")
    assert set(table["scaling"]) == {"raw", "common", "none"}
    assert "dice_truth" not in set(table["metric"])


@pytest.mark.parametrize("role", ["mask", "lesion_truth"])
def test_refusals_write_nothing(role, tmp_path):
    p = write_subject(tmp_path / "in", np.random.default_rng(3))
    shape = (20, 20, 6)
    if role == "mask":
        bad = save(np.zeros(shape, np.uint8), AFFINE, tmp_path / "empty.nii.gz")
        expected = "empty.nii.gz: the intracranial mask is empty"
    else:
        bad = save(np.zeros(shape, np.uint8), AFFINE * 2, tmp_path / "moved.nii.gz")
        expected = "moved.nii.gz and"
    out = tmp_path / "m.tsv"
    with pytest.raises(SynflairError, match=expected):
        subject_metrics_file(files_of(p, **{role: bad}), out)
    assert not out.exists()
