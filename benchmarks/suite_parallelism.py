"""Prints the wall time of the whole suite run against the embedded reference with 1 and 2
workers, and the harness's cost per exchange over a bare `requests` round trip.

Both are measured in one run, alternating, as medians (the machine is shared and noisy), and
printed as ratios: goals are 2 workers <= 0.65x one worker, and the harness client <= 1.15x a
bare round trip. Nothing is asserted: speed goals live here, not in tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.auth import TokenProvider  # noqa: E402
from harness.client import ApiClient  # noqa: E402
from harness.config import ClientCredentials, Target  # noqa: E402
from harness.redaction import Redactor  # noqa: E402
from reference.config import ReferenceConfig  # noqa: E402
from reference.server import start_reference  # noqa: E402


def _suite_seconds(workers: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGONE_")}
    with tempfile.TemporaryDirectory() as summary:
        command = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider"]
        command += ["--summary-dir", summary]
        if workers > 1:
            command += ["-n", str(workers)]
        start = time.perf_counter()
        subprocess.run(command, cwd=REPO, env=env, capture_output=True, check=False)
        return time.perf_counter() - start


def _exchange_seconds(requests_per_sample: int) -> tuple[float, float]:
    """Median seconds per GET …/password: harness client, bare requests (same session kind)."""
    with start_reference(ReferenceConfig(hash_profile="fast")) as reference:
        target = Target(
            api_base_url=reference.api_base_url,
            auth_base_url=reference.auth_base_url,
            env_id=reference.env_id,
            credentials=ClientCredentials(reference.client_id, reference.client_secret),
            is_reference=True,
        )
        redactor = Redactor([reference.client_secret])
        session = requests.Session()
        tokens = TokenProvider(target, session, redactor)
        api = ApiClient(target, tokens, redactor, session, recorder=None)
        user = api.post_json(
            api.env_url("users"), {"username": "bench-user", "email": "b@example.com"}
        ).json()["id"]
        url = api.password_url(user)
        bare = requests.Session()
        headers = {"Authorization": f"Bearer {tokens.token()}", "Accept": "application/json"}
        harness_samples, bare_samples = [], []
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(requests_per_sample):
                api.password_operation(user, "read")
            harness_samples.append((time.perf_counter() - start) / requests_per_sample)
            start = time.perf_counter()
            for _ in range(requests_per_sample):
                bare.get(url, headers=headers, timeout=30)
            bare_samples.append((time.perf_counter() - start) / requests_per_sample)
        return statistics.median(harness_samples), statistics.median(bare_samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    one, two = [], []
    for _ in range(args.repeats):
        one.append(_suite_seconds(1))
        two.append(_suite_seconds(2))
    one_s, two_s = statistics.median(one), statistics.median(two)
    print(f"whole suite against the embedded reference, median of {args.repeats}:")
    print(f"  1 worker   {one_s:6.1f} s")
    print(f"  2 workers  {two_s:6.1f} s   {two_s / one_s:4.2f}x one worker (goal <= 0.65x)")
    harness_s, bare_s = _exchange_seconds(args.requests)
    print(f"one exchange (GET …/password), median of 7 x {args.requests}:")
    print(f"  bare requests   {bare_s * 1000:6.2f} ms")
    print(
        f"  harness client  {harness_s * 1000:6.2f} ms   {harness_s / bare_s:4.2f}x bare "
        "(goal <= 1.15x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
