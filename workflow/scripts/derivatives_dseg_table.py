"""Write results/segmentation/dseg.tsv, the lookup table of every *_dseg.nii.gz below it."""

import sys

from synflair.bids import write_dseg_table

sys.stderr = open(snakemake.log[0], "w")
write_dseg_table(snakemake.output[0].rsplit("/", 1)[0])
