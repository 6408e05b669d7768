"""Run the suites in a child pytest against a reference started here, wrapped as a test wants.

For the project's tests of the harness's behaviour as a user sees it (verdicts, categories,
deviations, parallel runs): the reference is an external target, configured through the
environment as a team's tenant is, and any ASGI wrapper (a catalog fault's `apply`, or a
wrapper written in the test) sits in front of it. The fault catalog's own runs go through
tests/faults/runner.py instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from reference.config import ReferenceConfig
from reference.server import start_reference
from tests.conftest import target_environment
from tests.faults.runner import SuiteRun

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SUITE_ARGS: tuple[str, ...] = ("--gate", "observed")

Wrap = Callable[[Any], Any]


def run_suites(
    workdir: Path,
    wrap: Wrap | None = None,
    suite_args: Sequence[str] = DEFAULT_SUITE_ARGS,
    timeout: float = 600,
) -> SuiteRun:
    """Start a reference (wrapped), run the suites at it, collect per-test outcomes."""
    workdir.mkdir(parents=True, exist_ok=True)
    record = workdir / "record.json"
    config = ReferenceConfig(hash_profile="fast", test_routes=True)
    with start_reference(config, host="127.0.0.1", port=0, app_wrapper=wrap) as ref:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PINGONE_")}
        env.update(target_environment(ref))
        command = [
            sys.executable,
            "-m",
            "pytest",
            "suites",
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
            command, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
        )
        output = (done.stdout + done.stderr).replace(ref.client_secret, "[REDACTED]")
    records = json.loads(record.read_text()) if record.exists() else {}
    return SuiteRun(done.returncode, records, output)
