"""Config and subject-sheet schema checks name the key (synflair.schema)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from synflair.errors import SynflairError
from synflair.schema import check_against_schema, coerce_scalars, dotted, load_schema

ROOT = Path(__file__).resolve().parents[1]
CONFIG_SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
SHEET_SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "subjects.schema.yaml")


@pytest.fixture
def config():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.mark.parametrize("name", ["config.yaml", "ci.yaml", "paper.yaml"])
def test_shipped_configs_are_valid(name):
    check_against_schema(yaml.safe_load((ROOT / "config" / name).read_text()), CONFIG_SCHEMA)


def test_dotted_paths():
    assert dotted(["phantom", "subjects"]) == "phantom.subjects"
    assert dotted(["preprocess", "ir_index", 1]) == "preprocess.ir_index[1]"
    assert dotted([]) == ""


def test_unknown_top_level_key(config):
    config["bogus"] = 1
    with pytest.raises(SynflairError, match=r"unknown config key 'bogus'; expected keys here: "):
        check_against_schema(config, CONFIG_SCHEMA)


def test_unknown_nested_key(config):
    config["registration"]["dofs"] = 6
    with pytest.raises(SynflairError, match=r"unknown config key 'registration.dofs'"):
        check_against_schema(config, CONFIG_SCHEMA)


def test_wrong_type_names_the_key_and_the_type(config):
    config["phantom"]["subjects"] = "many"
    with pytest.raises(SynflairError) as info:
        check_against_schema(config, CONFIG_SCHEMA)
    message = str(info.value)
    assert "config key 'phantom.subjects': 'many' is invalid; expected a value of type integer" in (
        message
    )


def test_bad_enum_and_bound(config):
    bad = copy.deepcopy(config)
    bad["registration"]["backend"] = "spm"
    bad["phantom"]["subjects"] = 1
    with pytest.raises(SynflairError) as info:
        check_against_schema(bad, CONFIG_SCHEMA)
    message = str(info.value)
    assert "config key 'registration.backend': 'spm' is invalid; expected one of" in message
    assert "config key 'phantom.subjects': 1 is invalid; expected a number >= 2" in message


def test_missing_required_key(config):
    del config["metrics"]["peak"]
    with pytest.raises(SynflairError, match=r"config key 'metrics.peak': missing \(required\)"):
        check_against_schema(config, CONFIG_SCHEMA)


def test_sheet_row_messages_name_the_line_and_column():
    row = {"subject": "p01", "mdme": "a", "flair": "b", "split": "validation"}
    with pytest.raises(SynflairError) as info:
        check_against_schema(row, SHEET_SCHEMA, what="subjects.tsv, line 3")
    message = str(info.value)
    assert message.startswith("subjects.tsv, line 3: column 'split': 'validation' is invalid")
    assert "config key" not in message


def test_valid_sheet_row_passes():
    check_against_schema(
        {"subject": "p01", "mdme": "a;b", "flair": "c", "split": "test"}, SHEET_SCHEMA
    )


def test_missing_schema_file(tmp_path):
    with pytest.raises(SynflairError, match="schema file missing"):
        load_schema(tmp_path / "none.yaml")


def test_command_line_strings_are_typed_as_the_schema_says(config):
    schema = CONFIG_SCHEMA
    override = copy.deepcopy(config)
    override["phantom"] = {"preset": "demo", "subjects": "8", "seed": "1"}
    override["metrics"]["peak"] = "25500.5"
    override["training"]["iterations"] = "null"
    coerce_scalars(override, schema)
    assert override["phantom"] == {"preset": "demo", "subjects": 8, "seed": 1}
    assert override["metrics"]["peak"] == 25500.5
    assert override["training"]["iterations"] is None
    check_against_schema(override, schema)
    # a string the schema wants as a string stays one; a non-number stays for the check
    override["report"]["title"] = "12"
    override["phantom"]["subjects"] = "eight"
    coerce_scalars(override, schema)
    assert override["report"]["title"] == "12"
    with pytest.raises(SynflairError, match=r"config key 'phantom\.subjects': 'eight'"):
        check_against_schema(override, schema)
