"""Generated cases per second against the reference: the pytest route beside `st run`, one run.

Starts one reference on loopback, then, against that same server and `schemas/openapi.yaml`:

1. the property suite's generated-request tests
   (`pytest suites/property/test_generated_requests.py`)
   with the quick profile; the cases it sent come from `property-run.json`;
2. `st run schemas/openapi.yaml --url …` with the project's `schemathesis.toml` and hooks, the
   same phases (examples, fuzzing) and seed; its cases come from its summary line.

Both routes get the same work: `st run` is limited to the operations the pytest route generates
for (read, set, the POST password operations, create user), each operation is given as many
examples as the pytest route's views of it get together, and its `userID` is a user of this run
with a valid password (as each pytest test's is), so that neither route is measured on quick
404s for generated ids. The config for that is a copy of `schemathesis.toml` with those settings
appended, in a temporary directory.

Prints cases, wall seconds and cases per second for both, and the ratio. Asserts nothing. The
token, client secret and passwords are never printed (both routes read them from PINGONE_*).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# `st run`'s summary line: "893 generated, 893 passed, 16 skipped".
GENERATED = re.compile(r"(\d+) generated")
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from check_password_load import Api, Reference, get_token, new_password  # noqa: E402

from harness.property_plugin import PROFILES  # noqa: E402
from reference.config import ReferenceConfig  # noqa: E402
from reference.server import RunningReference, start_reference  # noqa: E402


def _reference(ref: RunningReference) -> Reference:
    """What the two routes need to know of the running reference."""
    return Reference(
        api_base_url=ref.api_base_url,
        auth_base_url=ref.auth_base_url,
        env_id=ref.env_id,
        client_id=ref.client_id,
        client_secret=ref.client_secret,
    )


def _env(reference: Reference) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGONE_")}
    env.update(
        PINGONE_API_URL=reference.api_base_url,
        PINGONE_AUTH_URL=reference.auth_base_url,
        PINGONE_ENV_ID=reference.env_id,
        PINGONE_CLIENT_ID=reference.client_id,
        PINGONE_CLIENT_SECRET=reference.client_secret,
    )
    return env


def pytest_route(
    env: dict[str, str], workdir: Path, seed: int, extra: tuple[str, ...] = ()
) -> tuple[int, float]:
    (workdir / "property-run.json").unlink(missing_ok=True)
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
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    wall = time.perf_counter() - started
    record_file = workdir / "property-run.json"
    record = json.loads(record_file.read_text()) if record_file.exists() else {"cases": 0}
    return int(record["cases"]), wall


def st_route(
    env: dict[str, str],
    config_file: Path,
    seed: int,
    names: list[str],
    extra: tuple[str, ...] = (),
) -> tuple[int, float]:
    st = Path(sys.executable).with_name("st")
    started = time.perf_counter()
    done = subprocess.run(
        [
            str(st),
            "--config-file",
            str(config_file),
            "run",
            "schemas/openapi.yaml",
            "--url",
            env["PINGONE_API_URL"],
            "--phases",
            "examples,fuzzing",
            "--seed",
            str(seed),
            *(argument for name in names for argument in ("--include-name", name)),
            "--no-color",
            *extra,
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


def pytest_examples(profile_examples: int) -> dict[tuple[str, str], int]:
    """Examples per operation (method, path) in the pytest route: its views of it, added up."""
    from harness.operations import OperationTable
    from harness.property import media_type_views, project_settings

    counts: dict[tuple[str, str], int] = {}
    for view in media_type_views(project_settings(), OperationTable.load()):
        key = (view.method, view.path)
        counts[key] = counts.get(key, 0) + view.examples(profile_examples)
    return counts


def write_st_config(
    path: Path, user_id: str, counts: dict[tuple[str, str], int], scale: float
) -> None:
    """The project's `schemathesis.toml`, plus the user and the examples per operation."""
    lines = [(ROOT / "schemathesis.toml").read_text(encoding="utf-8"), "", "[parameters]"]
    lines.append(f'"path.userID" = "{user_id}"')
    for (method, api_path), count in counts.items():
        lines += [
            "",
            "[[operations]]",
            f'include-path = "{api_path}"',
            f'include-method = "{method}"',
            f"generation.max-examples = {max(1, round(count * scale))}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def user_with_password(reference: Reference) -> str:
    """A user of this run with a password the policy accepts (what each pytest test gets)."""
    api = Api(reference, get_token(reference))
    try:
        user_id = api.create_user()
        api.set_password(user_id, new_password())
        return user_id
    finally:
        api.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument(
        "--examples",
        type=int,
        default=PROFILES["quick"]["max_examples"],
        help="examples per view (default: the quick profile's)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (medians)")
    args = parser.parse_args()
    config = ReferenceConfig(hash_profile="fast", test_routes=True)
    py_rates: list[float] = []
    st_rates: list[float] = []
    rows: list[tuple[str, int, float]] = []
    with (
        start_reference(config, host="127.0.0.1", port=0) as ref,
        tempfile.TemporaryDirectory() as tmp,
    ):
        reference = _reference(ref)
        env = _env(reference)
        work = Path(tmp)
        counts = pytest_examples(args.examples)
        names = [f"{method} {api_path}" for method, api_path in counts]
        user_id = user_with_password(reference)
        config_file = work / "schemathesis.toml"
        # Hypothesis may stop an operation short of its count (few distinct inputs), so the
        # counts are scaled after each round until both routes send about as many cases.
        scale = 1.0
        py_startup: list[float] = []
        st_startup: list[float] = []
        for _ in range(args.rounds):
            write_st_config(config_file, user_id, counts, scale)
            py_startup.append(pytest_route(env, work, args.seed, ("-k", "no_test_is_named_so"))[1])
            st_startup.append(st_route(env, config_file, args.seed, ["GET /no/such/path"])[1])
            py_cases, py_wall = pytest_route(env, work, args.seed)
            st_cases, st_wall = st_route(env, config_file, args.seed, names)
            rows += [("pytest", py_cases, py_wall), (f"st run x{scale:.2f}", st_cases, st_wall)]
            if st_cases:
                scale *= py_cases / st_cases
            py_rates.append(py_cases / py_wall if py_wall else 0.0)
            st_rates.append(st_cases / st_wall if st_wall else 0.0)
    print(f"{'route':<14} {'cases':>7} {'wall s':>8} {'cases/s':>9}")
    for name, cases, wall in rows:
        print(f"{name:<14} {cases:>7} {wall:>8.2f} {cases / wall if wall else 0.0:>9.1f}")
    # The first round only calibrates st run's count; the rest are the comparison.
    measured = slice(1, None) if args.rounds > 1 else slice(None)
    py_rate = statistics.median(py_rates[measured])
    st_rate = statistics.median(st_rates[measured])
    print(f"median cases/s: pytest {py_rate:.1f}, st run {st_rate:.1f}")
    if st_rate:
        print(
            f"pytest / st run: {py_rate / st_rate:.2f} (goal >= 0.90; process start-up "
            "included in both)"
        )
    # Each route's fixed cost, measured by a run that selects nothing: interpreter and imports,
    # schema loading; for pytest also the preflight (token, policies) and the summary.
    py_fixed = statistics.median(py_startup)
    st_fixed = statistics.median(st_startup)
    print(
        f"start-up (a run that generates nothing): pytest {py_fixed:.2f} s, st run {st_fixed:.2f} s"
    )
    py_net = [c / (w - py_fixed) for _, c, w in rows[2::2] if w > py_fixed]
    st_net = [c / (w - st_fixed) for _, c, w in rows[3::2] if w > st_fixed]
    if py_net and st_net:
        ratio = statistics.median(py_net) / statistics.median(st_net)
        print(
            f"cases/s without start-up: pytest {statistics.median(py_net):.1f}, st run "
            f"{statistics.median(st_net):.1f}; pytest / st run: {ratio:.2f}"
        )


if __name__ == "__main__":
    main()
