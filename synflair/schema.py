"""Check the workflow configuration and subject-sheet rows against their JSON schemas.

Snakemake's ``validate`` reports a violation with the whole schema printed
after it; a user needs the key. :func:`check_against_schema` runs the same
JSON-schema check first and raises one :class:`~synflair.errors.SynflairError`
per problem that names the config key (``config key 'phantom.subjects'``) or
the sheet row, the offending value, and what was expected. Numbers must be
finite: YAML's ``.nan`` and ``.inf`` pass a JSON-schema ``minimum`` (every
comparison with NaN is false), so they are refused here.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from synflair.errors import SynflairError

__all__ = ["check_against_schema", "coerce_scalars", "dotted", "load_schema"]


def load_schema(path: str | os.PathLike) -> dict:
    """Read a JSON schema written as YAML (the workflow's ``workflow/schemas/*.yaml``)."""
    import yaml

    path = Path(path)
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError as error:
        raise SynflairError(f"{path}: schema file missing") from error


def dotted(path) -> str:
    """``['phantom', 'subjects']`` -> ``'phantom.subjects'`` (list indices as ``[i]``)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _describe(error) -> str:
    """One sentence for a jsonschema ValidationError, naming the key and what was expected."""
    where = dotted(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        keys = ", ".join(f"'{dotted([*error.absolute_path, k])}'" for k in unknown)
        return f"unknown config key {keys}; expected keys here: {', '.join(allowed)}"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        key = dotted([*error.absolute_path, missing])
        return f"config key '{key}': missing (required)"
    expected = {
        "type": lambda v: f"a value of type {v}",
        "enum": lambda v: f"one of {v}",
        "minimum": lambda v: f"a number >= {v}",
        "exclusiveMinimum": lambda v: f"a number > {v}",
        "maximum": lambda v: f"a number <= {v}",
        "exclusiveMaximum": lambda v: f"a number < {v}",
        "pattern": lambda v: f"a string matching {v}",
        "minItems": lambda v: f"at least {v} item(s)",
        "maxItems": lambda v: f"at most {v} item(s)",
        "uniqueItems": lambda v: "different items",
    }.get(error.validator)
    wanted = expected(error.validator_value) if expected else error.message
    if schema.get("description"):
        wanted += f" ({schema['description']})"
    key = where or "<top level>"
    return f"config key '{key}': {error.instance!r} is invalid; expected {wanted}"


def _non_finite(instance, path=()):
    """Yield ``(path, value)`` of every NaN or infinite float in a nested dict/list."""
    if isinstance(instance, float) and not math.isfinite(instance):
        yield path, instance
    elif isinstance(instance, dict):
        for key, value in instance.items():
            yield from _non_finite(value, (*path, key))
    elif isinstance(instance, list):
        for index, value in enumerate(instance):
            yield from _non_finite(value, (*path, index))


def check_against_schema(instance: Any, schema: dict, *, what: str = "config") -> None:
    """Validate ``instance`` against ``schema``; raise naming every offending key.

    Parameters
    ----------
    instance : dict
        The configuration (or one subject-sheet row).
    schema : dict
        A JSON schema (draft 2020-12).
    what : str
        ``"config"`` (messages name ``config key '...'``) or where a sheet row is,
        e.g. ``"subjects.tsv, line 3"`` (messages name the column).

    Raises
    ------
    SynflairError
        Listing the problems on one line, ``;``-separated, each naming its key.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))
    lines = [_describe(e) for e in errors]
    lines += [
        f"config key '{dotted(path) or '<top level>'}': {value!r} is invalid; "
        "expected a finite number"
        for path, value in _non_finite(instance)
    ]
    if not lines:
        return
    message = "; ".join(dict.fromkeys(lines))
    if what != "config":
        message = f"{what}: " + message.replace("config key", "column")
    raise SynflairError(message)


def _scalar(text: str, types: set[str]):
    """``text`` as the first of ``types`` it spells, or ``text`` itself."""
    lowered = text.strip().lower()
    if "boolean" in types and lowered in ("true", "false"):
        return lowered == "true"
    if "null" in types and lowered in ("null", "~", "none", ""):
        return None
    if "integer" in types:
        try:
            return int(text.strip())
        except ValueError:
            pass
    if "number" in types:
        try:
            return float(text.strip())
        except ValueError:
            pass
    return text


def coerce_scalars(instance: Any, schema: dict) -> Any:
    """Turn strings into the integers, numbers, booleans or nulls the schema asks for.

    Snakemake's ``--config`` reads a nested override such as
    ``--config phantom='{preset: demo, subjects: 8, seed: 1}'`` with every
    scalar a string. Where the schema expects a non-string type at that key, a
    string that spells such a value is converted; anything else is left for
    :func:`check_against_schema` to report. Keys whose schema allows strings
    are never touched.

    Parameters
    ----------
    instance : dict, list or scalar
        The configuration (modified in place where it is a dict or list).
    schema : dict
        Its JSON schema.

    Returns
    -------
    The converted instance.
    """
    if not isinstance(schema, dict):
        return instance
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        for key, value in instance.items():
            if key in properties:
                instance[key] = coerce_scalars(value, properties[key])
        return instance
    if isinstance(instance, list):
        items = schema.get("items")
        return [coerce_scalars(v, items) for v in instance] if isinstance(items, dict) else instance
    if isinstance(instance, str):
        types = schema.get("type", [])
        types = {types} if isinstance(types, str) else set(types)
        if types and "string" not in types:
            return _scalar(instance, types)
    return instance
