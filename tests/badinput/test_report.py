"""Bad inputs to ``synflair report``: one line naming the file or option, no report written.

The results folder is the report tests' small one (tests/report/report_results.py),
built once and copied for each case, then damaged in one place.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from badinput_harness import assert_refused, run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from report_results import make_results  # tests/report/report_results.py

CONFIG = Path(__file__).resolve().parents[2] / "config" / "ci.yaml"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report-bad")
    make_results(root)
    return root


def _drop_column(path: Path, column: str) -> None:
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    keep = [i for i, name in enumerate(header) if name != column]
    path.write_text(
        "\n".join("\t".join(line.split("\t")[i] for i in keep) for line in lines) + "\n"
    )


def _damage(root: Path, case: str) -> tuple[list[str], list[str]]:
    """Break the copy at ``root`` as ``case``; return (extra argv, names the message must hold)."""
    results = root / "results"
    if case == "no-metrics":
        shutil.rmtree(results / "metrics")
        return [], ["metrics", "run the workflow first"]
    if case == "tests-without-p":
        _drop_column(results / "stats" / "tests.tsv", "p")
        return [], ["tests.tsv", "missing column(s) p", "expected the tests table"]
    if case == "losses-without-d_loss":
        path = results / "train" / "stage-2" / "losses.tsv"
        _drop_column(path, "d_loss")
        return [], [str(path), "d_loss"]
    if case == "truth-without-target":
        path = results / "qc" / "sub-t1" / "sub-t1_truth.tsv"
        _drop_column(path, "target")
        return [], [str(path), "target"]
    if case == "table-not-a-tsv":
        path = results / "stats" / "table.tsv"
        path.write_bytes(b"\xff\xfe\x00garbage\x00\n\x01")
        return [], [str(path)]
    if case == "missing-lesion-map":
        path = results / "lesions" / "sub-t2" / "sub-t2_desc-dl_lesions.nii.gz"
        path.unlink()
        return [], [str(path), "missing report input"]
    if case == "truncated-mask":
        path = results / "quantify" / "sub-t3" / "sub-t3_desc-intracranial_mask.nii.gz"
        path.write_bytes(path.read_bytes()[:40])
        return [], [str(path)]
    if case == "phantom-not-a-folder":
        return ["--phantom", str(root / "nowhere")], ["--phantom", "nowhere", "not a folder"]
    if case == "no-configfile":
        return ["--configfile", str(root / "none.yaml")], ["--configfile", "none.yaml"]
    if case in CONFIG_CASES:
        path = root / "bad.yaml"
        text, names = CONFIG_CASES[case]
        path.write_text(text)
        return ["--configfile", str(path)], ["--configfile", str(path), *names]
    raise AssertionError(case)


def _ci_config(change) -> str:
    config = yaml.safe_load(CONFIG.read_text())
    change(config)
    return yaml.safe_dump(config)


#: Config files that are not the workflow's: (the YAML, what the message names).
CONFIG_CASES = {
    "configfile-not-yaml": ("metrics: [peak\n", ["not valid YAML"]),
    "configfile-a-list": ("- cohort\n- metrics\n", ["expected a mapping of config keys"]),
    "configfile-without-metrics": (
        _ci_config(lambda c: c.pop("metrics")),
        ["'metrics'", "required"],
    ),
    "configfile-negative-peak": (
        _ci_config(lambda c: c["metrics"].update(peak=-1.0)),
        ["config key 'metrics.peak'"],
    ),
}


CASES = [
    "no-metrics",
    "tests-without-p",
    "losses-without-d_loss",
    "truth-without-target",
    "table-not-a-tsv",
    "missing-lesion-map",
    "truncated-mask",
    "phantom-not-a-folder",
    "no-configfile",
    *CONFIG_CASES,
]


@pytest.mark.parametrize("case", CASES)
def test_report_refuses(case, pristine, tmp_path, capsys):
    root = tmp_path / "run"
    shutil.copytree(pristine, root)
    extra, names = _damage(root, case)
    out = root / "report.html"
    argv = ["report", "--results", str(root / "results"), "--out", str(out)]
    if "--configfile" not in extra:
        argv += ["--configfile", str(CONFIG)]
    assert_refused([*argv, *extra], capsys, names=names, outputs=[out], inputs=[root / "results"])


def test_the_undamaged_results_give_a_report(pristine, tmp_path, capsys):
    """The control: the same results folder and config give the report."""
    out = tmp_path / "report.html"
    argv = ["report", "--results", pristine / "results", "--configfile", CONFIG, "--out", out]
    outcome = run_cli(argv, capsys)
    assert outcome.status == 0, outcome.stderr
    assert "<h2>Paired results per subject</h2>" in out.read_text()
