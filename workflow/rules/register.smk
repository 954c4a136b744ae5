# Conventional FLAIR -> synthetic FLAIR space (FSL FLIRT or ANTs), rigid by default.


rule register_flair:
    input:
        moving=res("nifti", "{subject}", "FLAIR.nii.gz"),
        fixed=synthetic("flair"),
    output:
        image=res("registration", "{subject}", "space-synthetic_FLAIR.nii.gz"),
        xfm=res("registration", "{subject}", "from-FLAIR_to-synthetic_xfm.json"),
        itk=res(
            "registration", "{subject}", "from-FLAIR_to-synthetic_mode-image_xfm.txt"
        ),
        flirt=res(
            "registration", "{subject}", "from-FLAIR_to-synthetic_desc-flirt_xfm.mat"
        ),
    log:
        "logs/registration/sub-{subject}.log",
    conda:
        "../../envs/registration.yaml"
    # one ITK thread: ANTs' multi-threaded registration differs from run to run (about 0.1
    # degree), one thread gives the same transform every time; subjects run in parallel
    threads: 1
    params:
        backend=config["registration"]["backend"],
        dof=config["registration"]["dof"],
        interp=config["registration"].get("interpolation", "linear"),
    shell:
        "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS={threads} python -m synflair register "
        "--moving {input.moving:q} --fixed {input.fixed:q} --out {output.image:q} "
        "--transform {output.xfm:q} --itk {output.itk:q} --flirt {output.flirt:q} "
        "--backend {params.backend:q} --dof {params.dof:q} --interp {params.interp:q} "
        "> {log:q} 2>&1"
