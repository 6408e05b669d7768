"""Known deviations: reviewed, expiring exceptions for what a named target is known to fail.

`known-deviations.yaml` (its schema: `schemas/catalog/known-deviations.schema.json`) lists
entries of `target`, `requirement` and/or `test`, `reason`, `link`, `expires`. For a run whose
target name matches, each unexpired entry marks its tests `xfail(strict=True)`:
- the test still fails: it is reported as a known deviation (the requirement's verdict says so),
  and does not fail the gate;
- the test passes: pytest reports a strict XPASS, a failed test whose deviation no longer
  reproduces; the gate tolerates it unless `--strict-deviations`;
- an entry past `expires` is not applied (its tests count as usual again) and is reported; it
  fails the run under `--strict-deviations`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.data_files import read_yaml
from harness.operations import SCHEMAS_DIR

SCHEMA_FILE = SCHEMAS_DIR / "catalog" / "known-deviations.schema.json"
DEFAULT_FILE = SCHEMAS_DIR.parent / "known-deviations.yaml"
REASON_PREFIX = "known deviation"


class DeviationFileError(ValueError):
    """The deviations file does not match its schema."""


@dataclass(frozen=True)
class Deviation:
    """One entry of the deviations file."""

    target: str
    reason: str
    link: str
    expires: date
    requirement: str | None = None
    test: str | None = None

    @property
    def label(self) -> str:
        """`P1-CT-003` or `test ~ "…"`: what the entry is about."""
        return self.requirement or f'test ~ "{self.test}"'

    def matches(self, nodeid: str, requirements: list[str]) -> bool:
        """True when the test is one this entry names."""
        if self.requirement is not None and self.requirement not in requirements:
            return False
        return self.test is None or self.test in nodeid

    def xfail_reason(self) -> str:
        """The text pytest and Allure show for a test under this entry."""
        return (
            f"{REASON_PREFIX} of {self.target}: {self.reason} ({self.link}; expires {self.expires})"
        )


def load_deviations(path: Path) -> list[Deviation]:
    """Read and check a deviations file; a missing file means none."""
    if not path.exists():
        return []
    document = read_yaml(path)
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    # YAML reads an unquoted 2027-01-31 as a date; the schema speaks of strings.
    errors = [f"at {e.json_path}: {e.message}" for e in validator.iter_errors(_plain(document))]
    if errors:
        raise DeviationFileError(f"{path.name}: " + "; ".join(errors))
    return [_deviation(entry) for entry in document["deviations"]]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _deviation(entry: dict[str, Any]) -> Deviation:
    expires = entry["expires"]
    return Deviation(
        target=str(entry["target"]),
        reason=str(entry["reason"]),
        link=str(entry["link"]),
        expires=expires if isinstance(expires, date) else date.fromisoformat(str(expires)),
        requirement=entry.get("requirement"),
        test=entry.get("test"),
    )


@dataclass
class DeviationBook:
    """The entries that concern this run's target, split into applied and expired."""

    target_name: str
    active: list[Deviation]
    expired: list[Deviation]

    @classmethod
    def for_target(
        cls, deviations: list[Deviation], target_name: str, today: date | None = None
    ) -> DeviationBook:
        """The entries for `target_name`; those past their date go to `expired`."""
        today = today or date.today()
        mine = [d for d in deviations if d.target == target_name]
        return cls(
            target_name=target_name,
            active=[d for d in mine if d.expires >= today],
            expired=[d for d in mine if d.expires < today],
        )

    def apply(self, item: pytest.Item, requirements: list[str]) -> Deviation | None:
        """Mark the test strict xfail when an active entry names it; returns that entry."""
        for deviation in self.active:
            if deviation.matches(item.nodeid, requirements):
                item.add_marker(pytest.mark.xfail(strict=True, reason=deviation.xfail_reason()))
                return deviation
        return None
