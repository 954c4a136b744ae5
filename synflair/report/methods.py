"""The report's methods paragraph, generated from the configuration and the versions used."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from synflair.errors import SynflairError
from synflair.physics import MDME_PAPER
from synflair.train.config import DEFAULT_VALIDATION_FRACTION, load_config

PACKAGES = ("synflair", "torch", "numpy", "nibabel", "pydicom", "antspyx", "nipype", "snakemake")


#: The sections of the workflow configuration the report reads (the methods paragraph,
#: the metrics' scaling, the title and representative subjects).
CONFIG_KEYS = (
    "cohort",
    "sheet",
    "phantom",
    "conversion",
    "quantification",
    "preprocess",
    "training",
    "registration",
    "segmentation",
    "lesions",
    "metrics",
    "report",
)


def report_config(config: dict) -> dict:
    """The part of a workflow configuration the report reads (:data:`CONFIG_KEYS`)."""
    return {key: config[key] for key in CONFIG_KEYS if key in config}


def versions() -> dict[str, str]:
    """Installed versions of the packages that produced the results."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _training_summary(training: dict) -> str:
    """The preset's name, each stage's iterations (``training.iterations`` overrides) and seed."""
    preset = Path(training["preset"])
    try:
        settings = load_config(preset)
    except SynflairError:
        return f"training preset {preset}"
    iterations = training.get("iterations")
    parts = [f"training preset {preset.name}"]
    for stage in (1, 2):
        parts.append(f"stage {stage}: {iterations or settings.stage(stage).iterations} iterations")
    parts.append(f"seed {settings.seed}")
    if settings.data.relative:
        parts.append(
            "the generator's output relative to the synthetic FLAIR (the synthetic FLAIR times "
            "a learned factor; the synthetic FLAIR a ninth input)"
        )
    objective = settings.objective
    if objective.paired > 0:
        term = f"a paired {objective.paired_loss} term against the registered conventional FLAIR"
        if objective.paired_loss == "pinball" and objective.hyper_threshold > 0:
            term += (
                f" (voxels whose CSF-suppressed synthetic FLAIR exceeds "
                f"{objective.hyper_threshold:g} x the subject's median fit to the "
                f"{objective.hyper_quantile:g}-quantile)"
            )
        if objective.lesion_share > 0:
            term += (
                f", {100 * objective.lesion_share:g} % of each voxel batch drawn from the "
                "conventional FLAIR's automatic lesion maps of the training subjects"
            )
        if objective.adversarial > 0:
            term += f" plus {objective.adversarial:g} x the adversarial term"
        parts.append(f"stage 2 minimizing {term}")
    fraction = training.get("validation_fraction", DEFAULT_VALIDATION_FRACTION)
    if settings.selection.every > 0 and fraction > 0:
        parts.append(
            f"stage-2 weights chosen on validation subjects (the last {100 * fraction:g} % of the "
            "training subjects, not trained on) as the highest intracranial PSNR among "
            f"checkpoints with lesion contrast >= {settings.selection.min_contrast:g} of the "
            "conventional FLAIR's"
        )
    return ", ".join(parts)


def _segmentation_input(seg: dict) -> str:
    if seg["image"] == "r1map":
        return "R1 (1/T1) map (the paper segmented the synthetic T1w)"
    return "skull-stripped synthetic T1w"


def _conventional_lesions(config: dict) -> str:
    if config["lesions"]["conventional_space"] == "native":
        return (
            "the conventional FLAIR on its own grid, with the tissue maps carried there by the "
            "registration and its lesion map carried back; the paper segmented the coregistered "
            "FLAIR"
        )
    return "the conventional FLAIR after registration to synthetic space"


def _ran(what: str, configured: str, actual: str | None) -> str:
    """``"device cuda:0 (NVIDIA H100)"``; ``"... (configured: auto)"`` where they differ."""
    label = f"{what} " if what else ""
    if not actual:
        return f"{label}{configured} (configured; what ran was not recorded)"
    if configured == "auto":
        return f"{label}{actual} (configured: auto)"
    return f"{label}{actual}"


def methods_paragraph(
    config: dict,
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    ran_on: dict[str, str] | None = None,
) -> str:
    """One paragraph describing what this run did, generated from ``config``.

    ``ran_on`` (``training``, ``registration``, ``segmentation``) replaces the
    configured device and backends (which may say ``auto``) by what actually ran.
    """
    ran_on = ran_on or {}
    q = config["quantification"]
    pre = config["preprocess"]
    if config["cohort"] == "phantom":
        p = config["phantom"]
        cohort = (
            f"the synflair digital phantom cohort (preset {p['preset']}, {p['subjects']} "
            f"virtual MS patients, seed {p['seed']})"
        )
    else:
        cohort = f"the subjects of {config.get('sheet')}"
    split = f" ({n_train} training, {n_test} test)" if n_train is not None else ""
    ver = versions()
    te = "/".join(f"{t:g}" for t in MDME_PAPER.te)
    td = "/".join(f"{t:g}" for t in MDME_PAPER.td)
    reg, seg, met = config["registration"], config["segmentation"], config["metrics"]
    return (
        f"Data: {cohort}{split}. MDME raw images (TE {te} ms, saturation delays {td} ms, "
        f"TR {MDME_PAPER.tr:g} ms; {config['conversion']['mdme_component']} images) were "
        "converted with synflair's pydicom sorter and conventional FLAIR with dcm2niix. T1, T2, "
        "PD and B1 were fitted per voxel with synflair's open MDME quantification; synthetic "
        f"FLAIR (TR {q['synthetic_flair']['tr']:g}, TE {q['synthetic_flair']['te']:g}, TI "
        f"{q['synthetic_flair']['ti']:g} ms) and synthetic T1w (TR {q['synthetic_t1w']['tr']:g}, "
        f"TE {q['synthetic_t1w']['te']:g} ms) were generated with an intracranial mask. The "
        f"stage-1 target was CSF-suppressed (images {pre['ir_index']} and {pre['t2_index']}, "
        f"thresholds {pre['ir_threshold']:g} / {pre['t2_threshold']:g}). The pixel-wise generator "
        "and multi-resolution discriminator were trained in two stages "
        f"({_training_summary(config['training'])}"
        f", {_ran('device', config['training']['device'], ran_on.get('training'))}). "
        "Conventional FLAIR was registered to synthetic "
        f"FLAIR ({_ran('', reg['backend'], ran_on.get('registration'))} backend, "
        f"{reg['dof']} dof); "
        f"the {_segmentation_input(seg)} was segmented into GM, WM and CSF inside the "
        f"intracranial mask ({_ran('', seg['backend'], ran_on.get('segmentation'))} backend); "
        "lesions were segmented with synflair's "
        f"lesion-growth method on each FLAIR ({_conventional_lesions(config)}). PSNR (peak "
        f"{met['peak']:g}) and NRMSE were computed on the {met['scaling']} "
        "intensity scale (every FLAIR scaled to an intracranial mean of 2000) and compared with "
        "paired two-sided Wilcoxon signed-rank tests (exact p-values where possible). Software: "
        + ", ".join(f"{k} {v}" for k, v in ver.items())
        + "."
    )
