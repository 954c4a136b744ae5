# The built-in digital phantom cohort (cohort: phantom): DICOM plus ground truth per subject.


rule phantom_subject:
    output:
        directory(f"{PHANTOM_DIR}/sub-{{subject}}"),
    log:
        "logs/phantom/sub-{subject}.log",
    conda:
        "../../envs/phantom.yaml"
    params:
        root=lambda wildcards, output: Path(output[0]).parent,
        preset=config["phantom"]["preset"],
        subjects=config["phantom"]["subjects"],
        seed=config["phantom"]["seed"],
    shell:
        "python -m synflair phantom --out {params.root:q} --subjects {params.subjects:q} "
        "--seed {params.seed:q} --preset {params.preset:q} --only {wildcards.subject:q} "
        "> {log:q} 2>&1"
