"""The methods paragraph names the training recipe's terms, from the preset itself."""

from pathlib import Path

from synflair.report.methods import _training_summary

ROOT = Path(__file__).resolve().parents[2]


def test_recipe_terms_are_named_from_the_preset():
    demo = _training_summary({"preset": str(ROOT / "config/train/demo.yaml")})
    assert "pinball" in demo and "0.9-quantile" in demo
    assert "5 % of each voxel batch drawn from the conventional FLAIR's automatic lesion" in demo
    assert "stage 2: 4000 iterations" in demo
    paper = _training_summary({"preset": str(ROOT / "config/train/paper.yaml")})
    assert "lesion maps" not in paper and "pinball" not in paper
