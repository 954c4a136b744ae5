"""Write the training manifest (one row per training subject) for `synflair train`."""

import sys

import pandas as pd

from synflair.atomic import write_tsv

sys.stderr = open(snakemake.log[0], "w")
inputs = snakemake.input
manifest = pd.DataFrame(
    {
        "subject": snakemake.params.subjects,
        "mdme": inputs.mdme,
        "mask": inputs.mask,
        "target": inputs.target,
        "conventional": inputs.conventional,
    }
)
write_tsv(snakemake.output[0], manifest)
