"""The headline: the paper's Table beside this run's, and one verdict sentence per claim.

Claims of Hagiwara et al. 2019 checked here:

1. *Fidelity improved*: DL-FLAIR has a higher PSNR and a lower NRMSE than synthetic
   FLAIR against conventional FLAIR, in every region (P < .001).
2. *Lesions kept*: lesion maps of DL-FLAIR agree with the conventional FLAIR's as
   well as synthetic FLAIR's do (Dice 0.57 vs 0.55, P = 1).

Every sentence is computed from this run's numbers and p-values.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synflair.report.html import escape
from synflair.report.labels import HIGHER_IS_BETTER, metric_name
from synflair.stats.paper import PAPER_DICE, PAPER_N_TEST, PAPER_TABLE

#: Significance level of the verdicts.
ALPHA = 0.05


def min_exact_p(n: int) -> float:
    """Smallest exact two-sided Wilcoxon signed-rank p with ``n`` non-zero pairs: ``2 / 2**n``."""
    return min(1.0, 2.0 / 2**n) if n >= 1 else 1.0


def _quality_tests(tests: pd.DataFrame, baseline: str, compare: str) -> pd.DataFrame:
    rows = tests[
        (tests["comparison"] == f"{baseline} vs {compare}")
        & (tests["metric"].isin(list(HIGHER_IS_BETTER)))
    ]
    return rows.reset_index(drop=True)


def fidelity_verdict(tests: pd.DataFrame, baseline="synthetic", compare="dl") -> str:
    """One sentence: did DL-FLAIR improve PSNR and NRMSE against conventional FLAIR?"""
    rows = _quality_tests(tests, baseline, compare)
    if rows.empty:
        return "Fidelity: not assessable (no PSNR or NRMSE comparison in this run's tests)."
    better, significant, worse_significant, untested = [], [], [], []
    for row in rows.itertuples(index=False):
        label = f"{row.region} {metric_name(row.metric).split(' ')[0]}"
        if not (np.isfinite(row.mean_x) and np.isfinite(row.mean_y)):
            untested.append(label)
            continue
        improved = (row.mean_y > row.mean_x) == HIGHER_IS_BETTER[row.metric]
        (better if improved else []).append(label)
        if np.isfinite(row.p) and row.p < ALPHA:
            (significant if improved else worse_significant).append(label)
    total = len(rows)
    n = int(rows["n"].max())
    p_values = rows["p"].to_numpy(float)
    p_values = p_values[np.isfinite(p_values)]
    if not p_values.size:
        p_text = "p not computed"
    elif p_values.min() == p_values.max():
        p_text = f"p = {p_values.min():.3g} in each"
    else:
        p_text = f"p from {p_values.min():.3g} to {p_values.max():.3g}"
    floor = min_exact_p(n)
    power = (
        f"; with {n} pairs no exact two-sided p can be below {floor:.3g}" if floor >= ALPHA else ""
    )
    paper = f"the paper: all 8 improved, P < .001 with {PAPER_N_TEST} subjects"
    if len(significant) == total:
        head = "Fidelity improved"
        body = (
            f"DL-FLAIR beat synthetic FLAIR in all {total} region/metric comparisons "
            f"(PSNR higher, NRMSE lower), each with p < {ALPHA} ({p_text}, n = {n})"
        )
    elif len(better) == total:
        head = "Fidelity improved in direction, not significantly"
        body = (
            f"DL-FLAIR beat synthetic FLAIR in all {total} region/metric comparisons "
            f"(PSNR higher, NRMSE lower), but p < {ALPHA} in {len(significant)} of {total} "
            f"({p_text}, n = {n}{power})"
        )
    elif not better:
        head = "Fidelity not improved"
        body = (
            f"DL-FLAIR was worse than synthetic FLAIR in all {total} region/metric comparisons, "
            f"{len(worse_significant)} of them with p < {ALPHA} ({p_text}, n = {n}{power})"
        )
    else:
        head = "Fidelity mixed"
        worse = [
            f"{row.region} {metric_name(row.metric).split(' ')[0]}"
            for row in rows.itertuples(index=False)
            if f"{row.region} {metric_name(row.metric).split(' ')[0]}" not in better
        ]
        body = (
            f"DL-FLAIR beat synthetic FLAIR in {len(better)} of {total} region/metric "
            f"comparisons ({len(significant)} with p < {ALPHA}); not in {', '.join(worse)} "
            f"({p_text}, n = {n}{power})"
        )
    return f"{head}: {body}; {paper}."


def lesion_verdict(
    paired: pd.DataFrame,
    summaries: dict[str, str],
    failures: list[str],
    n_subjects: int,
    missed_dl: list[str] = (),
) -> str:
    """One sentence: are lesions kept on DL-FLAIR (Dice vs the conventional FLAIR's lesion maps)?

    Parameters
    ----------
    paired : pandas.DataFrame
        Dice vs conventional per subject (index) with columns ``synthetic`` and ``dl``,
        subjects where both are defined (:func:`synflair.report.lesions.paired_dice`).
    summaries : dict of str -> str
        ``{image: "mean ± SD (n = ...)" or "n/a (reason)"}``.
    failures : list of str
        Lesion QC failures, one per subject (``"sub-x: no lesion detected ..."``).
    n_subjects : int
        Test subjects.
    missed_dl : list of str
        Subjects (``sub-x``) whose DL-FLAIR lesion map is empty although a reference
        (phantom truth, conventional FLAIR's map) has lesions: lesions not kept, whatever
        the Dice.
    """
    from synflair.stats.wilcoxon import wilcoxon_signed_rank

    paper = (
        f"the paper: {PAPER_DICE['dl'][0]} vs {PAPER_DICE['synthetic'][0]}, P = {PAPER_DICE['p']:g}"
    )
    ours = (
        f"Dice against the conventional FLAIR's lesion maps: DL-FLAIR {summaries.get('dl')}, "
        f"synthetic FLAIR {summaries.get('synthetic')}"
    )
    qc = (
        f"; lesion QC failed in {len(failures)} of {n_subjects} subjects ({'; '.join(failures)})"
        if failures
        else ""
    )
    if len(paired) == 0:
        why = qc.removeprefix("; ") if failures else ours
        return (
            "Lesions: not assessable, no subject has a defined Dice on both synthetic and "
            f"DL-FLAIR; {why}; {paper}."
        )
    x, y = paired["synthetic"].to_numpy(float), paired["dl"].to_numpy(float)
    result = wilcoxon_signed_rank(x, y) if len(paired) >= 2 else None
    p = result.p_value if result is not None else math.nan
    p_text = (
        f"p = {p:.3g}, n = {len(paired)}"
        if math.isfinite(p)
        else f"p not computed: {result.reason if result else 'fewer than 2 pairs'}"
    )
    if not (y > 0).any():
        where = " and synthetic FLAIR" if not (x > 0).any() else ""
        head = (
            "Lesions not kept: no lesion of the conventional FLAIR's maps was found on "
            f"DL-FLAIR{where} (Dice 0 in every subject)"
        )
    elif missed_dl:
        head = (
            f"Lesions not kept: DL-FLAIR's lesion map is empty in {len(missed_dl)} of "
            f"{n_subjects} subjects ({', '.join(missed_dl)}) where a reference has lesions"
        )
    elif math.isfinite(p) and p < ALPHA and y.mean() < x.mean():
        head = "Lesions not kept: DL-FLAIR's lesion maps agree less with the conventional FLAIR's"
    elif y.mean() >= x.mean():
        head = "Lesions kept: DL-FLAIR's lesion maps agree at least as well as synthetic FLAIR's"
    else:
        head = "Lesions kept (no significant loss): DL-FLAIR's Dice is lower, not significantly"
    return f"{head}. {ours} ({p_text}){qc}; {paper}."


def _paper_row(region: str, metric: str) -> dict | None:
    for row in PAPER_TABLE:
        if row["region"] == region and row["metric"] == metric:
            return row
    return None


def _fmt_paper(mean, sd) -> str:
    return f"{mean:g} ± {sd:g}"


def side_by_side(
    table: pd.DataFrame, reasons: dict[str, str] | None = None, baseline="synthetic",
    compare="dl",
) -> str:  # fmt: skip
    """HTML: the paper's Table and this run's ``table.tsv``, row by row.

    ``table`` is ``results/stats/table.tsv`` (strings ``mean ± SD``, percent change, p).
    ``reasons`` gives, per metric, why a value of this run is n/a (default: the
    table's note).
    """
    head = (
        "<thead><tr><th rowspan=2>Region</th><th rowspan=2>Metric</th>"
        "<th colspan=4>The paper (n = 10)</th><th colspan=5>This run</th></tr><tr>"
        "<th>Synthetic</th><th>DL</th><th>Change</th><th>P</th>"
        "<th>Synthetic</th><th>DL</th><th>Change</th><th>p (exact)</th><th>n</th></tr></thead>"
    )
    reasons = reasons or {}
    rows = []
    for row in table.to_dict("records"):
        paper = _paper_row(row["region"], row["metric"])
        if paper is None:
            continue  # this run's other metrics are in the full tables
        if paper:
            change = paper["percent_change"]
            cells = [
                _fmt_paper(paper["synthetic_mean"], paper["synthetic_sd"]),
                _fmt_paper(paper["dl_mean"], paper["dl_sd"]),
                f"{change:+.2f}%" if change is not None else "—",
                paper["p"],
            ]
            paper_html = "".join(f"<td>{escape(v)}</td>" for v in cells)
        else:
            paper_html = "<td colspan=4 class='na'>not in the paper</td>"
        p = row.get("p")
        note = row.get("note") if isinstance(row.get("note"), str) else ""
        p_text = str(p) if isinstance(p, str) else (f"{p:.4g}" if np.isfinite(p) else "n/a")
        ours = [row.get(baseline, ""), row.get(compare, ""), row.get("percent_change", ""), p_text]
        ours = ["n/a" if isinstance(v, float) and not np.isfinite(v) else str(v) for v in ours]
        if "n/a" in ours or "nan" in ours:
            reason = reasons.get(row["metric"]) or note or "not computed"
            values = [v if v not in ("n/a", "nan") else "n/a" for v in ours]
            run_html = (
                "".join(f"<td>{escape(v)}</td>" for v in values[:2])
                + f"<td colspan=2 class='na'>n/a: {escape(reason)}</td>"
                if values[:2] != ["n/a", "n/a"]
                else f"<td colspan=4 class='na'>n/a: {escape(reason)}</td>"
            )
        else:
            run_html = "".join(f"<td>{escape(v)}</td>" for v in ours)
        region, metric = escape(row["region"]), escape(metric_name(row["metric"]))
        rows.append(
            f"<tr><td>{region}</td><td>{metric}</td>{paper_html}{run_html}"
            f"<td>{escape(row.get('n', ''))}</td></tr>"
        )
    caption = (
        "<caption>PSNR and NRMSE against conventional FLAIR (the paper's Table), mean ± SD over "
        "the test subjects; change: DL vs synthetic, of the means; p: paired two-sided "
        "Wilcoxon signed-rank test (this run: exact where the table's method column says "
        "so).</caption>"
    )
    return f"<table class='headline'>{caption}{head}<tbody>{''.join(rows)}</tbody></table>"
