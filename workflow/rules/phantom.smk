# The built-in digital phantom cohort (cohort: phantom): DICOM plus ground truth per subject.


rule phantom_template:
    # the template anatomy every subject is drawn from, built once (10-13 s) instead of per
    # subject; deleted when every subject is written
    output:
        temp(f"{PHANTOM_DIR}/template.npz"),
    log:
        "logs/phantom/template.log",
    conda:
        "../../envs/phantom.yaml"
    shell:
        "python -m synflair phantom --template {output:q} --template-only > {log:q} 2>&1"


rule phantom_subject:
    input:
        template=f"{PHANTOM_DIR}/template.npz",
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
        "--template {input.template:q} > {log:q} 2>&1"
