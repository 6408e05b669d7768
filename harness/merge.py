"""Join the results of CI shards (`--shard K/N`) into one summary, one verdict, one report.

    python -m harness.merge --out reports shard-1/ shard-2/ …

Each shard folder is a shard job's `reports/` (its `conformance-summary.json` and, when present,
`allure-results/`). Every shard collected every test and ran its share, so a test's outcome is
the one the shard that ran it saw; the verdict is then decided once, from the catalog, as a
single run would have. The shards must agree on gate and claimed classes. Allure results are
copied into `<out>/allure-results` for one HTML report (`make merge` builds it).
Exit status: 0 when the merged run passes, 1 when it fails or a shard has no verdict, 14 for
INCOMPLETE under --require-complete, 2 for unusable input.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from harness.config import ExitCode
from harness.grading import ItemRecord, decide, merge_records
from harness.redaction import Redactor
from harness.requirements import RequirementCatalog
from harness.summary import (
    ENVIRONMENT_PROPERTIES,
    INCOMPLETE,
    NO_VERDICT,
    SUMMARY_JSON,
    ConformanceSummary,
    build_summary,
    merge_property_runs,
    no_verdict_summary,
    write_reports,
)

RESULTS = "allure-results"


class MergeError(ValueError):
    """The shard folders cannot be merged."""


def _load(folder: Path) -> dict[str, Any]:
    path = folder / SUMMARY_JSON
    if not path.exists():
        raise MergeError(f"{folder}: no {SUMMARY_JSON} (was this shard run?)")
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _same(shards: list[dict[str, Any]], key: str) -> Any:
    values = {json.dumps(shard.get(key), sort_keys=True) for shard in shards}
    if len(values) != 1:
        raise MergeError(f"the shards disagree on {key}: {sorted(values)}")
    return shards[0].get(key)


def merge_summaries(
    shards: list[dict[str, Any]], catalog: RequirementCatalog
) -> ConformanceSummary:
    """One summary from the shards' summaries."""
    if not shards:
        raise MergeError("no shard given")
    gate = _same(shards, "gate")
    conformance = _same(shards, "conformance")
    target = dict(shards[0].get("target") or {})
    unfinished = [shard for shard in shards if shard.get("verdict") == NO_VERDICT]
    if unfinished:
        return no_verdict_summary(
            f"a shard has no verdict: {unfinished[0].get('reason', '?')}",
            1,
            target,
            gate,
            conformance,
        )
    records = merge_records(
        ItemRecord.from_json(test) for shard in shards for test in shard.get("tests", [])
    )
    expired: list[str] = []
    for shard in shards:
        expired += [e for e in shard.get("expired_deviations", []) if e not in expired]
    decision = decide(
        records.values(),
        catalog,
        gate,
        expired_deviations=expired,
        strict_deviations=any(shard.get("strict_deviations") for shard in shards),
    )
    rate_limit = {
        key: sum(float(shard.get("rate_limit", {}).get(key, 0)) for shard in shards)
        for key in ("retries", "waited_seconds", "unavailable_retries")
    }
    return build_summary(
        catalog,
        records.values(),
        decision,
        target,
        conformance,
        rate_limit=rate_limit,
        property_run=merge_property_runs(shard.get("property_run") for shard in shards),
    )


def copy_results(folders: list[Path], out: Path) -> int:
    """Copy every shard's Allure result files into `out/allure-results`; returns the count."""
    destination = out / RESULTS
    destination.mkdir(parents=True, exist_ok=True)
    copied = 0
    for folder in folders:
        source = folder / RESULTS
        if not source.is_dir() or source.resolve() == destination.resolve():
            continue
        for path in source.iterdir():
            if path.name == ENVIRONMENT_PROPERTIES and (destination / path.name).exists():
                continue
            shutil.copy2(path, destination / path.name)
            copied += 1
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.merge", description=__doc__)
    parser.add_argument("shards", nargs="+", type=Path, help="each shard's reports/ folder")
    parser.add_argument("--out", type=Path, required=True, help="where the merged files go")
    parser.add_argument("--require-complete", action="store_true")
    args = parser.parse_args(argv)
    try:
        shards = [_load(folder) for folder in args.shards]
        summary = merge_summaries(shards, RequirementCatalog.load())
    except (MergeError, OSError, ValueError, KeyError) as error:
        sys.stderr.write(f"harness.merge: {error}\n")
        return 2
    copied = copy_results(args.shards, args.out)
    written = write_reports(summary, args.out, Redactor())
    print(f"merged {len(shards)} shard(s): {len(summary.tests)} tests, {copied} Allure files")
    print(f"verdict: {summary.verdict}: {summary.reason}")
    for path in written:
        print(f"written: {path}")
    if not summary.run_passes:
        return 1
    if summary.verdict == INCOMPLETE and args.require_complete:
        return int(ExitCode.INCOMPLETE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
