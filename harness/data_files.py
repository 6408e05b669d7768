"""The project's data files in `schemas/` and the JSON Schemas that say what a valid file is.

`requirements.yaml`, `operations.yaml` and `untested.yaml` each have a schema beside them
(`<name>.schema.json`, Draft 2020-12). Loaders read a file with `load_checked`, which refuses it
with every schema error at once; they keep only the rules a schema cannot state (unique ids,
names that must exist elsewhere).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"
# libyaml's safe loader where PyYAML was built with it (the pinned wheels are): the same
# documents about ten times faster than the pure-Python one, which every run paid for several
# times over (openapi.yaml alone was parsed by four modules at start-up).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DataFileError(ValueError):
    """A data file does not match its schema."""


def schema_errors(document: Any, schema_path: Path) -> list[str]:
    """Every error of `document` against the schema file, as `at $.path: message`."""
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    found = sorted(validator.iter_errors(document), key=lambda error: list(map(str, error.path)))
    return [f"at {error.json_path}: {error.message}" for error in found]


def read_yaml(path: Path) -> Any:
    """The YAML document at `path`, read with the safe loader."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)  # noqa: S506


def load_checked(path: Path, schema_path: Path) -> Any:
    """The YAML document at `path`; DataFileError lists every error against `schema_path`."""
    document = read_yaml(path)
    errors = schema_errors(document, schema_path)
    if errors:
        listed = "\n  ".join(errors)
        raise DataFileError(f"{path.name} does not match {schema_path.name}:\n  {listed}")
    return document
