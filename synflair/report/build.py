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
from synflair.nifti import load_data
from synflair.report import figures
from synflair.report.html import escape, figure_html, page, table_html
from synflair.report.methods import methods_paragraph


@dataclass(frozen=True)
class SubjectImages:
    """One test subject's images in synthetic (MDME) space.

    ``flair`` maps an image name (``synthetic``, ``dl``, ``stage1``,
    ``conventional``) to a NIfTI path; ``lesions`` likewise to lesion masks.
    """

    subject: str
    flair: dict[str, str]
    lesions: dict[str, str]
    mask: str
    dseg: str
    t1w: str


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


def _read_tsv(path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t")
    except FileNotFoundError as error:
        raise SynflairError(f"{path}: missing report input") from error


def _load(path, dtype=np.float32):
    return load_data(path, ndim=3, dtype=dtype)[0]


def _subject_figures(images: SubjectImages, representative: bool) -> str:
    mask = _load(images.mask) > 0.5
    dseg = _load(images.dseg, np.int16)
    scaled = {
        name: to_common_scale(_load(path), mask, name=str(path))[0]
        for name, path in images.flair.items()
    }
    reference = scaled.pop("conventional")
    lesions = {name: _load(path) > 0.5 for name, path in images.lesions.items()}
    k = figures.choose_slice(mask, lesions.get("conventional"))
    parts = []
    if representative:
        under_test = {n: scaled[n] for n in ("synthetic", "dl") if n in scaled}
        parts.append(
            figure_html(
                figures.flair_comparison(under_test, reference, mask, k, images.subject),
                f"Fig 2 analogue, sub-{images.subject}: synthetic FLAIR, DL-FLAIR and registered "
                "conventional FLAIR (common intensity scale), and the NRMSE maps of synthetic and "
                "DL-FLAIR against conventional FLAIR (|error| / mean intracranial intensity).",
            )
        )
        parts.append(
            figure_html(
                figures.magnified(under_test, reference, dseg, k, "csf"),
                f"Fig 3 analogue, sub-{images.subject}: magnified CSF (ventricles). Granular "
                "hyperintensities of synthetic FLAIR in the CSF should be reduced on DL-FLAIR.",
            )
        )
        parts.append(
            figure_html(
                figures.magnified(under_test, reference, dseg, k, "cortex"),
                f"Fig 4 analogue, sub-{images.subject}: magnified cortex. Synthetic FLAIR shows "
                "bright brain-CSF boundaries and apparently swollen parenchyma (tight sulci).",
            )
        )
    t1w = _load(images.t1w)
    parts.append(
        figure_html(
            figures.qc_thumbnails(
                t1w, dseg, scaled["synthetic"], reference, lesions, mask, k, images.subject
            ),
            f"QC, sub-{images.subject}: conventional FLAIR edges (yellow) on synthetic FLAIR; "
            "tissue labels on the skull-stripped synthetic T1w; lesion outlines (red conventional, "
            "cyan synthetic, green DL, orange stage 1).",
        )
    )
    return "".join(parts)


def _reference_values() -> str:
    try:
        from synflair.stats import PAPER_TABLE
    except ImportError:  # pragma: no cover - stats package always present in a full install
        return ""
    return table_html(pd.DataFrame(PAPER_TABLE), caption="The paper's Table (Hagiwara et al. 2019)")


def build_report(
    inputs: ReportInputs,
    config: dict,
    out: str | os.PathLike,
    *,
    representative: list[str] | None = None,
    n_train: int | None = None,
) -> Path:
    """Write the self-contained HTML report.

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

    Returns
    -------
    pathlib.Path
    """
    if not inputs.subjects:
        raise SynflairError("the report needs at least one test subject")
    representative = representative or [inputs.subjects[0].subject]
    table = _read_tsv(inputs.table)
    tests = _read_tsv(inputs.tests)
    normality = _read_tsv(inputs.normality)
    metrics = pd.concat([_read_tsv(p) for p in inputs.metrics], ignore_index=True)
    body = [
        "<p class='small'>Hagiwara A, et al. Improving the Quality of Synthetic FLAIR Images with "
        "Deep Learning Using a Conditional Generative Adversarial Network for Pixel-by-Pixel "
        "Image Translation. AJNR 2019;40:224-230, regenerated by synflair.</p>",
        "<h2>Methods</h2>",
        f"<p>{escape(methods_paragraph(config, n_train=n_train, n_test=len(inputs.subjects)))}</p>",
        "<h2>PSNR and NRMSE against conventional FLAIR (the paper's Table)</h2>",
        table_html(
            table,
            caption="This run: mean ± SD over test subjects; percent change "
            "DL vs synthetic; paired two-sided Wilcoxon signed-rank test.",
        ),
        _reference_values(),
    ]
    lesion_rows = metrics[metrics["metric"].astype(str).str.startswith("dice")]
    if len(lesion_rows):
        summary = (
            lesion_rows.groupby(["image", "metric"])["value"]
            .agg(["mean", "std", "count"])
            .reset_index()
        )
        body += [
            "<h2>Lesion maps: Dice against conventional FLAIR</h2>",
            table_html(
                summary, caption="Paper: DL-FLAIR 0.57 ± 0.17, synthetic 0.55 ± 0.14 (P = 1)."
            ),
        ]
    body += [
        "<h2>All statistical tests</h2>",
        table_html(
            tests,
            caption="Synthetic vs DL per metric and region, tissue "
            "comparisons within each image type, lesion Dice; exact p-values "
            "where n is small and there are no ties (method column).",
        ),
        "<h3>Normality (Shapiro-Wilk)</h3>",
        table_html(normality),
    ]
    body.append("<h2>Figures</h2>")
    for images in inputs.subjects:
        body.append(_subject_figures(images, images.subject in representative))
    body.append("<h2>Training</h2>")
    losses = {stage: _read_tsv(path) for stage, path in inputs.losses.items()}
    body.append(figure_html(figures.loss_curves(losses), "Loss curves of both training stages."))
    if inputs.truth:
        truth = pd.concat([_read_tsv(p) for p in inputs.truth], ignore_index=True)
        body += [
            "<h2>Digital phantom: ground truth</h2>",
            "<p>The phantom's true relaxation maps, tissue fractions, lesion masks and head "
            "motion are known, so every step is checked against them. The conventional "
            "FLAIR's lesion map is scored against two truths: the lesions the FLAIR images "
            "(the phantom's lesion fractions as the moved head meets the FLAIR's slices, "
            "carried into synthetic space by the true motion; the target applies here) and "
            "the MDME-space lesion mask. The Dice of the first against the second (the "
            "ceiling row) is what the acquisition geometry alone loses: with 5 mm between "
            "slices, a lesion that fills an MDME slice can straddle two FLAIR slices.</p>",
            table_html(truth),
        ]
    html_text = page(config.get("report", {}).get("title", "synflair report"), "".join(body))
    with atomic_output(out) as tmp:
        tmp.write_text(html_text, encoding="utf-8")
    return Path(out)
