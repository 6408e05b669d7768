"""Tail latency of the reference under concurrent load, beside a bare Starlette handler (wrk).

Starts, on loopback and in this one run, ``python -m reference --json --port 0 --hash-cost
PROFILE`` and ``benchmarks/bare_starlette.py`` (the ceiling: the same uvicorn set-up with a handler
that does nothing but parse JSON), then drives each with wrk (``benchmarks/wrk/load.lua``) for a
bounded duration per measurement:

- ``check``: ``POST …/users/{id}/password`` (``password.check+json``, the right password: a
  read and a verification per request; the user has no failures, so nothing is written), every
  connection on one user (``--users per-connection``: one user each, round robin);
- ``read``: ``GET …/users/{id}/password`` (no hashing, one read transaction);
- ``bare POST`` / ``bare GET``: the same shapes against the bare handler.

The machine is shared and noisy, so every measurement is repeated ``--rounds`` times, the
workloads interleaved within a round, and the figures are medians with their spread (min–max).
Then it prints the ratios the latency goals are stated in: check p99 / check p50 at the highest
connection count (goal ≤ 4), check req/s / read req/s (goal ≥ 0.8), the bare handler's own POST
req/s / GET req/s (what a request body costs at the HTTP layer alone, before any work: the
figure check/read comes to when a check is served as efficiently, against its ceiling, as a read
is against its own), and each reference figure against the bare handler's.

The bearer token reaches wrk through its environment, never its command line, and is never
printed. Only loopback addresses are contacted; each measurement lasts at most 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_password_load import (  # noqa: E402
    CHECK_MEDIA_TYPE,
    STARTUP_TIMEOUT_SECONDS,
    Api,
    _read_first_json_line,
    _require_loopback,
    get_token,
    new_password,
    running_reference,
)

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk" / "load.lua"
BARE = HERE / "bare_starlette.py"
MAX_DURATION_SECONDS = 60.0
P99_OVER_P50_GOAL = 4.0
CHECK_OVER_READ_GOAL = 0.8


@dataclass(frozen=True)
class Workload:
    """One request shape: against the reference or the bare handler."""

    name: str
    server: str  # "reference" | "bare"
    method: str


WORKLOADS = [
    Workload("check", "reference", "POST"),
    Workload("read", "reference", "GET"),
    Workload("bare POST", "bare", "POST"),
    Workload("bare GET", "bare", "GET"),
]


@dataclass(frozen=True)
class Run:
    """What one wrk run printed."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    bad: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


@contextmanager
def running_bare() -> Iterator[str]:
    """Starts the bare Starlette handler on loopback; yields its base URL; stops it."""
    proc = subprocess.Popen(
        [sys.executable, str(BARE), "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        base_url = str(_read_first_json_line(proc, STARTUP_TIMEOUT_SECONDS)["base_url"])
        _require_loopback(base_url)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def run_wrk(url: str, env: dict[str, str], connections: int, duration: float, threads: int) -> Run:
    """Runs wrk once against ``url`` with the Lua workload and returns its figures."""
    _require_loopback(url)
    command = [
        "wrk",
        f"--threads={min(threads, connections)}",
        f"--connections={connections}",
        f"--duration={duration:g}s",
        "--timeout=10s",
        f"--script={LUA}",
        url,
    ]
    completed = subprocess.run(
        command,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=False,
    )
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith("{"):
            data: dict[str, Any] = json.loads(line)
            return Run(
                requests=int(data["requests"]),
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                max_ms=data["max_us"] / 1000,
                bad=int(data["unexpected_status"]) + int(data["socket_errors"]),
            )
    raise RuntimeError(f"wrk printed no figures (exit code {completed.returncode})")


def _spread(values: list[float], digits: int = 1) -> str:
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.{digits}f}"
    return f"{median:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per run (default 6)")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument(
        "--connections", default="4,16", help="comma-separated connection counts (default 4,16)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--profile", default="fast", choices=["fast", "strong"], help="hash cost (default fast)"
    )
    parser.add_argument(
        "--users",
        default="one",
        choices=["one", "per-connection"],
        help="check and read one user from every connection (default, as a client's lockout "
        "tests do) or one user per connection, round robin",
    )
    parser.add_argument("--json", action="store_true", help="also print one JSON line per run")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION_SECONDS:
        parser.error(f"--duration must be in (0, {MAX_DURATION_SECONDS:.0f}]")
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds takes 1 to 20")
    args.connections = [int(c) for c in args.connections.split(",") if c.strip()]
    if not args.connections or any(not 1 <= c <= 256 for c in args.connections):
        parser.error("--connections takes counts between 1 and 256")
    if not 1 <= args.threads <= 16:
        parser.error("--threads takes 1 to 16")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if shutil.which("wrk") is None:
        print(
            "latency benchmark: wrk is not installed (Debian/Ubuntu: apt-get install wrk)",
            file=sys.stderr,
        )
        return 2
    users_needed = max(args.connections) if args.users == "per-connection" else 1
    with ExitStack() as stack:
        reference = stack.enter_context(running_reference(args.profile))
        bare_url = stack.enter_context(running_bare())
        token = get_token(reference)
        api = Api(reference, token)
        stack.callback(api.close)
        password = new_password()
        user_ids = []
        for _ in range(users_needed):
            user_id = api.create_user()
            api.set_password(user_id, password)
            user_ids.append(user_id)
        base = urlsplit_path(reference.api_base_url)
        paths = ",".join(
            f"{base}/environments/{reference.env_id}/users/{u}/password" for u in user_ids
        )
        envs = {
            "check": {
                "BENCH_METHOD": "POST",
                "BENCH_PATHS": paths,
                "BENCH_CONTENT_TYPE": CHECK_MEDIA_TYPE,
                "BENCH_BODY": json.dumps({"password": password}),
                "BENCH_TOKEN": token,
                "BENCH_EXPECT": "200",
            },
            "read": {"BENCH_METHOD": "GET", "BENCH_PATHS": paths, "BENCH_TOKEN": token},
            "bare POST": {
                "BENCH_METHOD": "POST",
                "BENCH_PATHS": "/bare",
                "BENCH_CONTENT_TYPE": "application/json",
                "BENCH_BODY": json.dumps({"password": "x" * len(password)}),
            },
            "bare GET": {"BENCH_METHOD": "GET", "BENCH_PATHS": "/bare"},
        }
        origin = {"reference": reference.auth_base_url, "bare": bare_url}
        print(
            f"latency under load (wrk, {args.threads} threads): hash cost {args.profile}, "
            f"{args.duration:g} s per run, {args.rounds} rounds, connections "
            f"{','.join(map(str, args.connections))}, {os.cpu_count()} CPUs shared by servers, "
            "wrk and whatever else runs; medians (min–max)",
            flush=True,
        )
        for workload in WORKLOADS:  # warm-up, not counted
            run_wrk(origin[workload.server], envs[workload.name], 4, 1, args.threads)
        runs: dict[tuple[str, int], list[Run]] = {}
        for round_number in range(args.rounds):
            for connections in args.connections:
                for workload in WORKLOADS:
                    run = run_wrk(
                        origin[workload.server],
                        envs[workload.name],
                        connections,
                        args.duration,
                        args.threads,
                    )
                    runs.setdefault((workload.name, connections), []).append(run)
                    if args.json:
                        print(
                            json.dumps(
                                {
                                    "round": round_number + 1,
                                    "workload": workload.name,
                                    "connections": connections,
                                    "requests": run.requests,
                                    "requests_per_second": round(run.rate, 1),
                                    "p50_ms": run.p50_ms,
                                    "p99_ms": run.p99_ms,
                                    "max_ms": run.max_ms,
                                    "unexpected": run.bad,
                                }
                            ),
                            flush=True,
                        )
    failed = report(runs, args.connections)
    return 1 if failed else 0


def urlsplit_path(url: str) -> str:
    """Returns the path of a URL, without a trailing slash."""
    from urllib.parse import urlsplit

    return urlsplit(url).path.rstrip("/")


def report(runs: dict[tuple[str, int], list[Run]], connections: list[int]) -> bool:
    """Prints the table and the ratios; True when some answer was not the expected one."""
    print()
    print(
        f"{'workload':<10} {'conns':>5} {'req/s':>22} {'p50 ms':>20} {'p99 ms':>22} "
        f"{'p99/p50':>8} {'bad':>4}"
    )
    failed = False
    for connections_count in connections:
        for workload in WORKLOADS:
            series = runs[(workload.name, connections_count)]
            bad = sum(r.bad for r in series)
            failed = failed or bad > 0
            ratio = statistics.median(r.p99_ms / r.p50_ms for r in series if r.p50_ms > 0)
            print(
                f"{workload.name:<10} {connections_count:>5} "
                f"{_spread([r.rate for r in series]):>22} "
                f"{_spread([r.p50_ms for r in series], 2):>20} "
                f"{_spread([r.p99_ms for r in series], 2):>22} {ratio:>8.1f} {bad:>4}"
            )
    print()
    print("ratios (per round, then the median and min–max over rounds)")
    for connections_count in connections:

        def per_round(a: str, b: str, attr: str, c: int = connections_count) -> list[float]:
            return [
                getattr(x, attr) / getattr(y, attr)
                for x, y in zip(runs[(a, c)], runs[(b, c)], strict=True)
                if getattr(y, attr) > 0
            ]

        checks = runs[("check", connections_count)]
        lines = [
            (
                "check p99 / check p50",
                [r.p99_ms / r.p50_ms for r in checks if r.p50_ms > 0],
                f"goal ≤ {P99_OVER_P50_GOAL:g}",
            ),
            (
                "check req/s / read req/s",
                per_round("check", "read", "rate"),
                f"goal ≥ {CHECK_OVER_READ_GOAL:g}",
            ),
            # The same two request shapes on the bare handler: what a body costs at the HTTP
            # layer alone. When check/bare POST equals read/bare GET, check/read equals this.
            ("bare POST req/s / bare GET req/s", per_round("bare POST", "bare GET", "rate"), ""),
            ("check req/s / bare POST req/s", per_round("check", "bare POST", "rate"), ""),
            ("read req/s / bare GET req/s", per_round("read", "bare GET", "rate"), ""),
            ("check p99 / bare POST p99", per_round("check", "bare POST", "p99_ms"), ""),
            ("read p99 / bare GET p99", per_round("read", "bare GET", "p99_ms"), ""),
        ]
        for label, values, goal in lines:
            verdict = ""
            if goal:
                median = statistics.median(values)
                met = median <= P99_OVER_P50_GOAL if "≤" in goal else median >= CHECK_OVER_READ_GOAL
                verdict = f"  {goal}: {'met' if met else 'NOT met'}"
            print(f"  {connections_count:>3} conns  {label:<32} {_spread(values, 2):>20}{verdict}")
    return failed


if __name__ == "__main__":
    sys.exit(main())
