"""The report's methods paragraph says what the run's configuration did."""

import copy
from pathlib import Path

import yaml

from synflair.report.methods import _training_summary, methods_paragraph

CONFIG = yaml.safe_load((Path(__file__).parents[1] / "config" / "ci.yaml").read_text())


def test_methods_say_where_the_conventional_flair_lesions_were_segmented():
    native = methods_paragraph(CONFIG)
    assert "the conventional FLAIR on its own grid" in native
    assert "R1 (1/T1) map" in native
    registered = copy.deepcopy(CONFIG)
    registered["lesions"]["conventional_space"] = "synthetic"
    registered["segmentation"]["image"] = "t1w"
    text = methods_paragraph(registered)
    assert "the conventional FLAIR after registration to synthetic space" in text
    assert "on its own grid" not in text and "skull-stripped synthetic T1w" in text


def test_the_report_reads_only_report_config():
    """The workflow passes report_config(config); the paragraph is the same as from all of it."""
    from synflair.report.methods import report_config

    for name in ("config.yaml", "ci.yaml", "paper.yaml"):
        full = yaml.safe_load((Path(__file__).parents[1] / "config" / name).read_text())
        full["bids"] = "elsewhere"  # a section the report does not read
        part = report_config(full)
        assert "bids" not in part and part["report"] == full["report"]
        assert methods_paragraph(part, n_train=5, n_test=2) == methods_paragraph(
            full, n_train=5, n_test=2
        )


def test_methods_say_what_ran_not_auto():
    config = copy.deepcopy(CONFIG)
    config["training"]["device"] = "auto"
    config["registration"]["backend"] = "auto"
    config["segmentation"]["backend"] = "auto"
    ran_on = {"training": "cuda:0 (NVIDIA H100)", "registration": "ants", "segmentation": "fsl"}
    text = methods_paragraph(config, ran_on=ran_on)
    assert "device cuda:0 (NVIDIA H100) (configured: auto)" in text
    assert "ants (configured: auto) backend" in text
    assert "fsl (configured: auto) backend" in text
    unrecorded = methods_paragraph(config)
    assert "device auto (configured; what ran was not recorded)" in unrecorded


def test_recipe_terms_are_named_from_the_preset():
    presets = Path(__file__).parents[1] / "config" / "train"
    demo = _training_summary({"preset": str(presets / "demo.yaml")})
    assert "pinball" in demo and "0.9-quantile" in demo
    assert "5 % of each voxel batch drawn from the conventional FLAIR's automatic lesion" in demo
    assert "stage 2: 4000 iterations" in demo
    assert "relative to the synthetic FLAIR" in demo
    paper = _training_summary({"preset": str(presets / "paper.yaml")})
    assert "lesion maps" not in paper and "pinball" not in paper
    assert "relative" not in paper
