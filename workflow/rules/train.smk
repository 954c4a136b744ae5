# The paper's two training stages (GPU rules; they also run on CPU).
# Training subjects are split into those trained on (FIT) and validation subjects
# (config training.validation_fraction), on which the weights kept are chosen.
from synflair.train.config import DEFAULT_VALIDATION_FRACTION
from synflair.train.validation import validation_subjects

TRAINING = config["training"]
VALIDATION = validation_subjects(
    TRAIN, TRAINING.get("validation_fraction", DEFAULT_VALIDATION_FRACTION)
)
FIT = [s for s in TRAIN if s not in VALIDATION]


# The files of the training and the validation manifest.
MANIFEST_INPUTS = {
    part: {
        "mdme": expand(res("nifti", "{subject}", "mdme.nii.gz"), subject=subjects),
        "mask": [synthetic_path("mask", s) for s in subjects],
        # the input a data.relative recipe's output is relative to
        "synthetic": [synthetic_path("flair", s) for s in subjects],
        "target": expand(
            res("preprocess", "{subject}", "desc-csfsuppressed_FLAIR.nii.gz"),
            subject=subjects,
        ),
        "conventional": expand(
            res("registration", "{subject}", "space-synthetic_FLAIR.nii.gz"),
            subject=subjects,
        ),
        # the conventional FLAIR's TE/TI/TR, recorded in the model file (synflair.models.record)
        "conventional_sidecar": expand(
            res("nifti", "{subject}", "FLAIR.json"), subject=subjects
        ),
        # the conventional FLAIR's automatic lesion maps: objective.lesion_share draws
        # from them in training, and model selection scores lesion contrast on them
        "lesions": expand(
            res("lesions", "{subject}", "desc-conventional_lesions.nii.gz"),
            subject=subjects,
        ),
    }
    for part, subjects in (("fit", FIT), ("validation", VALIDATION))
}


rule train_manifest:
    input:
        **MANIFEST_INPUTS["fit"],
    output:
        "results/train/manifest.tsv",
    log:
        "logs/train/manifest.log",
    conda:
        "../../envs/train.yaml"
    params:
        subjects=FIT,
    script:
        "../scripts/train_manifest.py"


rule train_validation_manifest:
    input:
        **MANIFEST_INPUTS["validation"],
        dseg=expand(res("segmentation", "{subject}", "dseg.nii.gz"), subject=VALIDATION),
    output:
        "results/train/validation.tsv",
    log:
        "logs/train/validation.log",
    conda:
        "../../envs/train.yaml"
    params:
        subjects=VALIDATION,
    script:
        "../scripts/train_manifest.py"


rule train_stage:
    input:
        manifest="results/train/manifest.tsv",
        validation=["results/train/validation.tsv"] if VALIDATION else [],
        preset=TRAINING["preset"],
        init=lambda wc: [] if wc.stage == "1" else "results/train/stage-1/model.pt",
    output:
        model="results/train/stage-{stage}/model.pt",
        run="results/train/stage-{stage}/model.json",
        losses=report(
            "results/train/stage-{stage}/losses.tsv",
            caption="../report/losses.rst",
            category="Training",
        ),
        curve=report(
            "results/train/stage-{stage}/losses.png",
            caption="../report/losses.rst",
            category="Training",
        ),
    log:
        "logs/train/stage-{stage}.log",
    conda:
        "../../envs/train.yaml"
    threads: 4
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=24 * 60,
    params:
        device=TRAINING["device"],
        iterations=TRAINING["iterations"],
    script:
        "../scripts/train.py"
