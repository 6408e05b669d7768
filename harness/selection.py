"""Which suite tests a run keeps: by claimed conformance class, by requirement, by level.

- A test's conformance class is its suite folder (`suites/contract/…` is the contract class);
  `suites/property/` belongs to `full` only. `--conformance contract,security` keeps those two.
- `--requirement P1-CHECK` (repeatable) keeps the tests naming an id with that prefix.
- `--shard K/N` keeps this CI job's share: a test belongs to shard crc32(node id) mod N + 1, the
  same on every machine and run; `python -m harness.merge` joins the shards' results again.
- Every test is marked with the levels of its requirements (`-m must`, `-m "not observed"`),
  with its class (`-m contract`), and `-k P1-CHECK-002` matches its requirement ids.
Left-out tests are reported as deselected, with the reason the summary shows.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.requirements import CONFORMANCE_CLASSES, FULL, RequirementCatalog
from harness.summary import OUTSIDE_CLASS as OUTSIDE_CLASS_REASON

__all__ = [
    "OUTSIDE_CLASS_REASON",
    "Selection",
    "claimed_classes",
    "mark_item",
    "parse_shard",
    "shard_of",
    "suite_of",
]

SUITES_DIR = "suites"
LEVEL_MARKERS = ("must", "should", "observed")
# Suite folders that are no conformance class of their own: kept only by `full`.
FULL_ONLY = ("property",)


def claimed_classes(text: str) -> frozenset[str]:
    """The classes `--conformance` names; `full` is all of them. UsageError for unknown names.

    `property` (a suite of its own, no conformance class) may be named too, to run only it.
    """
    names = {part.strip() for part in text.split(",") if part.strip()} - set(FULL_ONLY)
    if not names and not set(_names(text)) & set(FULL_ONLY):
        raise pytest.UsageError("--conformance names no class")
    unknown = sorted(names - {*CONFORMANCE_CLASSES, FULL})
    if unknown:
        raise pytest.UsageError(
            f"--conformance: unknown class {', '.join(unknown)} "
            f"(known: {', '.join(CONFORMANCE_CLASSES)}, {FULL})"
        )
    return frozenset(CONFORMANCE_CLASSES) if FULL in names else frozenset(names)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def suite_of(item: pytest.Item, rootpath: Path) -> str | None:
    """The suite folder of a test (`contract`, `behaviour`, …), None outside `suites/`."""
    path = Path(str(item.path))
    root = rootpath / SUITES_DIR
    if not path.is_relative_to(root):
        return None
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else None


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """`2/4` as (2, 4); UsageError unless 1 <= K <= N."""
    if text is None:
        return None
    parts = text.split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise pytest.UsageError(f"--shard {text!r}: expected K/N, e.g. 2/4")
    index, count = (int(p) for p in parts)
    if not 1 <= index <= count:
        raise pytest.UsageError(f"--shard {text!r}: K must be between 1 and N")
    return index, count


def shard_of(nodeid: str, count: int) -> int:
    """The shard (1…count) a test belongs to; stable across machines and Python runs."""
    return zlib.crc32(nodeid.encode("utf-8")) % count + 1


@dataclass(frozen=True)
class Selection:
    """The run's selection options, checked against the catalog."""

    classes: frozenset[str]
    full: bool
    prefixes: tuple[str, ...]
    suites: frozenset[str] = frozenset()  # FULL_ONLY suites named on their own (property)
    shard: tuple[int, int] | None = None

    @classmethod
    def build(
        cls,
        conformance: str,
        prefixes: Iterable[str],
        catalog: RequirementCatalog,
        shard: str | None = None,
    ) -> Selection:
        """Check the options; a requirement filter that matches no id is a usage error."""
        classes = claimed_classes(conformance)
        full = FULL in {p.strip() for p in conformance.split(",")}
        wanted = tuple(p.strip() for p in prefixes if p.strip())
        ids = [r.id for r in catalog]
        unmatched = [p for p in wanted if not any(rid.startswith(p) for rid in ids)]
        if unmatched:
            raise pytest.UsageError(
                f"--requirement {', '.join(unmatched)}: no requirement id starts with it "
                "(see schemas/requirements.yaml)"
            )
        named = frozenset(_names(conformance)) & frozenset(FULL_ONLY)
        return cls(
            classes=classes,
            full=full,
            prefixes=wanted,
            shard=parse_shard(shard),
            suites=named,
        )

    def keeps_class(self, suite: str | None) -> bool:
        """True when a test of this suite folder belongs to a claimed class."""
        if suite is None:
            return True
        if suite in FULL_ONLY:
            return self.full or suite in self.suites
        return suite in self.classes or suite not in CONFORMANCE_CLASSES

    def keeps_shard(self, nodeid: str) -> bool:
        """True when no shard is given or the test is in this run's shard."""
        return self.shard is None or shard_of(nodeid, self.shard[1]) == self.shard[0]

    def keeps_requirements(self, ids: Iterable[str]) -> bool:
        """True when no filter is given or one of the ids matches a filter."""
        if not self.prefixes:
            return True
        return any(rid.startswith(p) for rid in ids for p in self.prefixes)


def mark_item(item: pytest.Item, suite: str | None, ids: list[str], levels: set[str]) -> None:
    """Give a test its level and class markers, and its requirement ids as -k keywords."""
    for level in sorted(levels):
        item.add_marker(level)
    if suite in CONFORMANCE_CLASSES or suite in FULL_ONLY:
        item.add_marker(suite)
    item.extra_keyword_matches.update(ids)
