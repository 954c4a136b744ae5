"""synflair.tables.read_tsv: the one TSV reader and its refusals."""

import pandas as pd
import pytest

from synflair.errors import SynflairError
from synflair.tables import read_tsv

WHAT = "the example table"


def test_reads_text_cells_and_keeps_other_columns(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("subject\tvalue\textra\n01\tn/a\t\n02\t3.5\tx\n")
    frame = read_tsv(path, ("subject", "value"), what=WHAT)
    assert list(frame.columns) == ["subject", "value", "extra"]
    # text by default: "01" stays "01", "n/a" and empty cells stay text
    assert frame.to_dict("list") == {
        "subject": ["01", "02"],
        "value": ["n/a", "3.5"],
        "extra": ["", "x"],
    }


def test_typed_reading(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("subject\tvalue\n01\tn/a\n02\t3.5\n")
    frame = read_tsv(path, ("value",), dtype={"subject": str}, keep_default_na=True)
    assert frame["subject"].tolist() == ["01", "02"]
    assert pd.isna(frame["value"][0]) and frame["value"][1] == 3.5


def _write(tmp_path, content):
    path = tmp_path / "t.tsv"
    if content is None:
        return path
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "folder":
        path.mkdir()
    else:
        path.write_text(content)
    return path


CASES = {
    "missing file": (None, ["no such file; expected the example table"]),
    "a folder": ("folder", ["not a file; expected the example table"]),
    "empty file": ("", ["not a readable TSV", "expected the example table"]),
    "ragged rows": ("a\tb\n1\t2\n1\t2\t3\t4\n", ["not a readable TSV", "line 3"]),
    "not text": (b"a\tb\n\xff\xfe\x00\x81\t2\n", ["not a readable TSV"]),
    "missing columns": (
        "a\tc\n1\t2\n",
        ["missing column(s) b, d", "columns a, b, d", "(found a, c)"],
    ),
    "header only": ("a\tb\td\n", ["no rows; expected the example table with at least one row"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refusals_name_the_file_and_what_was_expected(case, tmp_path):
    content, fragments = CASES[case]
    path = _write(tmp_path, content)
    with pytest.raises(SynflairError) as raised:
        read_tsv(path, ("a", "b", "d"), what=WHAT, require_rows=True)
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_header_only_is_a_table_unless_rows_are_required(tmp_path):
    path = _write(tmp_path, "a\tb\n")
    assert read_tsv(path, ("a", "b")).empty
