# The built-in digital phantom cohort (cohort: phantom): DICOM plus ground truth per subject.


rule phantom_subject:
    output:
        directory(f"{PHANTOM_DIR}/sub-{{subject}}"),
    params:
        root=PHANTOM_DIR,
        preset=config["phantom"]["preset"],
        subjects=config["phantom"]["subjects"],
        seed=config["phantom"]["seed"],
    log:
        "logs/phantom/sub-{subject}.log",
    conda:
        "../../envs/phantom.yaml"
    shell:
        "python -m synflair phantom --out {params.root} --subjects {params.subjects} "
        "--seed {params.seed} --preset {params.preset} --only {wildcards.subject} > {log} 2>&1"
