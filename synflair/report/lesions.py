"""The report's lesion section: lesion counts, Dice with the reason of every n/a, lesion figure.

A lesion Dice is undefined (NaN) when both lesion maps are empty. Read alone
that says nothing; when the reference has lesions (the phantom's truth, or the
conventional FLAIR's lesion map) and an image's map has none, the table says
so (``"no lesion detected (truth: 25 lesions)"``) and the subject fails the
lesion QC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synflair.lesions.detection import label_lesions
from synflair.report.labels import format_number, image_name

#: Lesion maps in the order the report shows them.
ORDER = ("synthetic", "dl", "stage1", "conventional")


@dataclass(frozen=True)
class LesionCounts:
    """Lesions (connected components, 26-connectivity) of one subject's maps.

    Attributes
    ----------
    subject : str
    detected : dict of str -> int
        Lesions in each image's lesion map (``synthetic``, ``dl``, ``conventional``, ...).
    truth : int or None
        Lesions in the phantom's true (MDME-space) lesion mask; None for real data.
    truth_voxels : int or None
        Voxels of that mask (small lesions explain a miss).
    """

    subject: str
    detected: dict[str, int]
    truth: int | None = None
    truth_voxels: int | None = None

    def truth_text(self) -> str:
        """``"truth: 25 lesions, 130 voxels"`` (``""`` without a truth or lesions)."""
        if not self.truth:
            return ""
        voxels = f", {self.truth_voxels} voxels" if self.truth_voxels is not None else ""
        return f"truth: {self.truth} lesion{'s' * (self.truth != 1)}{voxels}"

    def references(self, image: str) -> list[str]:
        """The references with lesions for ``image``: ``["truth: 25 lesions", ...]``."""
        found = [self.truth_text()] if self.truth else []
        conventional = self.detected.get("conventional", 0)
        if image != "conventional" and conventional:
            found.append(f"conventional FLAIR: {conventional} lesion{'s' * (conventional != 1)}")
        return found

    def missed(self, image: str) -> str:
        """Why ``image`` has no lesion although a reference has some, else ``""``."""
        if self.detected.get(image, 0):
            return ""
        references = self.references(image)
        return f"no lesion detected ({'; '.join(references)})" if references else ""

    def summary(self) -> str:
        """The lesion QC of this subject in a few words (``""`` when it passes)."""
        missed = [image for image in self.detected if self.missed(image)]
        if not missed:
            return ""
        if len(missed) == len(self.detected):
            return f"no lesion detected on any FLAIR ({self.truth_text()})"
        names = " and ".join(image_name(i) for i in missed)
        return f"no lesion detected on {names} ({'; '.join(self.references(missed[0]))})"

    def failures(self) -> list[str]:
        """The QC failures: every image with no lesion where a reference has some."""
        return [
            f"{image_name(image)}: {self.missed(image)}"
            for image in self.detected
            if self.missed(image)
        ]


def count_lesions(
    subject: str, maps: dict[str, np.ndarray], truth: np.ndarray | None = None
) -> LesionCounts:
    """Count the lesions of each boolean lesion map (and of the phantom's truth)."""
    detected = {name: label_lesions(mask)[1] for name, mask in maps.items()}
    if truth is None:
        return LesionCounts(subject, detected)
    return LesionCounts(subject, detected, label_lesions(truth)[1], int(np.count_nonzero(truth)))


def dice_reason(counts: LesionCounts, image: str, reference: str, note: str) -> str:
    """Why a Dice of ``image`` against ``reference`` is n/a (``n/a: <reason>``)."""
    if reference == "conventional" and not counts.detected.get("conventional", 0):
        if counts.truth:
            missing = [image] if image == "conventional" else [image, "conventional"]
            missing = [n for n in missing if not counts.detected.get(n, 0)]
            names = " and ".join(image_name(n) for n in missing)
            return f"n/a: no lesion detected on {names} ({counts.truth_text()})"
        return "n/a: no lesion on either map (the conventional FLAIR shows none)"
    missed = counts.missed(image)
    if missed:
        return f"n/a: {missed}"
    return f"n/a: {note}" if note else "n/a: not computed (no reason recorded)"


def dice_table(metrics: pd.DataFrame, counts: list[LesionCounts]) -> pd.DataFrame:
    """Per subject and image: lesions found, Dice against each reference, lesion QC.

    Every n/a carries its reason; a map with no lesion where the reference has some
    is a QC failure.
    """
    rows = []
    lesion_rows = metrics[metrics["region"] == "lesions"]
    dice_metrics = sorted(
        {m for m in lesion_rows["metric"] if str(m).startswith("dice_")},
        key=lambda m: (m != "dice_conventional", m),
    )
    for subject in counts:
        for image in [n for n in ORDER if n in subject.detected]:
            row = {"Subject": f"sub-{subject.subject}", "Image": image_name(image)}
            row["Lesions detected"] = str(subject.detected[image])
            if subject.truth is not None:
                row["Lesions in truth"] = str(subject.truth)
            for metric in dice_metrics:
                found = lesion_rows[
                    (lesion_rows["subject"].astype(str) == subject.subject)
                    & (lesion_rows["image"] == image)
                    & (lesion_rows["metric"] == metric)
                ]
                header = {
                    "dice_conventional": "Dice vs conventional",
                    "dice_truth": "Dice vs truth",
                }
                column = header.get(metric, metric)
                if found.empty:
                    row[column] = "reference" if metric == f"dice_{image}" else "n/a: not computed"
                    continue
                value = float(found["value"].iloc[0])
                note = found["note"].iloc[0] if isinstance(found["note"].iloc[0], str) else ""
                reference = metric.removeprefix("dice_")
                row[column] = (
                    format_number(value, 3)
                    if math.isfinite(value)
                    else dice_reason(subject, image, reference, note)
                )
            missed = subject.missed(image)
            row["Lesion QC"] = f"FAIL: {missed}" if missed else "pass"
            rows.append(row)
    return pd.DataFrame(rows)


def dice_summary(metrics: pd.DataFrame, counts: list[LesionCounts], image: str) -> str:
    """``"0.57 ± 0.17 (n = 10)"`` of ``image``'s Dice vs conventional, or n/a with the reason."""
    rows = metrics[
        (metrics["region"] == "lesions")
        & (metrics["metric"] == "dice_conventional")
        & (metrics["image"] == image)
    ]
    values = rows["value"].to_numpy(float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        reasons = [dice_reason(c, image, "conventional", "") for c in counts]
        reasons = [r.removeprefix("n/a: ") for r in reasons]
        if len(set(reasons)) == 1 and len(counts) > 1:
            detail = f"{len(counts)} of {len(counts)} subjects: {reasons[0]}"
        else:
            detail = "; ".join(
                f"sub-{c.subject}: {r}" for c, r in zip(counts, reasons, strict=True)
            )
        return f"n/a ({detail})"
    sd = f" ± {np.std(finite, ddof=1):.2g}" if finite.size > 1 else ""
    left_out = rows[~np.isfinite(values)]["subject"].astype(str).tolist()
    extra = (
        f"; left out, no lesion on either map: {', '.join(f'sub-{s}' for s in left_out)}"
        if left_out
        else ""
    )
    return f"{np.mean(finite):.3g}{sd} (n = {finite.size}{extra})"


def undefined_reason(metrics: pd.DataFrame, counts: list[LesionCounts], images=("synthetic", "dl")):
    """Why the paired Dice comparison lacks subjects: ``"Dice undefined for sub-x: ..."``."""
    by_subject = {c.subject: c for c in counts}
    rows = metrics[(metrics["region"] == "lesions") & (metrics["metric"] == "dice_conventional")]
    parts = []
    for subject, found in rows.groupby("subject", sort=True):
        for image in images:
            value = found[found["image"] == image]["value"].to_numpy(float)
            if value.size and not np.isfinite(value[0]) and str(subject) in by_subject:
                reason = dice_reason(by_subject[str(subject)], image, "conventional", "")
                parts.append(f"sub-{subject}: {reason.removeprefix('n/a: ')}")
                break
    return f"Dice undefined for {'; '.join(parts)}" if parts else ""


def paired_dice(metrics: pd.DataFrame, images=("synthetic", "dl")) -> pd.DataFrame:
    """Dice vs conventional per subject (rows) and image (columns), subjects with all finite."""
    rows = metrics[(metrics["region"] == "lesions") & (metrics["metric"] == "dice_conventional")]
    table = rows.pivot_table(index="subject", columns="image", values="value", aggfunc="first")
    table = table.reindex(columns=list(images))
    return table[np.isfinite(table.to_numpy(float)).all(axis=1)]


def lesion_figure(
    images: dict,
    lesions: dict,
    mask: np.ndarray,
    k: int,
    subject: str,
    counts: LesionCounts,
    truth: np.ndarray | None = None,
):
    """Each FLAIR with its own lesion map over it, on the same slice, side by side.

    Parameters
    ----------
    images : dict of str -> ndarray
        FLAIRs on the common intensity scale (``synthetic``, ``dl``, ``stage1``,
        ``conventional``).
    lesions : dict of str -> ndarray of bool
        Each image's lesion map, same keys.
    mask : ndarray of bool
    k : int
        Slice.
    subject : str
    counts : LesionCounts
    truth : ndarray of bool, optional
        The phantom's true lesion mask, outlined (dashed yellow) on every panel.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from synflair.report.figures import IMAGE_TITLES, LESION_COLOURS

    names = [n for n in ORDER if n in images and n in lesions]
    fig, axes = plt.subplots(
        1, len(names), figsize=(3.0 * len(names), 3.7), squeeze=False, layout="constrained"
    )
    for ax, name in zip(axes[0], names, strict=True):
        image = images[name][:, :, k] * mask[:, :, k]
        vmax = float(np.percentile(images[name][mask], 99.5))
        ax.imshow(image.T, cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
        overlay = np.ma.masked_equal(lesions[name][:, :, k].astype(np.uint8), 0)
        colour = LESION_COLOURS.get(name, "red")
        from matplotlib.colors import ListedColormap

        ax.imshow(overlay.T, cmap=ListedColormap([colour]), alpha=0.55, interpolation="nearest")
        n = counts.detected.get(name, 0)
        here = int(label_lesions(lesions[name][:, :, k], connectivity=2)[1]) if n else 0
        ax.set_title(
            f"{IMAGE_TITLES.get(name, name)}\n{n} lesions; {here} on this slice", fontsize=8
        )
        ax.axis("off")
        handles = [Patch(color=colour, alpha=0.6, label=f"{image_name(name)} lesion map")]
        if truth is not None and truth[:, :, k].any():
            ax.contour(
                truth[:, :, k].T.astype(float),
                levels=[0.5],
                colors="yellow",
                linewidths=0.7,
                linestyles="dashed",
            )
            handles.append(Line2D([], [], color="yellow", ls="--", lw=1, label="phantom truth"))
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            fontsize=7,
            frameon=False,
        )
    truth = f"; phantom truth: {counts.truth} lesions" if counts.truth is not None else ""
    fig.suptitle(f"sub-{subject}, slice {k}{truth}", fontsize=9)
    return fig
