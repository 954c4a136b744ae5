# synflair: raw synthetic-MRI (MDME) DICOM -> DL-improved synthetic FLAIR -> the paper's evaluation.
# Hagiwara et al., AJNR 2019;40:224-230. See README.md and config/README.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/phantom.smk"
include: "workflow/rules/convert.smk"
include: "workflow/rules/quantify.smk"
include: "workflow/rules/preprocess.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/infer.smk"
include: "workflow/rules/register.smk"
include: "workflow/rules/segment.smk"
include: "workflow/rules/lesions.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/derivatives.smk"


rule all:
    default_target: True
    input:
        "results/report.html",
        expand("results/{stage}/dataset_description.json", stage=DERIVATIVE_STAGES),
        # applying a model (config key `model`) segments nothing
        [] if APPLY else "results/segmentation/dseg.tsv",
