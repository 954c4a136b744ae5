"""Write results/<stage>/dataset_description.json (BIDS derivatives)."""

import sys

from synflair.bids import write_dataset_description

sys.stderr = open(snakemake.log[0], "w")
write_dataset_description(snakemake.output[0].rsplit("/", 1)[0], snakemake.wildcards.stage)
