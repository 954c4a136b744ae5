"""The report's methods paragraph says what the run's configuration did."""

import copy
from pathlib import Path

import yaml

from synflair.report.methods import methods_paragraph

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
