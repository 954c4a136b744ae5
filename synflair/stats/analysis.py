"""The paper's statistical analysis on the tidy per-subject metric tables.

Input: the TSVs of ``synflair metrics`` (columns :data:`METRIC_COLUMNS`), one
or more subjects each. Output: three tables,

- ``tests``: every paired two-sided Wilcoxon signed-rank test: the baseline
  image (synthetic FLAIR) against each other image per metric and region, GM vs
  WM, GM vs CSF and WM vs CSF within each image, and the lesion-Dice
  comparisons;
- ``normality``: Shapiro-Wilk per image, region and metric, and of the paired
  differences that the Wilcoxon tests compare;
- ``table``: the paper's Table (see :mod:`synflair.stats.table`).

A comparison that cannot be computed (fewer than 2 paired subjects, NaN
values, all differences zero) is a row with NaN and the reason in ``note``.

A lesion metric can be undefined for a subject without anything having failed:
a Dice when both lesion maps are empty, a lesion contrast when the conventional
FLAIR's lesion map is too small (a subject without lesions, e.g. a control).
``synflair metrics`` writes such a value as NaN with the reason in ``note``;
the subject is then left out of that comparison, in every table alike, and the
test's ``note`` names it and the reason (:func:`split_undefined`). Any other
NaN still makes its test NaN.

Reference: Hagiwara et al., AJNR 2019;40:224-230, "Statistical Analysis".
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from synflair.errors import SynflairError
from synflair.metrics.table import COLUMNS as METRIC_COLUMNS
from synflair.metrics.table import REGIONS, SCALING_NONE
from synflair.stats.normality import shapiro_wilk
from synflair.stats.wilcoxon import EXACT_MAX_N, METHODS, NAN_POLICIES, wilcoxon_signed_rank
from synflair.tables import read_tsv

#: The region of the lesion metrics in the metric tables.
LESION_REGION = "lesions"
#: Tissue regions compared with each other within an image, in the paper's order.
TISSUE_PAIRS = (("GM", "WM"), ("GM", "CSF"), ("WM", "CSF"))
#: Prefix of the lesion-overlap metrics compared between images.
DICE_PREFIX = "dice_"
#: Prefix of the lesion-contrast metrics compared between images (synflair.metrics.contrast).
CONTRAST_PREFIX = "lesion_contrast_"

TEST_COLUMNS = (
    "comparison",
    "image",
    "region",
    "metric",
    "scaling",
    "n",
    "mean_x",
    "mean_y",
    "median_difference",
    "statistic",
    "p",
    "method",
    "z",
    "rank_biserial",
    "r",
    "note",
)
NORMALITY_COLUMNS = ("variable", "image", "region", "metric", "scaling", "n", "W", "p", "note")


@dataclass(frozen=True)
class StatsConfig:
    """What to compare and how.

    Attributes
    ----------
    baseline : str
        Image every other image is compared against (the paper: synthetic FLAIR).
    compare : str
        The image of the paper-style table's second column (the paper: DL-FLAIR).
    metrics : tuple of str
        Image-quality metrics tested per region.
    regions : tuple of str
        Regions of the table, in order.
    scaling : str
        Which intensity scaling's rows to analyse (``"common"`` or ``"raw"``).
    reference : str
        The reference image of the metric tables; never compared as an image under test.
    method, correction, exact_max_n, nan_policy
        Passed to :func:`~synflair.stats.wilcoxon.wilcoxon_signed_rank`.
    """

    baseline: str = "synthetic"
    compare: str = "dl"
    metrics: tuple[str, ...] = ("psnr", "nrmse")
    regions: tuple[str, ...] = REGIONS
    scaling: str = "common"
    reference: str = "conventional"
    method: str = "auto"
    correction: bool = True
    exact_max_n: int = EXACT_MAX_N
    nan_policy: str = "propagate"

    def __post_init__(self):
        for name in ("baseline", "compare", "scaling", "reference"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string, not {value!r}")
        if self.baseline == self.compare:
            raise ValueError(f"compare must differ from baseline, not {self.compare!r}")
        for name in ("metrics", "regions"):
            values = tuple(getattr(self, name))
            if not values or not all(isinstance(v, str) and v for v in values):
                raise ValueError(f"{name} must be a non-empty tuple of strings, not {values!r}")
            object.__setattr__(self, name, values)
        if self.scaling == SCALING_NONE:
            raise ValueError(f"scaling must name an intensity scaling, not {self.scaling!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        if self.nan_policy not in NAN_POLICIES:
            raise ValueError(f"nan_policy must be one of {NAN_POLICIES}, not {self.nan_policy!r}")
        if not 0 <= self.exact_max_n <= 60:
            raise ValueError(f"exact_max_n must be in [0, 60], not {self.exact_max_n!r}")


#: The paper's analysis: synthetic vs DL, PSNR and NRMSE, common intensity scale.
DEFAULT_STATS = StatsConfig()


def read_metrics(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """Read and concatenate per-subject metric TSVs.

    Raises
    ------
    SynflairError
        Naming the file that is missing, unreadable or lacks a column, or the duplicated
        (subject, image, region, scaling, metric) keys (e.g. a file given twice).
    """
    if not paths:
        raise SynflairError("no metrics files given")
    frames = []
    for path in paths:
        frame = read_tsv(
            path,
            METRIC_COLUMNS,
            what="a metrics table of 'synflair metrics'",
            dtype={"subject": str, "note": str},
            keep_default_na=True,
            require_rows=True,
        )
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
        frame["note"] = frame["note"].fillna("").astype(str)
        frames.append(frame)
    metrics = pd.concat(frames, ignore_index=True)
    key = ["subject", "image", "region", "scaling", "metric"]
    duplicated = metrics[metrics.duplicated(key, keep=False)]
    if len(duplicated):
        first = duplicated.iloc[0]
        raise SynflairError(
            f"{len(duplicated)} duplicated metric rows, e.g. subject {first['subject']!r} "
            f"image {first['image']!r} region {first['region']!r} metric {first['metric']!r}; "
            "was a subject's metrics file given twice?"
        )
    return metrics


def select_scaling(metrics: pd.DataFrame, scaling: str) -> pd.DataFrame:
    """Rows of one intensity scaling plus the rows that do not depend on scaling."""
    scalings = set(metrics["scaling"]) - {SCALING_NONE}
    if scalings and scaling not in scalings:
        raise SynflairError(
            f"no metrics with scaling {scaling!r}; the tables have {sorted(scalings)}"
        )
    return metrics[metrics["scaling"].isin([scaling, SCALING_NONE])]


def split_undefined(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows to analyse, and the lesion-metric rows undefined for their subject.

    Parameters
    ----------
    frame : pandas.DataFrame
        Tidy metrics (columns :data:`METRIC_COLUMNS`).

    Returns
    -------
    analysed, undefined : pandas.DataFrame
        The rows to analyse and the undefined rows; together, ``frame``.

    Notes
    -----
    Undefined: region :data:`LESION_REGION`, value NaN, and a reason in ``note``
    (``synflair metrics`` writes one exactly where the metric does not exist for the
    subject, e.g. ``"both lesion maps are empty"``). A NaN without a reason, or in any
    other region, stays in the rows to analyse and makes its test NaN.
    """
    undefined = (
        (frame["region"] == LESION_REGION)
        & frame["value"].isna()
        & (frame["note"].fillna("").astype(str).str.strip() != "")
    )
    return frame[~undefined], frame[undefined]


def drop_undefined(
    a: pd.Series, b: pd.Series, undefined: pd.DataFrame, images, region: str, metric: str
) -> tuple[pd.Series, pd.Series, str]:
    """Leave the subjects whose ``metric`` is undefined for either image out of both sides.

    Parameters
    ----------
    a, b : pandas.Series
        The two sides' values, indexed by subject.
    undefined : pandas.DataFrame
        The undefined rows (:func:`split_undefined`).
    images : collection of str
        The images of the two sides.
    region, metric : str
        What is compared.

    Returns
    -------
    a, b : pandas.Series
        Without those subjects.
    note : str
        ``"left out, <metric> undefined: <subject> (<image>: <reason>), ..."``; ``""`` if none.
    """
    rows = undefined[
        undefined["image"].isin(list(images))
        & (undefined["region"] == region)
        & (undefined["metric"] == metric)
    ]
    if rows.empty:
        return a, b, ""
    reasons = {}
    for row in rows.sort_values(["subject", "image"]).itertuples(index=False):
        reasons.setdefault(row.subject, f"{row.image}: {row.note}")
    gone = list(reasons)
    note = f"left out, {metric} undefined: " + ", ".join(f"{s} ({reasons[s]})" for s in gone)
    return a.drop(gone, errors="ignore"), b.drop(gone, errors="ignore"), note


def _series(frame: pd.DataFrame, image: str, region: str, metric: str) -> pd.Series:
    rows = frame[(frame["image"] == image) & (frame["region"] == region)]
    rows = rows[rows["metric"] == metric]
    return rows.set_index("subject")["value"]


def _paired(a: pd.Series, b: pd.Series, labels: tuple[str, str]):
    """Values of the subjects present in both; a note on the subjects left out."""
    subjects = sorted(set(a.index) & set(b.index))
    notes = []
    for series, label in zip((a, b), labels, strict=True):
        other = b if series is a else a
        missing = sorted(set(other.index) - set(series.index))
        if missing:
            notes.append(f"no {label} value for subject(s) {missing}")
    return subjects, a.reindex(subjects).to_numpy(), b.reindex(subjects).to_numpy(), notes


def _test_row(config: StatsConfig, x, y, notes, **context) -> dict:
    result = wilcoxon_signed_rank(
        x,
        y,
        method=config.method,
        correction=config.correction,
        exact_max_n=config.exact_max_n,
        nan_policy=config.nan_policy,
    )
    notes = [*notes, result.reason] if result.reason else list(notes)

    def mean(values):
        values = np.asarray(values, dtype=float)
        return float(np.mean(values)) if len(values) and np.isfinite(values).all() else np.nan

    return {
        **context,
        "n": result.n,
        "mean_x": mean(x),
        "mean_y": mean(y),
        "median_difference": result.median_difference,
        "statistic": result.statistic,
        "p": result.p_value,
        "method": result.method,
        "z": result.z,
        "rank_biserial": result.rank_biserial,
        "r": result.r,
        "note": "; ".join(notes),
    }


def _present(frame: pd.DataFrame, column: str, order: Sequence[str]) -> list[str]:
    values = set(frame[column])
    return [v for v in order if v in values] + sorted(values - set(order))


def images_under_test(frame: pd.DataFrame, config: StatsConfig) -> list[str]:
    """Images compared (the baseline first), i.e. all but the reference."""
    images = set(frame["image"]) - {config.reference}
    if config.baseline not in images:
        raise SynflairError(
            f"baseline image {config.baseline!r} is not in the metrics (images: {sorted(images)})"
        )
    order = [config.baseline, config.compare]
    return [i for i in order if i in images] + sorted(images - set(order))


def dice_metrics(frame: pd.DataFrame) -> list[str]:
    """Lesion metrics compared between images: Dice, then lesion contrast (conventional first).

    ``dice_<ref>`` (overlap) and ``lesion_contrast_<ref>`` (lesion/NAWM ratio relative to
    the conventional FLAIR's); both have ``scaling = "none"``.
    """
    prefixes = (DICE_PREFIX, CONTRAST_PREFIX)
    names = {m for m in frame["metric"] if str(m).startswith(prefixes)}
    return sorted(
        names,
        key=lambda m: (not str(m).startswith(DICE_PREFIX), not m.endswith("_conventional"), m),
    )


class _Planned(NamedTuple):
    """One paired test: ``metric`` of side ``x`` vs side ``y``, each an (image, region) pair."""

    metric: str
    x: tuple[str, str]
    y: tuple[str, str]
    names: tuple[str, str]  # what differs between the sides: the comparison's words
    image: str
    region: str
    scaling: str


def _planned_tests(frame: pd.DataFrame, config: StatsConfig, images: list[str], regions):
    """The analysis's tests in table order: images per region, tissue pairs, lesion metrics."""
    baseline, others = images[0], images[1:]
    for other in others:
        pair = (baseline, other)
        for region in regions:
            for metric in config.metrics:
                yield _Planned(metric, (baseline, region), (other, region), pair,
                               " vs ".join(pair), region, config.scaling)  # fmt: skip
    for image in images:
        for pair in TISSUE_PAIRS:
            for metric in config.metrics:
                yield _Planned(metric, (image, pair[0]), (image, pair[1]), pair, image,
                               " vs ".join(pair), config.scaling)  # fmt: skip
    for metric in dice_metrics(frame):
        for other in others:
            pair = (baseline, other)
            yield _Planned(metric, (baseline, LESION_REGION), (other, LESION_REGION), pair,
                           " vs ".join(pair), LESION_REGION, SCALING_NONE)  # fmt: skip


def comparisons_table(metrics: pd.DataFrame, config: StatsConfig = DEFAULT_STATS) -> pd.DataFrame:
    """Every paired Wilcoxon test of the analysis (columns :data:`TEST_COLUMNS`).

    ``mean_x`` and ``statistic`` refer to the first-named side of ``comparison``
    (``"synthetic vs dl"``: x = synthetic). A test whose sides both have no values is left out.
    """
    selected = select_scaling(metrics, config.scaling)
    images = images_under_test(selected, config)
    regions = _present(selected[selected["metric"].isin(config.metrics)], "region", config.regions)
    frame, undefined = split_undefined(selected)
    rows = []
    for test in _planned_tests(selected, config, images, regions):
        if all(_series(selected, *side, test.metric).empty for side in (test.x, test.y)):
            continue
        a = _series(frame, *test.x, test.metric)
        b = _series(frame, *test.y, test.metric)
        a, b, left_out = drop_undefined(
            a, b, undefined, {test.x[0], test.y[0]}, test.region, test.metric
        )
        _, x, y, notes = _paired(a, b, test.names)
        notes = [left_out, *notes] if left_out else notes
        rows.append(_test_row(
            config, x, y, notes, comparison=" vs ".join(test.names), image=test.image,
            region=test.region, metric=test.metric, scaling=test.scaling,
        ))  # fmt: skip
    return pd.DataFrame(rows, columns=list(TEST_COLUMNS))


def normality_table(metrics: pd.DataFrame, config: StatsConfig = DEFAULT_STATS) -> pd.DataFrame:
    """Shapiro-Wilk per image, region and metric, and of the baseline-minus-image differences.

    Columns :data:`NORMALITY_COLUMNS`; ``variable`` is the image name or
    ``"<baseline> - <image>"`` for paired differences.
    """
    frame = select_scaling(metrics, config.scaling)
    images = images_under_test(frame, config)
    baseline = images[0]
    metric_names = [*config.metrics, *dice_metrics(frame)]
    frame, undefined = split_undefined(frame)
    rows = []
    for metric in metric_names:
        sub = frame[frame["metric"] == metric]
        lesion_metric = metric.startswith((DICE_PREFIX, CONTRAST_PREFIX))
        scaling = SCALING_NONE if lesion_metric else config.scaling
        for region in _present(sub, "region", config.regions):
            variables = [(image, _series(sub, image, region, metric), []) for image in images]
            for other in images[1:]:
                a = _series(sub, baseline, region, metric)
                b = _series(sub, other, region, metric)
                a, b, left_out = drop_undefined(a, b, undefined, {baseline, other}, region, metric)
                _, x, y, notes = _paired(a, b, (baseline, other))
                notes = [left_out, *notes] if left_out else notes
                variables.append((f"{baseline} - {other}", pd.Series(x - y), notes))
            for variable, values, notes in variables:
                if values.empty:
                    continue
                result = shapiro_wilk(values.to_numpy(), nan_policy=config.nan_policy)
                note = "; ".join([*notes, result.reason] if result.reason else notes)
                image = variable if variable in images else variable.replace(" - ", " vs ")
                rows.append({
                    "variable": variable, "image": image, "region": region, "metric": metric,
                    "scaling": scaling, "n": result.n, "W": result.statistic,
                    "p": result.p_value, "note": note,
                })  # fmt: skip
    return pd.DataFrame(rows, columns=list(NORMALITY_COLUMNS))
