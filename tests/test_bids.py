"""BIDS-derivatives metadata: dataset descriptions, the dseg lookup, quantify's map sidecars."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from synflair import __version__
from synflair.bids import (
    DSEG_LABELS,
    MAP_METADATA,
    STAGES,
    write_dataset_description,
    write_dseg_table,
)
from synflair.quantify.api import OUTPUTS
from synflair.segmentation.api import CLASSES


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_dataset_description_is_a_derivative_generated_by_synflair(stage, tmp_path):
    path = write_dataset_description(tmp_path / stage, stage)
    description = json.loads(path.read_text())
    assert description["DatasetType"] == "derivative"
    assert re.fullmatch(r"1\.\d+\.\d+", description["BIDSVersion"])
    (generator,) = description["GeneratedBy"]
    assert generator["Name"] == "synflair" and generator["Version"] == __version__
    assert stage in description["Name"]


def test_unknown_stage_is_refused(tmp_path):
    with pytest.raises(KeyError):
        write_dataset_description(tmp_path, "nonsense")


def test_dseg_table_matches_the_segmentation_labels(tmp_path):
    table = pd.read_csv(write_dseg_table(tmp_path), sep="\t")
    assert list(table.columns) == ["index", "name", "abbreviation"]
    # label k of *_dseg.nii.gz is CLASSES[k - 1] (synflair.segmentation.api)
    assert list(table["abbreviation"][1:]) == list(CLASSES)
    assert list(table["index"]) == list(DSEG_LABELS) == [0, 1, 2, 3]


def test_every_quantify_output_has_metadata_and_every_map_units():
    assert set(MAP_METADATA) == set(OUTPUTS)
    for key, meta in MAP_METADATA.items():
        assert meta["Description"]
        assert ("Type" in meta) if key.endswith("mask") else ("Units" in meta)
