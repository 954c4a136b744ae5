# BIDS-derivatives metadata of results/<stage>: dataset_description.json, and the dseg.tsv
# lookup table of the tissue label maps (synflair.bids; docs/outputs.md). Tiny metadata
# writers: they run on the submitting host, not as cluster jobs.


localrules:
    derivatives_description,
    derivatives_dseg_table,


rule derivatives_description:
    output:
        "results/{stage}/dataset_description.json",
    log:
        "logs/derivatives/{stage}.log",
    wildcard_constraints:
        stage="|".join(DERIVATIVE_STAGES),
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/derivatives_description.py"


rule derivatives_dseg_table:
    output:
        "results/segmentation/dseg.tsv",
    log:
        "logs/derivatives/dseg.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/derivatives_dseg_table.py"
