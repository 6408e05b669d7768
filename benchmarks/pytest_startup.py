"""Prints the fixed cost of one pytest invocation of the suites, beside its baseline.

Measured in one run, alternating, as the median of N repeats (the machine is shared and noisy):
- baseline: `python -c "import pytest"` (the interpreter and pytest alone);
- suites: `python -m pytest suites --collect-only -q` (plugins, conftest, case files, catalog);
- the same with every installed plugin auto-loaded (`-o addopts=-ra`), as before the suites
  named their plugins;
- bad configuration: `python -m pytest suites -q` against a closed loopback port, which is the
  time a user waits for the one-line "target unreachable" answer.
The figures are printed, never asserted: speed goals live here, not in tests.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PINGONE_")}
    bad_env = dict(
        base_env,
        PINGONE_API_URL=f"http://127.0.0.1:{_closed_port()}/v1",
        PINGONE_ENV_ID="3f9c2c8e-6a4b-4f5e-9d1a-2b7c8e0f1a2b",
        PINGONE_ACCESS_TOKEN="not-a-real-token",
    )
    commands = {
        "import pytest (baseline)": ([sys.executable, "-c", "import pytest"], base_env),
        "pytest suites --collect-only": (
            [
                sys.executable,
                "-m",
                "pytest",
                "suites",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            base_env,
        ),
        "collect-only, autoload (before)": (
            [
                sys.executable,
                "-m",
                "pytest",
                "suites",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                "-o",
                "addopts=-ra",
            ],
            base_env,
        ),
        "bad configuration (exit 11)": (
            [
                sys.executable,
                "-m",
                "pytest",
                "suites",
                "-q",
                "-p",
                "no:cacheprovider",
                "--summary-dir",
                "/tmp/pytest-startup-bench",
            ],
            bad_env,
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, (command, env) in commands.items():
            samples[name].append(_timed(command, env))
    baseline = statistics.median(samples["import pytest (baseline)"])
    print(f"pytest start-up, median of {args.repeats} alternating runs ({os.cpu_count()} CPUs):")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:<30} {median:6.2f} s   {median / baseline:5.1f}x baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
