"""Training recipes side by side on a finished demo run (issue 12, the ablation).

Trains each recipe's two stages with the project's own code (``train_stage``, the
run's training and validation manifests), predicts the test subjects' DL-FLAIR,
segments its lesions with ``synflair lesions`` and scores everything with
``synflair.metrics.subject_metrics`` against the registered conventional FLAIR,
as the report does. Columns: PSNR and NRMSE per region (common scale, mean over
test subjects), lesion/NAWM contrast relative to the conventional FLAIR (on its
lesion map and on the phantom's truth), lesion Dice (vs conventional, vs truth)
and training time per stage.

::

    python bench/bench_recipes.py --run /tmp/demo_final --out /tmp/bench12 \\
        --recipe paper=config/train/demo-paper.yaml \\
        --recipe "paired L1=config/train/demo-l1.yaml" \\
        --recipe default=config/train/demo.yaml --stage1-of default

``--stage1-of NAME`` adds the stage-1 model of recipe NAME as the row "stage 1 only".
Writes ``OUT/recipes.tsv`` (one row per recipe and test subject), ``OUT/summary.tsv``
and ``OUT/summary.md`` (means over subjects) and each recipe's models.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from synflair.cli import main as synflair_main
from synflair.infer import predict_volume
from synflair.metrics import subject_metrics
from synflair.models.modelfile import load_model
from synflair.models.normalization import InputNormalization
from synflair.nifti import load, load_data, save
from synflair.train.config import load_config
from synflair.train.data import load_training_data, read_manifest
from synflair.train.session import train_stage
from synflair.train.validation import load_validation, read_validation_manifest

log = logging.getLogger("bench_recipes")
REGIONS = ("intracranial", "GM", "WM", "CSF")


def res(run: Path, stage: str, subject: str, suffix: str) -> Path:
    return run / "results" / stage / f"sub-{subject}" / f"sub-{subject}_{suffix}"


def train(run: Path, preset: Path, out: Path) -> tuple[Path, Path, float, float]:
    """Both stages of one preset; returns the two model files and their seconds.

    A recipe folder that already holds both models and ``timing.json`` (from an earlier
    call with the same preset) is reused.
    """
    done = out / "timing.json"
    if done.is_file():
        record = json.loads(done.read_text())
        if record["preset"] == preset.read_text():
            return out / "stage-1.pt", out / "stage-2.pt", record["stage1_s"], record["stage2_s"]
    config = load_config(preset)
    rule = InputNormalization.from_config(config.data)
    data = load_training_data(read_manifest(run / "results/train/manifest.tsv"), rule)
    validation_path = run / "results/train/validation.tsv"
    validation = None
    if validation_path.is_file():
        validation = load_validation(read_validation_manifest(validation_path), rule)
    seconds = []
    init = None
    models = []
    for stage in (1, 2):
        start = time.perf_counter()
        model = train_stage(config, stage, data, out=out / f"stage-{stage}.pt",
                            workdir=out / f"run-{stage}", init=init,
                            validation=validation)  # fmt: skip
        seconds.append(time.perf_counter() - start)
        init = load_model(model)
        models.append(model)
    done.write_text(json.dumps({"preset": preset.read_text(), "stage1_s": seconds[0],
                                "stage2_s": seconds[1]}))  # fmt: skip
    return models[0], models[1], seconds[0], seconds[1]


def flair_and_lesions(run: Path, subject: str, model: Path, out: Path) -> tuple[Path, Path]:
    """Predict one test subject's DL-FLAIR and segment its lesions (as the workflow does)."""
    flair = out / f"sub-{subject}_FLAIR.nii.gz"
    lesions = out / f"sub-{subject}_lesions.nii.gz"
    if not flair.is_file():
        mdme_path = res(run, "nifti", subject, "mdme.nii.gz")
        mdme, _ = load_data(mdme_path, ndim=4)
        mask = load_data(res(run, "quantify", subject, "desc-intracranial_mask.nii.gz"),
                         ndim=3)[0] > 0.5  # fmt: skip
        synthetic = load_data(res(run, "quantify", subject, "desc-synthetic_FLAIR.nii.gz"),
                              ndim=3)[0]  # fmt: skip
        image = predict_volume(load_model(model), mdme, mask, synthetic=synthetic)
        save(image.astype(np.float32), load(mdme_path, ndim=4).affine, flair)
    if not lesions.is_file():
        seg = res(run, "segmentation", subject, "")
        argv = [
            "lesions",
            "--flair",
            str(flair),
            "--mask",
            str(res(run, "quantify", subject, "desc-intracranial_mask.nii.gz")),
        ]
        for tissue in ("GM", "WM", "CSF"):
            argv += [f"--{tissue.lower()}", f"{seg}label-{tissue}_probseg.nii.gz"]
        status = synflair_main([*argv, "--out", str(lesions)])  # fmt: skip
        if status:
            log.warning("synflair lesions refused %s: no lesion map (Dice n/a)", flair)
            return flair, None
    return flair, lesions


def score(run: Path, subject: str, images: dict[str, tuple[Path, Path]]) -> pd.DataFrame:
    """Metrics of the synthetic FLAIR and every recipe's DL-FLAIR on one test subject."""
    reference, _ = load_data(res(run, "registration", subject, "space-synthetic_FLAIR.nii.gz"),
                             ndim=3)  # fmt: skip
    mask = load_data(res(run, "quantify", subject, "desc-intracranial_mask.nii.gz"),
                     ndim=3)[0] > 0.5  # fmt: skip
    dseg = load_data(res(run, "segmentation", subject, "dseg.nii.gz"), ndim=3)[0]
    flairs = {"synthetic": load_data(res(run, "quantify", subject,
                                         "desc-synthetic_FLAIR.nii.gz"), ndim=3)[0]}  # fmt: skip
    lesion_maps = {}
    for name in ("synthetic", "conventional"):
        path = res(run, "lesions", subject, f"desc-{name}_lesions.nii.gz")
        if path.is_file():  # the lesion segmentation may have refused the image
            lesion_maps[name] = load_data(path, ndim=3)[0] > 0.5
    for name, (flair, lesions) in images.items():
        flairs[name] = load_data(flair, ndim=3)[0]
        if lesions is not None:
            lesion_maps[name] = load_data(lesions, ndim=3)[0] > 0.5
    truth_path = (run / "resources/phantom" / f"sub-{subject}" / "truth"
                  / f"sub-{subject}_label-lesion_mask.nii.gz")  # fmt: skip
    truth = load_data(truth_path, ndim=3)[0] > 0.5 if truth_path.is_file() else None
    return subject_metrics(subject, reference, flairs, mask, dseg, lesions=lesion_maps,
                           lesion_truth=truth)  # fmt: skip


def summarize(table: pd.DataFrame, timing: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Means over test subjects: one row per image."""
    rows = []
    for image in table["image"].unique():
        if image == "conventional":
            continue
        sub = table[table["image"] == image]
        row = {"recipe": image}
        for region in REGIONS:
            for metric in ("psnr", "nrmse"):
                values = sub[(sub["region"] == region) & (sub["metric"] == metric)
                             & (sub["scaling"] == "common")]["value"]  # fmt: skip
                row[f"{metric}_{region}"] = values.mean()
        for metric in ("lesion_contrast_conventional", "lesion_contrast_truth",
                       "dice_conventional", "dice_truth"):  # fmt: skip
            values = sub[sub["metric"] == metric]["value"]
            row[metric] = values.mean()
            row[f"{metric}_min"] = values.min()
            row[f"{metric}_max"] = values.max()
        row["stage1_s"], row["stage2_s"] = timing.get(image, (np.nan, np.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def markdown(summary: pd.DataFrame) -> str:
    head = ("| recipe | PSNR ic | GM | WM | CSF | NRMSE ic | lesion contrast (conv. map) | "
            "(truth map) | Dice vs conv. | Dice vs truth | stage 1 s | stage 2 s |")  # fmt: skip
    lines = [head, "|" + " --- |" * 12]
    for r in summary.itertuples(index=False):
        d = r._asdict()

        def span(m, d=d):
            return f"{d[m]:.3f} ({d[m + '_min']:.2f}-{d[m + '_max']:.2f})"

        lines.append(
            f"| {r.recipe} | {r.psnr_intracranial:.2f} | {r.psnr_GM:.2f} | {r.psnr_WM:.2f} | "
            f"{r.psnr_CSF:.2f} | {r.nrmse_intracranial:.3f} | "
            f"{span('lesion_contrast_conventional')} | {span('lesion_contrast_truth')} | "
            f"{span('dice_conventional')} | {span('dice_truth')} | {r.stage1_s:.0f} | "
            f"{r.stage2_s:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, type=Path, help="finished demo run folder")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--recipe", action="append", required=True, metavar="NAME=PRESET")
    parser.add_argument("--stage1-of", help="also score this recipe's stage-1 model")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--train-only", action="store_true", help="train (and cache) only")
    parser.add_argument("--test", nargs="+", help="test subjects (default: the run's metrics)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    # the manifests hold paths relative to the run folder (the workflow's working directory)
    args.run, args.out = args.run.resolve(), args.out.resolve()
    specs = (spec.partition("=") for spec in args.recipe)
    args.recipe = [f"{name}={Path(preset).resolve()}" for name, _, preset in specs]
    os.chdir(args.run)
    metrics = sorted((args.run / "results/metrics").glob("sub-*/sub-*_metrics.tsv"))
    test = args.test or [p.name.split("_")[0].removeprefix("sub-") for p in metrics]
    if not test and not args.train_only:
        raise SystemExit(f"{args.run}: no test subjects (give --test, or run the workflow)")
    log.info("test subjects: %s", test)
    images: dict[str, dict[str, tuple[Path, Path]]] = {s: {} for s in test}
    timing = {}
    for spec in args.recipe:
        name, _, preset = spec.partition("=")
        out = args.out / name.replace(" ", "_")
        out.mkdir(parents=True, exist_ok=True)
        stage1, stage2, s1, s2 = train(args.run, Path(preset), out)
        timing[name] = (s1, s2)
        log.info("%s: stage 1 %.0f s, stage 2 %.0f s", name, s1, s2)
        if args.train_only:
            continue
        pairs = [(name, stage2)]
        if name == args.stage1_of:
            pairs.append(("stage 1 only", stage1))
            timing["stage 1 only"] = (s1, 0.0)
        for label, model in pairs:
            folder = args.out / label.replace(" ", "_") / "flair"
            folder.mkdir(parents=True, exist_ok=True)
            for subject in test:
                images[subject][label] = flair_and_lesions(args.run, subject, model, folder)
    if args.train_only:
        return
    table = pd.concat([score(args.run, s, images[s]) for s in test], ignore_index=True)
    table.to_csv(args.out / "recipes.tsv", sep="\t", index=False)
    summary = summarize(table, timing)
    summary.to_csv(args.out / "summary.tsv", sep="\t", index=False)
    (args.out / "summary.md").write_text(markdown(summary))
    print(markdown(summary))


if __name__ == "__main__":
    main()
