"""Score one phantom subject's outputs against the phantom's ground truth."""

import sys
from pathlib import Path

from synflair.atomic import write_tsv
from synflair.phantom_qc import phantom_checks

sys.stderr = open(snakemake.log[0], "w")
inputs = snakemake.input
subject = snakemake.wildcards.subject
t1map, t2map, b1map = inputs.maps
table = phantom_checks(
    subject,
    Path(inputs.truth) / "truth",
    t1map=t1map,
    t2map=t2map,
    b1map=b1map,
    mask=inputs.mask,
    transform=inputs.xfm,
    dseg=inputs.dseg,
    lesions=inputs.lesions,
)
write_tsv(snakemake.output[0], table)
