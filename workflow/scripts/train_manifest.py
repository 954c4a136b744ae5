"""Write a training (or validation) manifest, one row per subject, for `synflair train`.

Both have the column lesions (the conventional FLAIR's automatic lesion map: the
training recipe's objective.lesion_share draws from it, model selection scores lesion
contrast on it); the validation manifest also has dseg (tissue labels), for that score. Both have
conventional_sidecar (the conventional FLAIR's JSON: its TE/TI/TR are recorded in the model).
"""

import sys

import pandas as pd

from synflair.atomic import write_tsv

sys.stderr = open(snakemake.log[0], "w")
inputs = snakemake.input
columns = {"subject": snakemake.params.subjects}
for name in ("mdme", "mask", "target", "conventional", "conventional_sidecar", "lesions", "dseg"):
    if name in inputs.keys():
        columns[name] = list(getattr(inputs, name))
write_tsv(snakemake.output[0], pd.DataFrame(columns))
