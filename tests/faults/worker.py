"""One fault run, in its own process: start a reference with the fault, run the suites at it.

    python -m tests.faults.worker --workdir DIR [--fault NAME] [--only-requirements A,B]
        [--stop-when-covered] [--timeout SECONDS] [--niceness N]

Without `--fault` the reference is clean. The suites run in a child pytest that treats the
reference as an external target (URLs, environment id and client credentials through the
environment), exactly as a team pointing the suite at a tenant would. The worker writes
`DIR/record.json` (tests/faults/recorder.py) and `DIR/run.json`
(`{"exit_code", "output", "seconds", "applied"}`); the client secret never reaches either.

Each run gets a process of its own so that a state fault's patches, a hang or a crash stay in
it; tests/faults/runner.py starts workers, bounds each by a timeout and runs several at once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUITES = "suites"
# Every level gates in a fault run: a fault caught only by a SHOULD or OBSERVED check still has
# to turn the run red, or the catalog could not tell a caught fault from a missed one.
GATE_ARGS: tuple[str, ...] = ("--gate", "observed")
NOT_APPLIED = 3


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.worker")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--fault", default=None, help="a fault name; absent: clean reference")
    parser.add_argument("--only-requirements", default=None)
    parser.add_argument("--conformance", default=None, help="run only this class's suite")
    parser.add_argument("--stop-when-covered", action="store_true")
    parser.add_argument("--timeout", type=float, default=600.0, help="for the child pytest")
    parser.add_argument(
        "--niceness", type=int, default=0, help="lower this process's CPU priority by N first"
    )
    return parser.parse_args(argv)


def _write(workdir: Path, exit_code: int, output: str, started: float, applied: bool) -> None:
    result = {
        "exit_code": exit_code,
        "output": output,
        "seconds": round(time.monotonic() - started, 2),
        "applied": applied,
    }
    (workdir / "run.json").write_text(json.dumps(result))


# Where Linux schedules by session ("autogroup"), a process's niceness counts only against the
# other processes of its session; a worker leads a session of its own (tests/faults/runner.py),
# so the session's niceness has to be lowered too for the rest of the machine to come first.
AUTOGROUP = Path("/proc/self/autogroup")


def _lower_priority(niceness: int) -> None:
    """Lower this process's CPU priority (the reference thread and child pytest inherit it)."""
    os.nice(niceness)
    try:
        AUTOGROUP.write_text(str(niceness))
    except OSError:  # no autogroup scheduling here: the niceness above is all there is
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the suites once against a (possibly faulty) reference; 0 when the run happened."""
    args = _arguments(argv)
    if args.niceness > 0:
        _lower_priority(args.niceness)
    started = time.monotonic()
    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    from reference.config import ReferenceConfig
    from reference.server import start_reference

    wrapper = None
    try:
        if args.fault is not None:
            from tests.faults.catalog import get

            wrapper = get(args.fault).apply
        config = ReferenceConfig(hash_profile="fast", test_routes=True)
        ref = start_reference(config, host="127.0.0.1", port=0, app_wrapper=wrapper)
    except Exception:  # the fault could not be applied: say so, do not run the suites
        _write(workdir, -1, traceback.format_exc(limit=8), started, applied=False)
        return NOT_APPLIED
    with ref:
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
            str(workdir / "record.json"),
            "--summary-dir",
            str(workdir),
            *GATE_ARGS,
        ]
        if args.conformance:
            command += ["--conformance", args.conformance]
        if args.only_requirements:
            command += ["--fault-only-requirements", args.only_requirements]
            if args.stop_when_covered:
                command.append("--fault-stop-when-covered")
        try:
            done = subprocess.run(
                command,
                check=False,
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=args.timeout,
            )
            exit_code, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as expired:
            partial = expired.stdout or b""
            text = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
            exit_code, output = -2, f"{text}\nthe suites ran longer than {args.timeout:.0f} s"
        output = output.replace(ref.client_secret, "[REDACTED]")
    _write(workdir, exit_code, output, started, applied=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
