"""The workflow's config YAML read outside the workflow (``synflair report --configfile``).

Inside the workflow Snakemake reads and checks the configuration (``workflow/rules/common.smk``);
rebuilding the report from a results folder reads it here, checked against the same schema,
so a missing or misspelt key is refused naming it instead of failing in the methods paragraph.
"""

from __future__ import annotations

import os
from pathlib import Path

from synflair.errors import SynflairError
from synflair.schema import check_against_schema, load_schema

__all__ = ["CONFIG_SCHEMA", "read_report_config"]

#: The workflow's config schema (``workflow/schemas/config.schema.yaml`` of this checkout).
CONFIG_SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def read_report_config(path: str | os.PathLike, *, where: str = "config file") -> dict:
    """The workflow configuration YAML at ``path``, checked against the workflow's schema.

    Raises
    ------
    SynflairError
        ``"<where> <path>: ..."`` for a missing file, invalid YAML or not a mapping;
        the schema's message naming the config key otherwise.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise SynflairError(f"{where} {path}: no such file (expected the workflow's config YAML)")
    try:
        config = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        reason = " ".join(str(error).split())  # one line
        raise SynflairError(f"{where} {path}: not valid YAML ({reason})") from error
    if not isinstance(config, dict):
        raise SynflairError(f"{where} {path}: expected a mapping of config keys")
    try:
        check_against_schema(config, load_schema(CONFIG_SCHEMA))
    except SynflairError as error:
        raise SynflairError(f"{where} {path}: {error}") from error
    return config
