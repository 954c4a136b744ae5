# FLAIR-hyperintensity lesion maps, the same method on synthetic, DL and conventional FLAIR.


def flair_image(wildcards):
    """The FLAIR under test, in synthetic (MDME) space."""
    return flair_image_path(wildcards.image, wildcards.subject)


def override_argument(wildcards):
    """A user-supplied reference lesion mask replaces the conventional FLAIR's map."""
    path = lesion_override(wildcards) if wildcards.image == "conventional" else ""
    return f"--override '{path}'" if path else ""


rule lesions_segment:
    input:
        flair=flair_image,
        mask=synthetic("mask"),
        seg=multiext(
            res("segmentation", "{subject}", ""),
            "label-GM_probseg.nii.gz",
            "label-WM_probseg.nii.gz",
            "label-CSF_probseg.nii.gz",
        ),
    output:
        mask=res("lesions", "{subject}", "desc-{image}_lesions.nii.gz"),
        belief=res("lesions", "{subject}", "desc-{image}_belief.nii.gz"),
    params:
        override=override_argument,
    log:
        "logs/lesions/sub-{subject}_{image}.log",
    conda:
        "../../envs/evaluation.yaml"
    shell:
        "python -m synflair lesions --flair {input.flair} --mask {input.mask} "
        "--gm {input.seg[0]} --wm {input.seg[1]} --csf {input.seg[2]} {params.override} "
        "--out {output.mask} --belief-out {output.belief} > {log} 2>&1"
