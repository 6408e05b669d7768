"""Generated cases per second against the reference: the pytest route beside `st run`, one run.

Starts one reference on loopback, then, against that same server and `schemas/openapi.yaml`:

1. the property suite's generated-request tests
   (`pytest suites/property/test_generated_requests.py`)
   with the quick profile; the cases it sent come from `property-run.json`;
2. `st run schemas/openapi.yaml --url …` with the project's `schemathesis.toml` and hooks, the
   same phases (examples, fuzzing), the same example count and seed; its cases come from its
   JSON report.

Prints cases, wall seconds and cases per second for both, and the ratio. Asserts nothing. The
token, client secret and passwords are never printed (both routes read them from PINGONE_*).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# `st run`'s summary line: "893 generated, 893 passed, 16 skipped".
GENERATED = re.compile(r"(\d+) generated")
sys.path.insert(0, str(ROOT))

from reference.config import ReferenceConfig  # noqa: E402
from reference.server import start_reference  # noqa: E402


def _env(ref: object) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGONE_")}
    env.update(
        PINGONE_API_URL=ref.api_base_url,  # type: ignore[attr-defined]
        PINGONE_AUTH_URL=ref.auth_base_url,  # type: ignore[attr-defined]
        PINGONE_ENV_ID=ref.env_id,  # type: ignore[attr-defined]
        PINGONE_CLIENT_ID=ref.client_id,  # type: ignore[attr-defined]
        PINGONE_CLIENT_SECRET=ref.client_secret,  # type: ignore[attr-defined]
    )
    return env


def pytest_route(env: dict[str, str], workdir: Path, seed: int) -> tuple[int, float]:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites/property/test_generated_requests.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "--summary-dir",
            str(workdir),
            "--property-seed",
            str(seed),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    wall = time.perf_counter() - started
    record = json.loads((workdir / "property-run.json").read_text())
    return int(record["cases"]), wall


def st_route(env: dict[str, str], workdir: Path, seed: int, examples: int) -> tuple[int, float]:
    st = Path(sys.executable).with_name("st")
    started = time.perf_counter()
    done = subprocess.run(
        [
            str(st),
            "run",
            "schemas/openapi.yaml",
            "--url",
            env["PINGONE_API_URL"],
            "--phases",
            "examples,fuzzing",
            "-n",
            str(examples),
            "--seed",
            str(seed),
            "--no-color",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    wall = time.perf_counter() - started
    found = GENERATED.search(done.stdout)
    return (int(found.group(1)) if found else 0), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--examples", type=int, default=6, help="the quick profile's count")
    args = parser.parse_args()
    config = ReferenceConfig(hash_profile="fast", test_routes=True)
    with (
        start_reference(config, host="127.0.0.1", port=0) as ref,
        tempfile.TemporaryDirectory() as tmp,
    ):
        env = _env(ref)
        work = Path(tmp)
        py_cases, py_wall = pytest_route(env, work, args.seed)
        st_cases, st_wall = st_route(env, work, args.seed, args.examples)
    py_rate = py_cases / py_wall if py_wall else 0.0
    st_rate = st_cases / st_wall if st_wall else 0.0
    print(f"{'route':<10} {'cases':>7} {'wall s':>8} {'cases/s':>9}")
    print(f"{'pytest':<10} {py_cases:>7} {py_wall:>8.2f} {py_rate:>9.1f}")
    print(f"{'st run':<10} {st_cases:>7} {st_wall:>8.2f} {st_rate:>9.1f}")
    if st_rate:
        print(f"pytest / st run: {py_rate / st_rate:.2f} (process start-up included in both)")


if __name__ == "__main__":
    main()
