"""Assemble ``results/report.html`` from the workflow's tables and images."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from synflair.atomic import atomic_output
from synflair.errors import SynflairError
from synflair.intensity import to_common_scale
from synflair.metrics.image import nrmse_map
from synflair.metrics.table import COLUMNS as METRIC_COLUMNS
from synflair.nifti import load_data
from synflair.report import figures, labels, lesions, paired, qc, verdict
from synflair.report.html import escape, figure_html, page, table_html
from synflair.report.methods import methods_paragraph
from synflair.stats.analysis import NORMALITY_COLUMNS, TEST_COLUMNS
from synflair.tables import read_tsv
from synflair.train.curves import LOSS_COLUMNS


@dataclass(frozen=True)
class SubjectImages:
    """One test subject's images in synthetic (MDME) space.

    ``flair`` maps an image name (``synthetic``, ``dl``, ``stage1``,
    ``conventional``) to a NIfTI path; ``lesions`` likewise to lesion masks.
    ``truth_lesions`` is the phantom's true lesion mask (None for real data).
    """

    subject: str
    flair: dict[str, str]
    lesions: dict[str, str]
    mask: str
    dseg: str
    t1w: str
    truth_lesions: str | None = None


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows.

    Attributes
    ----------
    table, tests, normality : path
        The statistics tables of ``synflair stats``.
    metrics : list of path
        Per-subject metric TSVs.
    losses : dict of str -> path
        Loss TSV per training stage (``"stage 1"``, ``"stage 2"``).
    subjects : list of SubjectImages
        Test subjects; the representative ones get the paper-style figures.
    truth : list of path
        Phantom ground-truth QC TSVs (empty for real data).
    """

    table: str
    tests: str
    normality: str
    metrics: list[str]
    losses: dict[str, str]
    subjects: list[SubjectImages]
    truth: list[str] = field(default_factory=list)


#: Columns the report requires of each input table (the stats and metrics tables' own).
COLUMNS = {
    "table": ("region", "metric", "n", "synthetic", "dl", "percent_change", "p", "note"),
    "tests": TEST_COLUMNS,
    "normality": NORMALITY_COLUMNS,
    "metrics": METRIC_COLUMNS,
    "losses": ("stage", "iteration", *LOSS_COLUMNS),
    "truth": ("subject", "check", "region", "value", "target", "unit", "passed"),
}  # fmt: skip


def _read_tsv(path, kind: str) -> pd.DataFrame:
    """Read a report input table; error naming the file and the missing columns."""
    what = f"the {kind} table (a report input)"
    return read_tsv(path, COLUMNS[kind], what=what, dtype=None, keep_default_na=True)


def _load(path, dtype=np.float32):
    return load_data(path, ndim=3, dtype=dtype)[0]


@dataclass(frozen=True)
class _Loaded:
    """One subject's images, loaded once for all its figures."""

    images: SubjectImages
    scaled: dict
    reference: np.ndarray
    lesions: dict
    mask: np.ndarray
    dseg: np.ndarray
    k: int
    counts: lesions.LesionCounts
    truth: np.ndarray | None = None


def _load_subject(images: SubjectImages) -> _Loaded:
    mask = _load(images.mask) > 0.5
    dseg = _load(images.dseg, np.int16)
    scaled = {
        name: to_common_scale(_load(path), mask, name=str(path))[0]
        for name, path in images.flair.items()
    }
    reference = scaled.pop("conventional")
    maps = {name: _load(path) > 0.5 for name, path in images.lesions.items()}
    truth = _load(images.truth_lesions) > 0.5 if images.truth_lesions else None
    counts = lesions.count_lesions(images.subject, maps, truth)
    k = figures.choose_slice(mask, maps.get("conventional"))
    if "conventional" in maps and not maps["conventional"].any() and truth is not None:
        k = figures.choose_slice(mask, truth)  # the slice where lesions should have been found
    return _Loaded(images, scaled, reference, maps, mask, dseg, k, counts, truth)


def _fig2(s: _Loaded) -> str:
    under_test = {n: s.scaled[n] for n in ("synthetic", "dl") if n in s.scaled}
    errors = [nrmse_map(im, s.reference, s.mask)[:, :, s.k] for im in under_test.values()]
    top = figures.shared_error_max(errors, [s.mask[:, :, s.k]] * len(errors))
    return figure_html(
        figures.flair_comparison(under_test, s.reference, s.mask, s.k, s.images.subject, top),
        f"Fig 2 analogue, sub-{s.images.subject}: synthetic FLAIR, DL-FLAIR and registered "
        "conventional FLAIR (one grey scale: the common intensity scale), and the NRMSE maps of "
        "synthetic and DL-FLAIR against conventional FLAIR (|error| / mean intracranial "
        f"intensity), both on one colour scale, 0 to {top:g} (the 99th percentile of the two "
        "maps in the mask, rounded up; brighter is worse).",
    )


def _magnified(s: _Loaded) -> str:
    under_test = {n: s.scaled[n] for n in ("synthetic", "dl") if n in s.scaled}
    subject = s.images.subject
    return figure_html(
        figures.magnified(under_test, s.reference, s.dseg, s.k, "csf"),
        f"Fig 3 analogue, sub-{subject}: magnified CSF (ventricles). Granular "
        "hyperintensities of synthetic FLAIR in the CSF should be reduced on DL-FLAIR.",
    ) + figure_html(
        figures.magnified(under_test, s.reference, s.dseg, s.k, "cortex"),
        f"Fig 4 analogue, sub-{subject}: magnified cortex. Synthetic FLAIR shows "
        "bright brain-CSF boundaries and apparently swollen parenchyma (tight sulci).",
    )


def _lesion_figure(s: _Loaded) -> str:
    images = {**s.scaled, "conventional": s.reference}
    return figure_html(
        lesions.lesion_figure(
            images, s.lesions, s.mask, s.k, s.images.subject, s.counts, truth=s.truth
        ),
        f"Lesions, sub-{s.images.subject}: each FLAIR with its own lesion map (filled) over "
        "it, on the same slice (the slice with the most lesion voxels of the conventional "
        "FLAIR's map, or of the phantom's truth when that map is empty)"
        + (
            "; the phantom's true lesions outlined (dashed yellow)." if s.truth is not None else "."
        ),
    )


def _qc_thumbnails(s: _Loaded) -> str:
    t1w = _load(s.images.t1w)
    return figure_html(
        figures.qc_thumbnails(
            t1w,
            s.dseg,
            s.scaled["synthetic"],
            s.reference,
            s.lesions,
            s.mask,
            s.k,
            s.images.subject,
        ),
        f"QC, sub-{s.images.subject}: conventional FLAIR edges (yellow) on synthetic FLAIR; "
        "tissue labels on the skull-stripped synthetic T1w; lesion outlines of each FLAIR's "
        "lesion map on the conventional FLAIR (legends below each panel).",
    )


def _methods_section(config: dict, n_train, n_test: int, ran_on: dict | None) -> list[str]:
    """The methods heading and paragraph; ``ran_on`` says what actually ran: ``training``
    (the device, from the stage-2 ``model.json``), ``registration`` and ``segmentation``
    (the backends, ``auto`` resolved)."""
    text = methods_paragraph(config, n_train=n_train, n_test=n_test, ran_on=ran_on)
    return ["<h2>Methods</h2>", f"<p>{escape(text)}</p>"]


def build_report(
    inputs: ReportInputs,
    config: dict,
    out: str | os.PathLike,
    *,
    representative: list[str] | None = None,
    n_train: int | None = None,
    ran_on: dict[str, str] | None = None,
) -> Path:
    """Write the self-contained HTML report, the result first.

    Order: the verdict (one sentence per claim of the paper), the paper's Table
    beside this run's and the representative figure; the paired per-subject plot;
    lesions; methods; the full tables; the figures of every test subject; training;
    the phantom's QC grid.

    Parameters
    ----------
    inputs : ReportInputs
    config : dict
        The workflow configuration (for the methods paragraph).
    out : path-like
        Output HTML file (written atomically).
    representative : list of str, optional
        Test subjects that get the Fig 2-4 analogues (default: the first).
    n_train : int, optional
        Number of training subjects, for the methods paragraph.
    ran_on : dict, optional
        The device and backends that ran (:func:`_methods_section`).

    Returns
    -------
    pathlib.Path
    """
    if not inputs.subjects:
        raise SynflairError("the report needs at least one test subject")
    representative = representative or [inputs.subjects[0].subject]
    results = _read_results(inputs)
    metrics, tests = results["metrics"], results["tests"]
    subjects = [_load_subject(images) for images in inputs.subjects]
    shown = [s for s in subjects if s.images.subject in representative] or subjects[:1]
    counts = [s.counts for s in subjects]
    scaling = config.get("metrics", {}).get("scaling", "common")
    reasons = {"dice_conventional": lesions.undefined_reason(metrics, counts)}
    summaries = {
        image: lesions.dice_summary(metrics, counts, image) for image in ("synthetic", "dl")
    }
    body = [
        *_result_section(results["table"], tests, metrics, counts, summaries, reasons, shown[0]),
        "<h2>Paired results per subject</h2>",
        figure_html(
            paired.paired_plot(metrics, scaling=scaling),
            f"Each line is one test subject, from synthetic FLAIR to DL-FLAIR ({scaling} "
            "intensity scaling), per region and metric: the pairs the Wilcoxon signed-rank test "
            "compares. Blue: DL-FLAIR better (PSNR higher, NRMSE lower); red: worse.",
        ),
        *_lesion_section(metrics, counts, summaries, shown),
        *_methods_section(config, n_train, len(subjects), ran_on),
        *_tables_section(results["table"], tests, results["normality"], reasons),
        "<h2>Figures of every test subject</h2>",
    ]
    for s in subjects:
        if s.images.subject in representative:
            body.append(_magnified(s))
        body.append(_qc_thumbnails(s))
    body += [
        "<h2>Training</h2>",
        figure_html(
            figures.loss_curves(results["losses"]),
            "Loss curves of both training stages: G and D losses (left) and the MAE of G "
            "against both FLAIRs in training units (right); each point is the mean over "
            "log_every iterations.",
        ),
    ]
    if results["truth"] is not None:
        body += _phantom_section(results["truth"], counts)
    html_text = page(config.get("report", {}).get("title", "synflair report"), "".join(body))
    with atomic_output(out) as tmp:
        tmp.write_text(html_text, encoding="utf-8")
    return Path(out)


def _read_results(inputs: ReportInputs) -> dict:
    """The workflow's tables: table, tests, normality, metrics, losses and (phantom) truth."""
    results = {
        "table": _read_tsv(inputs.table, "table"),
        "tests": _read_tsv(inputs.tests, "tests"),
        "normality": _read_tsv(inputs.normality, "normality"),
    }
    metrics = pd.concat([_read_tsv(p, "metrics") for p in inputs.metrics], ignore_index=True)
    metrics["subject"] = metrics["subject"].astype(str)
    results["metrics"] = metrics
    results["losses"] = {stage: _read_tsv(path, "losses") for stage, path in inputs.losses.items()}
    truth = None
    if inputs.truth:
        truth = pd.concat([_read_tsv(p, "truth") for p in inputs.truth], ignore_index=True)
        truth["subject"] = truth["subject"].astype(str)
    results["truth"] = truth
    return results


def _result_section(table, tests, metrics, counts, summaries, reasons, shown) -> list[str]:
    """The verdict, the paper's Table beside this run's, and the representative figure."""
    failures = [f"sub-{c.subject}: {c.summary()}" for c in counts if c.summary()]
    sentences = [
        verdict.fidelity_verdict(tests),
        verdict.lesion_verdict(
            lesions.paired_dice(metrics),
            summaries,
            failures,
            len(counts),
            [f"sub-{c.subject}" for c in counts if c.missed("dl")],
        ),
    ]
    return [
        "<p class='small'>Hagiwara A, et al. Improving the Quality of Synthetic FLAIR Images with "
        "Deep Learning Using a Conditional Generative Adversarial Network for Pixel-by-Pixel "
        "Image Translation. AJNR 2019;40:224-230, regenerated by synflair.</p>",
        "<h2>Result</h2>",
        "<ul class='verdict'>" + "".join(f"<li>{escape(t)}</li>" for t in sentences) + "</ul>",
        "<h3>PSNR and NRMSE against conventional FLAIR: the paper's Table beside this run's</h3>",
        verdict.side_by_side(table, reasons),
        _fig2(shown),
    ]


def _lesion_section(metrics, counts, summaries, shown) -> list[str]:
    """Dice of each FLAIR's lesion map, and the lesion figures of the representative subjects."""
    return [
        "<h2>Lesions</h2>",
        "<p>Lesion maps of each FLAIR against the conventional FLAIR's (the paper's "
        "comparison) and, for the phantom, against the true lesion mask. A map with no "
        "lesion where the reference has some fails the lesion QC; every n/a says why.</p>",
        table_html(
            lesions.dice_table(metrics, counts),
            caption=f"Mean Dice vs conventional FLAIR: DL-FLAIR {summaries['dl']}, synthetic "
            f"{summaries['synthetic']}. Paper: DL-FLAIR 0.57 ± 0.17, synthetic 0.55 ± 0.14 "
            "(P = 1).",
        ),
        *(_lesion_figure(s) for s in shown),
    ]


def _tables_section(table, tests, normality, reasons) -> list[str]:
    """The full tables: summary, each image's tests, tissues within images, normality."""
    return [
        "<h2>Full tables</h2>",
        table_html(
            labels.summary_table(table, reasons),
            caption="This run (results/stats/table.tsv): mean ± SD over test subjects; change "
            "of the means, DL vs synthetic; paired two-sided Wilcoxon signed-rank test.",
        ),
        *(
            f"<h3>Synthetic FLAIR vs {escape(labels.image_name(image))}</h3>"
            + table_html(
                frame,
                caption="Paired two-sided Wilcoxon signed-rank tests; the median difference "
                "and the rank-biserial correlation are of "
                f"{labels.image_name(image)} minus synthetic FLAIR; exact p where n is small "
                "and there are no ties (Test column); the Note says why a value is n/a.",
            )
            for image, frame in labels.image_tests(tests, reasons=reasons).items()
        ),
        "<h3>Tissues within each image</h3>",
        table_html(
            labels.tissue_tests(tests),
            caption="GM vs WM, GM vs CSF and WM vs CSF within each image (paired by subject).",
        ),
        "<h3>Normality (Shapiro-Wilk)</h3>",
        table_html(labels.normality(normality)),
    ]


def _phantom_section(truth, counts) -> list[str]:
    """The digital phantom's ground-truth QC grid, with the lesion QC of every test subject."""
    lesion_qc = {
        c.subject: (
            not c.failures(),
            "; ".join(c.failures()) or "lesions detected on every map",
        )
        for c in counts
    }
    grid, _, numbers = qc.qc_grid(truth, {"lesions detected on every FLAIR (test)": lesion_qc})
    return [
        "<h2>Digital phantom: ground truth QC</h2>",
        "<p>The phantom's true relaxation maps, tissue fractions, lesion masks and head "
        "motion are known, so every step is checked against them. The conventional "
        "FLAIR's lesion map is scored against two truths: the lesions the FLAIR images "
        "(the phantom's lesion fractions as the moved head meets the FLAIR's slices, "
        "carried into synthetic space by the true motion; the tolerance applies here) and "
        "the MDME-space lesion mask. The Dice of the first against the second (the "
        "ceiling column) is what the acquisition geometry alone loses: with 5 mm between "
        "slices, a lesion that fills an MDME slice can straddle two FLAIR slices.</p>",
        grid,
        numbers,
    ]
