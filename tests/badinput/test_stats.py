"""Bad inputs to ``synflair stats``: one line naming the metrics file, no table written.

Each case writes three subjects' small metrics TSVs (the columns of
:data:`synflair.metrics.table.COLUMNS`), damages one, and runs the command.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from badinput_harness import assert_refused, run_cli

from synflair.metrics.table import COLUMNS


def _metrics(subject: str, shift: float) -> pd.DataFrame:
    rows = [
        (subject, image, region, "common", metric, value + shift, 100, 1.0, "")
        for image, value in (("synthetic", 30.0), ("dl", 33.0))
        for region in ("GM", "WM", "CSF", "intracranial")
        for metric in ("psnr", "nrmse")
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _cohort(folder: Path) -> list[Path]:
    paths = []
    for i, shift in enumerate((0.0, 0.7, -0.4)):
        path = folder / f"sub-{i:02d}_metrics.tsv"
        _metrics(f"{i:02d}", shift).to_csv(path, sep="\t", index=False)
        paths.append(path)
    return paths


def _damage(paths: list[Path], case: str) -> tuple[list[Path], list[str]]:
    """Break the cohort as ``case``; return (the --metrics list, names the message must hold)."""
    first = paths[0]
    if case == "missing-file":
        first.unlink()
        return paths, [str(first), "no such file", "expected a metrics table"]
    if case == "folder-not-file":
        first.unlink()
        first.mkdir()
        return paths, [str(first), "not a file", "expected a metrics table"]
    if case == "not-a-tsv":
        first.write_bytes(b"\xff\xfe\x00garbage\x00\n\x01")
        return paths, [str(first), "not a readable TSV", "expected a metrics table"]
    if case == "empty-file":
        first.write_text("")
        return paths, [str(first), "not a readable TSV"]
    if case == "no-value-column":
        pd.read_csv(first, sep="\t").drop(columns="value").to_csv(first, sep="\t", index=False)
        return paths, [str(first), "missing column(s) value", "'synflair metrics'"]
    if case == "header-only":
        first.write_text("\t".join(COLUMNS) + "\n")
        return paths, [str(first), "no rows", "at least one row"]
    if case == "file-given-twice":
        return [*paths, first], ["duplicated metric rows", "given twice"]
    raise AssertionError(case)


CASES = [
    "missing-file",
    "folder-not-file",
    "not-a-tsv",
    "empty-file",
    "no-value-column",
    "header-only",
    "file-given-twice",
]


@pytest.mark.parametrize("case", CASES)
def test_stats_refuses(case, tmp_path, capsys):
    metrics, names = _damage(_cohort(tmp_path), case)
    out = tmp_path / "stats"
    assert_refused(
        ["stats", "--metrics", *metrics, "--out-dir", out],
        capsys,
        names=names,
        outputs=[out / "table.tsv", out / "tests.tsv", out / "normality.tsv"],
        inputs=[p for p in metrics if p.exists()],
    )


def test_the_undamaged_cohort_is_accepted(tmp_path, capsys):
    """The control: the same three files give the three tables."""
    out = tmp_path / "stats"
    outcome = run_cli(["stats", "--metrics", *_cohort(tmp_path), "--out-dir", out], capsys)
    assert outcome.status == 0, outcome.stderr
    assert {p.name for p in out.iterdir()} == {"table.tsv", "tests.tsv", "normality.tsv"}
