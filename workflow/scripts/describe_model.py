"""Write results/infer/model.json: what the applied model is and what it was trained on.

Read from the model file itself (synflair.models.modelfile), so that the report, which runs
without torch, can say which model made the DL-FLAIR.
"""

import sys

from synflair.atomic import write_json
from synflair.errors import SynflairError
from synflair.models.modelfile import load_model

sys.stderr = open(snakemake.log[0], "w")
try:
    model = load_model(snakemake.input.model)
except SynflairError as error:
    print(f"synflair: error: {error}", file=sys.stderr)
    raise SystemExit(2) from None
write_json(snakemake.output[0], model.summary())
