"""Runs the conformance suites, in a child pytest, against a reference started here.

The child run treats the reference as an external target (URLs, environment id and client
credentials through the environment), exactly as a team pointing the suite at a tenant would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reference.config import ReferenceConfig
from reference.server import start_reference
from tests.faults.rewriting import ASGIApp

REPO = Path(__file__).resolve().parents[2]
SUITES = "suites"
# Every level gates in a fault run: a fault caught only by a SHOULD or OBSERVED check still has
# to turn the run red, or the catalog could not tell a caught fault from a missed one.
DEFAULT_SUITE_ARGS: tuple[str, ...] = ("--gate", "observed")


@dataclass(frozen=True)
class SuiteRun:
    """What one child run of the suites produced."""

    exit_code: int
    records: dict[str, dict[str, object]]
    output: str

    def outcomes(self, outcome: str) -> set[str]:
        """Node ids of the tests that ended with `outcome`."""
        return {node for node, rec in self.records.items() if rec["outcome"] == outcome}

    def failed_requirements(self) -> set[str]:
        """Requirement ids covered by at least one failed test."""
        failed: set[str] = set()
        for rec in self.records.values():
            if rec["outcome"] == "failed":
                failed.update(str(r) for r in rec["requirements"])  # type: ignore[attr-defined]
        return failed


def run_suites(
    workdir: Path,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
    suite_args: Sequence[str] = DEFAULT_SUITE_ARGS,
    timeout: float = 600,
) -> SuiteRun:
    """Start a reference (optionally wrapped by a fault), run the suites at it, collect outcomes."""
    record = workdir / "record.json"
    config = ReferenceConfig(hash_profile="fast", test_routes=True)
    with start_reference(config, host="127.0.0.1", port=0, app_wrapper=wrap) as ref:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PINGONE_")}
        env.update(
            PINGONE_API_URL=ref.api_base_url,
            PINGONE_AUTH_URL=ref.auth_base_url,
            PINGONE_ENV_ID=ref.env_id,
            PINGONE_CLIENT_ID=ref.client_id,
            PINGONE_CLIENT_SECRET=ref.client_secret,
            PINGONE_TEST_ROUTES_URL=f"{ref.auth_base_url}/__reference",
        )
        command = [
            sys.executable,
            "-m",
            "pytest",
            SUITES,
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.faults.recorder",
            "--fault-record",
            str(record),
            "--summary-dir",
            str(workdir),
            *suite_args,
        ]
        done = subprocess.run(
            command,
            check=False,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        output = done.stdout + done.stderr
        for secret in (ref.client_secret,):
            output = output.replace(secret, "[REDACTED]")
    records = json.loads(record.read_text()) if record.exists() else {}
    return SuiteRun(done.returncode, records, output)
