"""The report of a run that applied a trained model (config key ``model``) to new subjects.

Such a run trains nothing and has no conventional FLAIR to compare with, so
there is no fidelity evaluation (no PSNR/NRMSE, statistics or lesion Dice).
The report says so plainly, names the model and what it was trained on, and
shows each subject's synthetic FLAIR beside the DL-FLAIR made.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synflair.atomic import atomic_output
from synflair.errors import SynflairError
from synflair.intensity import to_common_scale
from synflair.nifti import load_data
from synflair.report.html import escape, figure_html, page

__all__ = ["AppliedSubject", "applied_statement", "build_applied_report"]


@dataclass(frozen=True)
class AppliedSubject:
    """One subject's synthetic FLAIR, DL-FLAIR and intracranial mask (MDME grid)."""

    subject: str
    synthetic: str
    dl: str
    mask: str


def applied_statement(model: dict) -> str:
    """The report's first sentence: which model made the DL-FLAIR, and what was not evaluated.

    Parameters
    ----------
    model : dict
        :meth:`synflair.models.modelfile.ModelFile.summary` of the applied model.

    Returns
    -------
    str
        E.g. "Applied model m.pt (stage 2, 600 iterations; trained on 5 subject(s) (ph01, ...);
        MDME TE [16.9, 84.5] ms, ...; weights selected on validation subjects ph06, ph07)."
    """
    details = [f"stage {model.get('stage')}, {model.get('iterations')} iterations"]
    if model.get("device"):
        details.append(f"trained on {model['device']}")
    record = model.get("trained_on")
    if record:
        subjects = record.get("subjects", [])
        details.append(f"trained on {len(subjects)} subject(s) ({', '.join(subjects)})")
        protocols = record.get("protocols", [])
        if protocols:
            p = protocols[0]
            te = ", ".join(f"{v:g}" for v in p["EchoTime"])
            td = ", ".join(f"{v:g}" for v in p["SaturationDelayTime"])
            details.append(
                f"MDME protocol TE [{te}] ms, TD [{td}] ms, TR {p['RepetitionTime']:g} ms; "
                "every subject's protocol was checked against it"
            )
    else:
        details.append(
            "the model file records neither its training subjects nor their MDME protocol "
            "(written before synflair recorded them), so the subjects' protocol was not checked"
        )
    selection = model.get("selection") or {}
    if selection.get("subjects"):
        details.append(
            f"weights of iteration {selection.get('iteration')} selected on validation "
            f"subject(s) {', '.join(selection['subjects'])}"
        )
    return f"Applied model {model.get('path')} ({'; '.join(details)})."


NO_EVALUATION = (
    "No conventional FLAIR is used in this run, so there is no fidelity evaluation: no "
    "registration to a conventional FLAIR, no PSNR/NRMSE, no statistics and no lesion Dice. "
    "The DL-FLAIR images are the model's output, unchecked against an acquired FLAIR."
)


def _figure(subject: AppliedSubject):
    """Synthetic FLAIR and DL-FLAIR of the slice with the largest mask, on one grey scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mask = load_data(subject.mask, ndim=3)[0] > 0.5
    images = {
        name: to_common_scale(load_data(path, ndim=3)[0], mask, name=str(path))[0]
        for name, path in (("Synthetic FLAIR", subject.synthetic), ("DL-FLAIR", subject.dl))
    }
    k = int(np.argmax(mask.sum(axis=(0, 1))))
    vmax = float(np.percentile(np.concatenate([im[mask] for im in images.values()]), 99.5))
    figure, axes = plt.subplots(1, 2, figsize=(7, 3.6))
    for ax, (name, image) in zip(axes, images.items(), strict=True):
        ax.imshow(image[:, :, k].T, cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(f"{name}, sub-{subject.subject}", fontsize=9)
        ax.axis("off")
    return figure


def build_applied_report(
    subjects: list[AppliedSubject], model: dict, out: str | os.PathLike, *, title: str
) -> Path:
    """Write the HTML report of a run that applied ``model`` to ``subjects``.

    Parameters
    ----------
    subjects : list of AppliedSubject
    model : dict
        The applied model's :meth:`~synflair.models.modelfile.ModelFile.summary`.
    out : path-like
        The HTML file (written atomically).
    title : str

    Returns
    -------
    pathlib.Path
    """
    if not subjects:
        raise SynflairError("the report needs at least one subject")
    body = [
        f"<p><b>{escape(applied_statement(model))}</b></p>",
        f"<p class='note'>{escape(NO_EVALUATION)}</p>",
        "<h2>DL-FLAIR of every subject</h2>",
        "<ul>",
        *(f"<li>sub-{escape(s.subject)}: {escape(s.dl)}</li>" for s in subjects),
        "</ul>",
    ]
    for subject in subjects:
        body.append(
            figure_html(
                _figure(subject),
                f"sub-{subject.subject}: the synthetic FLAIR (left) and the DL-FLAIR made by "
                "the model (right), on the common intensity scale (intracranial mean 2000), "
                "the axial slice with the largest intracranial area.",
            )
        )
    with atomic_output(out) as tmp:
        tmp.write_text(page(title, "".join(body)), encoding="utf-8")
    return Path(out)
