# GM/WM/CSF segmentation of the skull-stripped synthetic T1w (FSL FAST or ANTs Atropos).


rule segment_tissues:
    input:
        t1w=synthetic("t1w"),
        mask=synthetic("mask"),
    output:
        multiext(
            res("segmentation", "{subject}", ""),
            "dseg.nii.gz",
            "label-CSF_probseg.nii.gz",
            "label-GM_probseg.nii.gz",
            "label-WM_probseg.nii.gz",
        ),
    log:
        "logs/segmentation/sub-{subject}.log",
    conda:
        "../../envs/segmentation.yaml"
    threads: 2
    params:
        out=lambda wc: f"results/segmentation/sub-{wc.subject}",
        backend=config["segmentation"]["backend"],
    shell:
        "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS={threads} python -m synflair segment "
        "--t1w {input.t1w} --mask {input.mask} --out {params.out} "
        "--prefix sub-{wildcards.subject} --backend {params.backend} > {log} 2>&1"
