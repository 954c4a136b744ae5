"""The report reads result first, with readable tables, reasons for every n/a and a QC grid."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from synflair.report import figures, labels, lesions, paired, qc, verdict
from synflair.stats.paper import PAPER_TABLE


@pytest.fixture(scope="module")
def html(report) -> str:
    return report.read_text()


class Cells(HTMLParser):
    """Text of every table cell, with its attributes."""

    def __init__(self):
        super().__init__()
        self.cells, self._open = [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self._open = [dict(attrs), ""]

    def handle_data(self, data):
        if self._open is not None:
            self._open[1] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._open is not None:
            self.cells.append(tuple(self._open))
            self._open = None


def cells(html: str) -> list[tuple[dict, str]]:
    parser = Cells()
    parser.feed(html)
    return parser.cells


def test_the_result_comes_first_then_methods(html):
    order = [html.index(h) for h in ("<h2>Result</h2>", "the paper's Table", "Fig 2 analogue")]
    assert order == sorted(order)
    assert order[-1] < html.index("<h2>Methods</h2>") < html.index("<h2>Full tables</h2>")
    assert html.index("<h2>Full tables</h2>") < html.index("Loss curves")


def test_the_verdicts_are_computed_from_this_runs_numbers(html):
    items = re.findall(r"<ul class='verdict'>(.*?)</ul>", html, re.S)[0]
    sentences = re.findall(r"<li>(.*?)</li>", items)
    assert len(sentences) == 2
    # the fixture: DL better everywhere, 3 pairs -> exact p = 0.25 at best
    assert sentences[0].startswith("Fidelity improved in direction, not significantly")
    assert "no exact two-sided p can be below 0.25" in sentences[0]
    # sub-t2 has 3 true lesions and none on any map: said, and a QC failure
    assert "sub-t2: no lesion detected on any FLAIR (truth: 3 lesions, 189 voxels)" in sentences[1]
    assert "lesion QC failed in 2 of 3 subjects" in sentences[1]
    assert sentences[1].startswith(
        "Lesions not kept: DL-FLAIR&#x27;s lesion map is empty in 1 of 3 subjects (sub-t2)"
    )


def test_the_papers_table_beside_this_runs(html, results):
    table = pd.read_csv(results / "stats" / "table.tsv", sep="\t", dtype=str, keep_default_na=False)
    headline = html[html.index("<table class='headline'>") :]
    headline = headline[: headline.index("</table>")]
    for row in PAPER_TABLE[:8]:
        assert f"{row['synthetic_mean']:g} ± {row['synthetic_sd']:g}" in headline
        assert f"{row['dl_mean']:g} ± {row['dl_sd']:g}" in headline
    in_paper = {(row["region"], row["metric"]) for row in PAPER_TABLE}
    pairs = zip(table["region"], table["metric"], strict=True)
    shown = table[[(r, m) in in_paper for r, m in pairs]]
    assert len(shown) == 9
    for value in shown["synthetic"].tolist() + shown["dl"].tolist():
        assert value in headline or value == "n/a"
    # this run's metrics the paper has not are in the full tables only
    assert "Dice vs phantom truth" not in headline


def test_no_raw_column_names_and_the_named_ones(html):
    header = [text for attrs, text in cells(html)]
    for raw in ("mean_x", "mean_y", "rank_biserial", "median_difference", "baseline_mean"):
        assert raw not in header
    for name in (
        "Synthetic mean",
        "DL mean",
        "Median difference (DL − synthetic)",
        "Rank-biserial r (+: DL higher)",
        "p (two-sided Wilcoxon)",
    ):
        assert name in header


def test_every_na_in_the_lesion_and_headline_tables_says_why(html):
    lesion = html[html.index("<h2>Lesions</h2>") : html.index("<h2>Methods</h2>")]
    headline = html[html.index("<table class='headline'>") : html.index("<h2>Paired")]
    for part in (lesion, headline):
        for _, text in cells(part):
            if "n/a" in text:
                assert text.startswith("n/a: ") and len(text) > 12, text
    assert "n/a, count 0" not in html
    assert "FAIL: no lesion detected (truth: 3 lesions, 189 voxels)" in lesion


def test_every_na_of_the_full_tables_has_a_note(html):
    """A test that was not computed carries its reason in the Note column."""
    full = html[html.index("<h2>Full tables</h2>") : html.index("<h2>Figures of every")]
    for table in re.findall(r"<table>.*?</table>", full, re.S):
        header = [t for a, t in cells(re.findall(r"<thead>.*?</thead>", table, re.S)[0])]
        if "Note" not in header:
            continue
        note = header.index("Note")
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], re.S):
            values = [t for a, t in cells(row)]
            if "n/a" in values[:note]:
                assert values[note].strip(), values


def test_qc_is_a_grid_with_tolerances_and_numbers_on_hover(html):
    section = html[html.index("Digital phantom: ground truth QC") :]
    grid = section[section.index("<table class='qc'>") :]
    grid = grid[: grid.index("</table>")]
    found = cells(grid)
    headers = [t for a, t in found if "<=" in t or ">=" in t]
    assert any("<= 0.5 deg" in h for h in headers)  # the tolerance, with its unit
    marks = [(a.get("class"), t, a.get("title", "")) for a, t in found if a.get("class")]
    # fixture: sub-t3 fails WM T1 (3.2 % > 3 %) and rotation (0.6 > 0.5 deg);
    # sub-t1 and sub-t2 fail the lesion QC
    fails = [m for m in marks if m[0] == "fail"]
    assert len(fails) == 4
    assert any("3.2 %" in title and "<= 3" in title for _, _, title in fails)
    assert all(t == "✓" for c, t, _ in marks if c == "pass")
    assert "4 QC failures" in section
    assert "The numbers of the grid" in section


def test_image_tests_turn_the_difference_round():
    tests = pd.DataFrame([{
        "comparison": "synthetic vs dl", "image": "synthetic vs dl", "region": "GM",
        "metric": "psnr", "scaling": "common", "n": 3, "mean_x": 30.0, "mean_y": 35.0,
        "median_difference": -5.0, "statistic": 0.0, "p": 0.25, "method": "exact",
        "z": -1.6, "rank_biserial": -1.0, "r": -0.9, "note": np.nan,
    }])  # fmt: skip
    table = labels.image_tests(tests)["dl"]
    assert table["Synthetic mean"].iloc[0] == 30.0 and table["DL mean"].iloc[0] == 35.0
    assert table["Median difference (DL − synthetic)"].iloc[0] == 5.0
    assert table["Rank-biserial r (+: DL higher)"].iloc[0] == 1.0


def _tests(rows):
    base = {"comparison": "synthetic vs dl", "scaling": "common", "note": ""}
    return pd.DataFrame([{**base, **row} for row in rows])


def _quality(p, better=True, n=10):
    rows = []
    for region in ("GM", "WM"):
        rows.append(
            {
                "region": region,
                "metric": "psnr",
                "n": n,
                "p": p,
                "mean_x": 30.0,
                "mean_y": 35.0 if better else 25.0,
            }
        )
        rows.append({"region": region, "metric": "nrmse", "n": n, "p": p,
                     "mean_x": 0.4, "mean_y": 0.3 if better else 0.5})  # fmt: skip
    return _tests(rows)


def test_fidelity_verdicts():
    assert verdict.fidelity_verdict(_quality(0.002)).startswith("Fidelity improved: ")
    direction = verdict.fidelity_verdict(_quality(0.5, n=2))
    assert direction.startswith("Fidelity improved in direction, not significantly")
    assert "with 2 pairs no exact two-sided p can be below 0.5" in direction
    assert verdict.fidelity_verdict(_quality(0.002, better=False)).startswith(
        "Fidelity not improved"
    )
    mixed = _quality(0.002)
    mixed.loc[0, "mean_y"] = 20.0  # GM PSNR worse
    assert "not in GM PSNR" in verdict.fidelity_verdict(mixed)


def test_min_exact_p():
    assert verdict.min_exact_p(2) == 0.5
    assert verdict.min_exact_p(10) == pytest.approx(2 / 1024)


def test_lesion_verdicts():
    empty = pd.DataFrame(columns=["synthetic", "dl"])
    summaries = {"dl": "n/a (x)", "synthetic": "n/a (x)"}
    text = verdict.lesion_verdict(empty, summaries, ["sub-a: no lesion"], 2)
    assert text.startswith("Lesions: not assessable") and "1 of 2 subjects" in text
    pairs = pd.DataFrame({"synthetic": [0.6, 0.5, 0.7, 0.6, 0.55, 0.65, 0.6],
                          "dl": [0.62, 0.5, 0.71, 0.64, 0.56, 0.66, 0.61]})  # fmt: skip
    assert verdict.lesion_verdict(pairs, summaries, [], 7).startswith("Lesions kept:")
    worse = pairs.assign(dl=pairs["synthetic"] - 0.2)
    assert verdict.lesion_verdict(worse, summaries, [], 7).startswith("Lesions not kept")
    # the ci case: the conventional FLAIR's map has lesions, DL-FLAIR's none: Dice 0 = 0 is no tie
    zeros = pd.DataFrame({"synthetic": [0.0, 0.0], "dl": [0.0, 0.0]})
    text = verdict.lesion_verdict(zeros, summaries, [], 2, ["sub-a", "sub-b"])
    assert text.startswith("Lesions not kept: no lesion of the conventional FLAIR's maps was found")
    assert "on DL-FLAIR and synthetic FLAIR (Dice 0 in every subject)" in text
    missed = verdict.lesion_verdict(pairs, summaries, [], 7, ["sub-c"])
    assert missed.startswith("Lesions not kept: DL-FLAIR's lesion map is empty in 1 of 7 subjects")


def test_lesion_counts_give_the_reason():
    counts = lesions.LesionCounts("x", {"synthetic": 0, "dl": 2, "conventional": 3}, truth=25)
    assert counts.missed("synthetic") == (
        "no lesion detected (truth: 25 lesions; conventional FLAIR: 3 lesions)"
    )
    assert counts.missed("dl") == ""
    none = lesions.LesionCounts("y", {"synthetic": 0, "conventional": 0}, truth=25)
    assert none.summary() == "no lesion detected on any FLAIR (truth: 25 lesions)"
    assert lesions.dice_reason(none, "synthetic", "conventional", "both empty") == (
        "n/a: no lesion detected on Synthetic FLAIR and Conventional FLAIR (truth: 25 lesions)"
    )
    real = lesions.LesionCounts("z", {"synthetic": 0, "conventional": 0})
    assert real.failures() == []  # no reference has lesions: nothing was missed


def test_count_lesions_counts_components():
    maps = {"a": np.zeros((10, 10, 4), bool)}
    maps["a"][1:3, 1:3, 1] = maps["a"][6:8, 6:8, 2] = True
    assert lesions.count_lesions("s", maps).detected == {"a": 2}


def test_nrmse_scale_is_shared_and_stated():
    rng = np.random.default_rng(0)
    mask = np.ones((20, 20), bool)
    maps = [rng.uniform(0, 0.3, (20, 20)), rng.uniform(0, 0.123, (20, 20))]
    top = figures.shared_error_max(maps, [mask, mask])
    assert top == pytest.approx(
        np.ceil(np.percentile(np.concatenate(maps).ravel(), 99) * 100) / 100
    )
    image = rng.uniform(50, 100, (20, 20, 3)).astype(np.float32)
    mask3 = np.ones_like(image, bool)
    figure = figures.flair_comparison({"synthetic": image, "dl": image * 1.01}, image, mask3, 1,
                                      "s", error_max=0.25)  # fmt: skip
    bars = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 2
    assert any("shared scale 0-0.25" in ax.get_ylabel() for ax in bars)


def test_segmentation_and_lesion_legends():
    shape = (20, 20, 3)
    image = np.full(shape, 50.0, np.float32)
    mask = np.ones(shape, bool)
    dseg = np.ones(shape, np.int16)
    lesion = np.zeros(shape, bool)
    lesion[5:8, 5:8, 1] = True
    figure = figures.qc_thumbnails(image, dseg, image, image, {"conventional": lesion,
                                   "dl": ~lesion & False}, mask, 1, "s")  # fmt: skip
    texts = [t.get_text() for ax in figure.axes if ax.get_legend() for t in
             ax.get_legend().get_texts()]  # fmt: skip
    assert {"CSF", "GM", "WM"} <= set(texts)
    assert "Conventional FLAIR" in texts and "DL-FLAIR: none here" in texts


def test_paired_plot_has_one_line_per_subject():
    rows = [
        {"subject": s, "image": i, "region": r, "metric": m, "scaling": "common", "value": v}
        for s, shift in (("a", 0), ("b", 1), ("c", 2))
        for r in paired.REGIONS
        for m in paired.METRICS
        for i, v in (("synthetic", 30 + shift), ("dl", 35 + shift))
    ]
    frame = pd.DataFrame(rows)
    figure = paired.paired_plot(frame)
    assert len(figure.axes) == 8
    assert all(len(ax.get_lines()) == 3 for ax in figure.axes)


def test_loss_curves_are_the_training_modules_plot():
    frame = pd.DataFrame({"stage": 1, "iteration": [10, 20]})
    for column in ("g_loss", "d_loss", "mae_target", "mae_conventional", "d_real", "d_fake"):
        frame[column] = [0.5, 0.4]
    figure = figures.loss_curves({"stage 1": frame, "stage 2": frame.assign(stage=2)})
    assert len(figure.axes) == 4
    labels_drawn = {line.get_label() for ax in figure.axes for line in ax.get_lines()}
    assert "stage" not in labels_drawn and "d_real" not in labels_drawn
    assert {"G loss", "D loss", "vs conventional"} <= labels_drawn


def test_qc_grid_marks_without_a_tolerance_are_numbers():
    truth = pd.DataFrame([
        {"subject": "a", "check": "c1", "region": "r", "value": 0.5, "target": "<= 1",
         "unit": "mm", "passed": True},
        {"subject": "a", "check": "c2", "region": "r", "value": 0.25, "target": np.nan,
         "unit": np.nan, "passed": np.nan},
    ])  # fmt: skip
    grid, failures, numbers = qc.qc_grid(truth)
    assert failures == 0
    assert "title='c1, r: 0.5 mm (tolerance &lt;= 1)'" in grid
    assert ">0.25</td>" in grid and "no tolerance (reported)" in grid
    assert "0.25" in numbers
