# GM/WM/CSF segmentation inside the intracranial mask (FSL FAST or ANTs Atropos) of the R1 map
# or, as in the paper, the synthetic T1w (config segmentation.image).


rule segment_tissues:
    input:
        image=segmentation_image,
        mask=synthetic("mask"),
    output:
        multiext(
            res("segmentation", "{subject}", ""),
            "dseg.nii.gz",
            "label-CSF_probseg.nii.gz",
            "label-GM_probseg.nii.gz",
            "label-WM_probseg.nii.gz",
            "dseg.json",
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
        "--image {input.image:q} --mask {input.mask:q} --out {params.out:q} "
        "--prefix sub-{wildcards.subject:q} --backend {params.backend:q} > {log:q} 2>&1"
