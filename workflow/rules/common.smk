# Config and subject-sheet validation, the subject lists, and input functions.
import os
import sys
import dataclasses
from pathlib import Path

from snakemake.utils import validate

sys.path.insert(0, workflow.basedir)
# Jobs import the synflair library of this checkout (also inside conda envs and on SLURM nodes).
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, [workflow.basedir, os.environ.get("PYTHONPATH")])
    )
)

from synflair.cohort import (  # noqa: E402
    check_config_references,
    phantom_subjects,
    read_bids,
    read_sheet,
)
from synflair.bids import STAGES as BIDS_STAGES  # noqa: E402
from synflair.errors import SynflairError  # noqa: E402
from synflair.schema import (  # noqa: E402
    check_against_schema,
    coerce_scalars,
    load_schema,
)

SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"
CONFIG_SCHEMA = load_schema(SCHEMAS / "config.schema.yaml")
# Nested --config overrides arrive with every scalar a string: type them as the schema says.
coerce_scalars(config, CONFIG_SCHEMA)
# A message naming the key first (Snakemake's validate prints the whole schema) ...
check_against_schema(config, CONFIG_SCHEMA)
# ... then Snakemake's own validation, which records the schema in the run's metadata.
validate(config, schema="../schemas/config.schema.yaml")

PHANTOM_DIR = "resources/phantom"
# Apply a trained model (config key `model`): no training, every subject is a test subject, no
# conventional FLAIR needed, no evaluation against it (config/README.md, "Reusing a trained model").
MODEL = config.get("model") or None
APPLY = MODEL is not None
# results/<stage> folders that are BIDS-derivatives datasets (synflair.bids.STAGES); applying a
# model makes only the first three
DERIVATIVE_STAGES = ["nifti", "quantify", "infer"] if APPLY else list(BIDS_STAGES)


def _load_subjects():
    if config["cohort"] == "phantom":
        subjects = phantom_subjects(
            PHANTOM_DIR,
            config["phantom"]["subjects"],
            config["phantom"].get("test_fraction", 0.25),
        )
        return (
            [dataclasses.replace(s, split="test") for s in subjects]
            if APPLY
            else subjects
        )
    if config["cohort"] == "bids":
        if not config.get("bids"):
            raise SynflairError("config key 'bids': required when cohort is 'bids'")
        return read_bids(config["bids"], config.get("bids_split"), apply=APPLY)
    if not config.get("sheet"):
        raise SynflairError("config key 'sheet': required when cohort is 'sheet'")
    return read_sheet(
        config["sheet"], load_schema(SCHEMAS / "subjects.schema.yaml"), apply=APPLY
    )


SUBJECTS = {s.subject: s for s in _load_subjects()}
check_config_references(config, SUBJECTS)
TRAIN = sorted(s for s, v in SUBJECTS.items() if v.split == "train")
TEST = sorted(s for s, v in SUBJECTS.items() if v.split == "test")
IS_PHANTOM = config["cohort"] == "phantom"
# FLAIRs under test: synthetic, DL (stage 2), DL (stage 1); applying a model: synthetic and DL
IMAGES = ["synthetic", "dl"] if APPLY else ["synthetic", "dl", "stage1"]


wildcard_constraints:
    subject="[A-Za-z0-9]+",
    image="synthetic|dl|stage1|conventional",
    stage="1|2",


def subject_dir(wildcards):
    """The phantom subject folder that holds the DICOM (phantom cohort only)."""
    return f"{PHANTOM_DIR}/sub-{wildcards.subject}"


def get_mdme_dicom(wildcards):
    """Input for MDME conversion: the phantom subject folder, or the sheet's DICOM folders,
    study folder or NIfTI (with its sidecar)."""
    if IS_PHANTOM:
        return subject_dir(wildcards)
    return SUBJECTS[wildcards.subject].inputs("mdme")


def get_flair_dicom(wildcards):
    """Input for FLAIR conversion."""
    if IS_PHANTOM:
        return subject_dir(wildcards)
    return SUBJECTS[wildcards.subject].inputs("flair")


# Shell commands quote every interpolated value ({input:q}, {params.x:q}; a list is quoted
# item by item), so that sheet paths reach the jobs as data, whatever characters they hold.
# Optional arguments are lists of command-line words: [] or ["--option", value].


def conversion_source(kind):
    """``synflair dicom2nifti`` source words of a subject's ``kind`` (mdme, flair):
    ``--dicom DIR...``, ``--study DIR [--series X]`` or ``--nifti FILE``."""
    return lambda wildcards: SUBJECTS[wildcards.subject].source(kind)


def delay_argument(wildcards):
    """``--delay-attribute NAME`` (config ``conversion.delay_attribute``) for DICOM sources."""
    name = config["conversion"]["delay_attribute"]
    nifti = SUBJECTS[wildcards.subject].source("mdme")[0] == "--nifti"
    return ["--delay-attribute", name] if name and not nifti else []


def get_lesion_truth(wildcards):
    """The phantom's true lesion mask (phantom cohort), else nothing."""
    if IS_PHANTOM:
        return subject_dir(wildcards)
    return []


def lesion_override(wildcards):
    """A user-supplied lesion mask for this subject, or ''."""
    label = wildcards.subject
    path = config["lesions"]["override"].get(label) or config["lesions"][
        "override"
    ].get(f"sub-{label}")
    return path or SUBJECTS[label].lesion_mask or ""


def res(stage, subject, suffix):
    """BIDS-derivatives path: results/<stage>/sub-<id>/sub-<id>_<suffix>."""
    return f"results/{stage}/sub-{subject}/sub-{subject}_{suffix}"


def synthetic_path(kind, subject):
    """Our synthetic image (flair, t1w, mask) or, if configured and present, the vendor's."""
    if (
        config["quantification"]["use_vendor"][kind]
        and kind in SUBJECTS[subject].vendor
    ):
        return res("nifti", subject, f"desc-vendor_{kind}.nii.gz")
    suffix = {
        "flair": "desc-synthetic_FLAIR.nii.gz",
        "t1w": "desc-synthetic_T1w.nii.gz",
        "mask": "desc-intracranial_mask.nii.gz",
    }[kind]
    return res("quantify", subject, suffix)


def segmentation_image(wildcards):
    """The image segmented into GM/WM/CSF: the R1 map or the synthetic T1w (config)."""
    if config["segmentation"]["image"] == "r1map":
        return res("quantify", wildcards.subject, "R1map.nii.gz")
    return synthetic_path("t1w", wildcards.subject)


def synthetic(kind):
    """Input function for :func:`synthetic_path`."""
    return lambda wildcards: synthetic_path(kind, wildcards.subject)


def flair_image_path(image, subject):
    """The FLAIR ``image`` (synthetic, dl, stage1, conventional) in synthetic (MDME) space."""
    if image == "synthetic":
        return synthetic_path("flair", subject)
    if image == "conventional":
        return res("registration", subject, "space-synthetic_FLAIR.nii.gz")
    return res("infer", subject, f"desc-{image}_FLAIR.nii.gz")


def segmented_natively(wildcards):
    """Whether this lesion job segments the conventional FLAIR on its own grid."""
    return (
        wildcards.image == "conventional"
        and config["lesions"]["conventional_space"] == "native"
    )


def lesion_flair(wildcards):
    """The FLAIR the lesion job segments: in synthetic space, or the conventional FLAIR on its
    own grid (``lesions.conventional_space: native``)."""
    if segmented_natively(wildcards):
        return res("nifti", wildcards.subject, "FLAIR.nii.gz")
    return flair_image_path(wildcards.image, wildcards.subject)


def lesion_transform_input(wildcards):
    """The registration transform, when the conventional FLAIR is segmented on its own grid."""
    if segmented_natively(wildcards):
        return [
            res("registration", wildcards.subject, "from-FLAIR_to-synthetic_xfm.json")
        ]
    return []


def transform_argument(wildcards, input):
    return ["--transform", input.transform[0]] if input.transform else []


def lesion_override_input(wildcards):
    """The override mask as an input, so that editing it reruns what depends on it."""
    path = lesion_override(wildcards) if wildcards.image == "conventional" else ""
    return [path] if path else []


def override_argument(wildcards):
    """A user-supplied reference lesion mask replaces the conventional FLAIR's map."""
    path = lesion_override(wildcards) if wildcards.image == "conventional" else ""
    return ["--override", path] if path else []


def model_file(wildcards):
    """The model that makes this image: the configured one when applying a model, else this
    run's stage 2 (dl) or stage 1 (stage1)."""
    if APPLY:
        return MODEL
    return "results/train/stage-{}/model.pt".format(
        "2" if wildcards.image == "dl" else "1"
    )


def report_inputs(wildcards):
    """Everything the report shows, per test subject and for the cohort."""
    if APPLY:
        return applied_report_inputs()
    inputs = {
        "table": "results/stats/table.tsv",
        "tests": "results/stats/tests.tsv",
        "normality": "results/stats/normality.tsv",
        "metrics": expand(res("metrics", "{subject}", "metrics.tsv"), subject=TEST),
        "losses": expand("results/train/stage-{stage}/losses.tsv", stage=["1", "2"]),
    }
    for subject in TEST:
        for image in [*IMAGES, "conventional"]:
            inputs[f"flair_{image}_{subject}"] = flair_image_path(image, subject)
            inputs[f"lesions_{image}_{subject}"] = res(
                "lesions", subject, f"desc-{image}_lesions.nii.gz"
            )
        inputs[f"mask_{subject}"] = synthetic_path("mask", subject)
        inputs[f"dseg_{subject}"] = res("segmentation", subject, "dseg.nii.gz")
        inputs[f"t1w_{subject}"] = synthetic_path("t1w", subject)
    # what actually ran (device; backends with "auto" resolved), for the methods paragraph
    inputs["run"] = "results/train/stage-2/model.json"
    inputs["xfm"] = res("registration", TEST[0], "from-FLAIR_to-synthetic_xfm.json")
    inputs["dseg_json"] = res("segmentation", TEST[0], "dseg.json")
    if IS_PHANTOM:
        inputs["truth"] = expand(
            res("qc", "{subject}", "truth.tsv"), subject=sorted(SUBJECTS)
        )
    return inputs


def applied_report_inputs():
    """Applying a model: the model's description and each subject's synthetic and DL-FLAIR."""
    inputs = {"model": "results/infer/model.json"}
    for subject in TEST:
        for image in IMAGES:
            inputs[f"flair_{image}_{subject}"] = flair_image_path(image, subject)
        inputs[f"mask_{subject}"] = synthetic_path("mask", subject)
    return inputs
