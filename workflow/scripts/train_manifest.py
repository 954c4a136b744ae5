"""Write a training (or validation) manifest, one row per subject, for `synflair train`.

Both have the column lesions (the conventional FLAIR's automatic lesion map: the
training recipe's objective.lesion_share draws from it, model selection scores lesion
contrast on it); the validation manifest also has dseg (tissue labels), for that score. Both have
conventional_sidecar (the conventional FLAIR's JSON: its TE/TI/TR are recorded in the model)
and synthetic (the synthetic FLAIR: an input of data.relative recipes).
"""

import sys

import pandas as pd

from synflair.atomic import write_tsv

sys.stderr = open(snakemake.log[0], "w")
inputs = snakemake.input
columns = {"subject": snakemake.params.subjects}
names = ("mdme", "mask", "synthetic", "target", "conventional", "conventional_sidecar", "lesions")
for name in (*names, "dseg"):
    if name in inputs.keys():
        columns[name] = list(getattr(inputs, name))
write_tsv(snakemake.output[0], pd.DataFrame(columns))
