"""Check-password load on the reference implementation: throughput and latency per hash profile.

Starts ``python -m reference --json --port 0 --hash-cost PROFILE`` on loopback for each profile,
obtains a worker token, gives every client thread its own user with a password set, then drives
``POST …/users/{id}/password`` (``password.check+json``) from C threads (one ``requests.Session``
each) for a fixed duration, and prints requests per second, p50 and p99 latency and the error
count. It stops each server it started.

Three workloads:
- ``read``: ``GET …/password`` (the password state), no hashing: the baseline cost of one
  authorized request through the server; every answer is expected to be 200.
- ``right``: the user's own password; every answer is expected to be 200.
- ``wrong``: a different wrong password each time; every answer is expected to be 400. Wrong
  checks count towards the lockout policy, so each client unlocks its user (``password.unlock``)
  before the next wrong check would reach the policy's ``lockout.failureCount``. Only check
  requests are timed and counted; the wall time, and so the rate, includes the unlocks.

Bounded: the duration per measurement is capped at 300 s and each client sends at most
``--max-requests`` requests. Only loopback addresses are ever contacted. Secrets (client secret,
token, passwords) are never printed.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import signal
import string
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
MAX_DURATION_SECONDS = 300.0
STARTUP_TIMEOUT_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 30.0
USER_PREFIX = "p1conf-bench-"

SET_MEDIA_TYPE = "application/vnd.pingidentity.password.set+json"
CHECK_MEDIA_TYPE = "application/vnd.pingidentity.password.check+json"
UNLOCK_MEDIA_TYPE = "application/vnd.pingidentity.password.unlock"


@dataclass(frozen=True)
class Reference:
    """What the reference prints on its first stdout line, minus what the benchmark ignores."""

    api_base_url: str
    auth_base_url: str
    env_id: str
    client_id: str
    client_secret: str = field(repr=False)


@dataclass
class ClientResult:
    """One client thread's measurements: latencies of the timed requests (seconds), errors."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    unexpected: dict[str, int] = field(default_factory=dict)

    def record_error(self, kind: str) -> None:
        self.errors += 1
        self.unexpected[kind] = self.unexpected.get(kind, 0) + 1


class Window:
    """The measured time window: it opens when every client is ready, so setup is never timed."""

    def __init__(self, duration: float, parties: int) -> None:
        self.duration = duration
        self.opened = 0.0
        self.deadline = 0.0
        self.start = threading.Barrier(parties, action=self._open)

    def _open(self) -> None:
        self.opened = time.monotonic()
        self.deadline = self.opened + self.duration


@dataclass(frozen=True)
class Figures:
    """The printed figures of one measurement."""

    profile: str
    workload: str
    clients: int
    count: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    unexpected: dict[str, int]

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


def _require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refusing to load a non-loopback address: {host!r}")


def _read_first_json_line(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    """Return the first stdout line of ``proc`` that parses as a JSON object, within ``timeout``."""
    found: dict[str, Any] = {}
    done = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not found:
                try:
                    parsed = json.loads(line)
                except ValueError:
                    continue
                if isinstance(parsed, dict):
                    found.update(parsed)
                    done.set()
            # keep draining so the server never blocks on a full pipe
        done.set()

    threading.Thread(target=reader, name="reference-stdout", daemon=True).start()
    if not done.wait(timeout) or not found:
        raise RuntimeError(
            f"the reference printed no JSON line within {timeout:.0f} s "
            f"(exit code {proc.poll()}); try: make serve ARGS='--json --port 0'"
        )
    return found


@contextmanager
def running_reference(hash_cost: str) -> Iterator[Reference]:
    """Start the reference on loopback with ``hash_cost`` and stop it on exit."""
    command = [
        sys.executable,
        "-m",
        "reference",
        "--json",
        "--port",
        "0",
        "--hash-cost",
        hash_cost,
    ]
    proc = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        info = _read_first_json_line(proc, STARTUP_TIMEOUT_SECONDS)
        reference = Reference(
            api_base_url=str(info["api_base_url"]).rstrip("/"),
            auth_base_url=str(info["auth_base_url"]).rstrip("/"),
            env_id=str(info["env_id"]),
            client_id=str(info["client_id"]),
            client_secret=str(info["client_secret"]),
        )
        _require_loopback(reference.api_base_url)
        _require_loopback(reference.auth_base_url)
        yield reference
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def get_token(reference: Reference) -> str:
    """Obtain an access token with the worker client's credentials (client_secret_basic)."""
    response = requests.post(
        f"{reference.auth_base_url}/{reference.env_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(reference.client_id, reference.client_secret),
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    if response.status_code != 200:
        raise RuntimeError(f"token request answered {response.status_code}")
    token = response.json().get("access_token")
    if not isinstance(token, str) or not token:
        raise RuntimeError("token response carries no access_token")
    return token


def new_password() -> str:
    """Return a random password that satisfies the Standard policy's character rules."""
    specials = "~!@#$%^&*()-_=+"
    alphabet = string.ascii_letters + string.digits + specials
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(20))
        if (
            any(c.isupper() for c in body)
            and any(c.islower() for c in body)
            and any(c.isdigit() for c in body)
            and any(c in specials for c in body)
            and not any(body[i] == body[i + 1] == body[i + 2] for i in range(len(body) - 2))
        ):
            return body


class Api:
    """The few management calls the benchmark needs, on one session."""

    def __init__(self, reference: Reference, token: str) -> None:
        self.base = f"{reference.api_base_url}/environments/{reference.env_id}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self.session.close()

    def create_user(self) -> str:
        username = f"{USER_PREFIX}{secrets.token_hex(6)}"
        response = self.session.post(
            f"{self.base}/users",
            json={"username": username, "email": f"{username}@example.com"},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"create user answered {response.status_code}")
        user_id = response.json().get("id")
        if not isinstance(user_id, str):
            raise RuntimeError("create user response carries no id")
        return user_id

    def delete_user(self, user_id: str) -> None:
        self.session.delete(f"{self.base}/users/{user_id}", timeout=REQUEST_TIMEOUT_SECONDS)

    def set_password(self, user_id: str, password: str) -> None:
        response = self.session.put(
            f"{self.base}/users/{user_id}/password",
            data=json.dumps({"value": password, "forceChange": False}),
            headers={"Content-Type": SET_MEDIA_TYPE},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        if response.status_code != 200:
            raise RuntimeError(f"set password answered {response.status_code}")

    def lockout_failure_count(self, user_id: str) -> int | None:
        """Return the user's policy ``lockout.failureCount``, or None when it cannot be read."""
        state = self.session.get(
            f"{self.base}/users/{user_id}/password", timeout=REQUEST_TIMEOUT_SECONDS
        )
        if state.status_code != 200:
            return None
        policy_id = (state.json().get("passwordPolicy") or {}).get("id")
        if not isinstance(policy_id, str):
            return None
        policy = self.session.get(
            f"{self.base}/passwordPolicies/{policy_id}", timeout=REQUEST_TIMEOUT_SECONDS
        )
        if policy.status_code != 200:
            return None
        count = (policy.json().get("lockout") or {}).get("failureCount")
        return count if isinstance(count, int) and count > 0 else None

    def check(self, user_id: str, password: str) -> requests.Response:
        return self.session.post(
            f"{self.base}/users/{user_id}/password",
            data=json.dumps({"password": password}),
            headers={"Content-Type": CHECK_MEDIA_TYPE},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )

    def read_state(self, user_id: str) -> requests.Response:
        return self.session.get(
            f"{self.base}/users/{user_id}/password", timeout=REQUEST_TIMEOUT_SECONDS
        )

    def unlock(self, user_id: str) -> int:
        response = self.session.post(
            f"{self.base}/users/{user_id}/password",
            headers={"Content-Type": UNLOCK_MEDIA_TYPE},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        return response.status_code


def _drive(
    api: Api,
    user_id: str,
    password: str,
    workload: str,
    unlock_every: int,
    window: Window,
    max_requests: int,
    result: ClientResult,
) -> None:
    """Send requests until the window closes or ``max_requests``, recording latency and errors."""
    expected = 400 if workload == "wrong" else 200
    since_unlock = 0
    window.start.wait()
    while time.monotonic() < window.deadline and len(result.latencies) < max_requests:
        if workload == "wrong" and since_unlock >= unlock_every:
            status = api.unlock(user_id)
            if status != 200:
                result.record_error(f"unlock {status}")
            since_unlock = 0
        attempt = new_password() if workload == "wrong" else password
        began = time.perf_counter()
        try:
            if workload == "read":
                response = api.read_state(user_id)
            else:
                response = api.check(user_id, attempt)
        except requests.RequestException as exc:
            result.latencies.append(time.perf_counter() - began)
            result.record_error(type(exc).__name__)
            continue
        result.latencies.append(time.perf_counter() - began)
        since_unlock += 1
        if response.status_code != expected:
            result.record_error(f"HTTP {response.status_code}")


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def measure(
    reference: Reference,
    token: str,
    profile: str,
    workload: str,
    clients: int,
    duration: float,
    max_requests: int,
) -> Figures:
    """Run one measurement with ``clients`` threads, each on its own user and session."""
    apis = [Api(reference, token) for _ in range(clients)]
    users: list[tuple[str, str]] = []
    try:
        for api in apis:
            user_id = api.create_user()
            password = new_password()
            api.set_password(user_id, password)
            users.append((user_id, password))
        failure_count = apis[0].lockout_failure_count(users[0][0]) if workload == "wrong" else None
        unlock_every = max(1, failure_count - 1) if failure_count else 1
        results = [ClientResult() for _ in range(clients)]
        window = Window(duration, parties=clients + 1)
        threads = [
            threading.Thread(
                target=_drive,
                args=(api, user_id, password, workload, unlock_every, window, max_requests, result),
                daemon=True,
            )
            for api, (user_id, password), result in zip(apis, users, results, strict=True)
        ]
        for thread in threads:
            thread.start()
        window.start.wait()
        for thread in threads:
            thread.join(timeout=duration + 2 * REQUEST_TIMEOUT_SECONDS + 5)
        seconds = time.monotonic() - window.opened
        latencies = sorted(x for result in results for x in result.latencies)
        unexpected: dict[str, int] = {}
        for result in results:
            for kind, count in result.unexpected.items():
                unexpected[kind] = unexpected.get(kind, 0) + count
        return Figures(
            profile=profile,
            workload=workload,
            clients=clients,
            count=len(latencies),
            errors=sum(result.errors for result in results),
            seconds=seconds,
            p50_ms=_percentile(latencies, 0.50) * 1000,
            p99_ms=_percentile(latencies, 0.99) * 1000,
            unexpected=unexpected,
        )
    finally:
        for api, (user_id, _) in zip(apis, users, strict=False):
            try:
                api.delete_user(user_id)
            except requests.RequestException:
                pass
        for api in apis:
            api.close()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per measurement (default 10)"
    )
    parser.add_argument(
        "--clients", default="1,4,16", help="comma-separated client counts (default 1,4,16)"
    )
    parser.add_argument(
        "--profiles", default="fast,strong", help="hash profiles to start (default fast,strong)"
    )
    parser.add_argument(
        "--workloads",
        default="read,right,wrong",
        help="any of read, right, wrong (default read,right,wrong)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=100_000,
        help="upper bound of requests per client and measurement (default 100000)",
    )
    parser.add_argument("--json", action="store_true", help="also print one JSON line per figure")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION_SECONDS:
        parser.error(f"--duration must be in (0, {MAX_DURATION_SECONDS:.0f}]")
    args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    if not args.clients or any(not 1 <= c <= 64 for c in args.clients):
        parser.error("--clients takes counts between 1 and 64")
    args.profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    if any(p not in ("fast", "strong") for p in args.profiles):
        parser.error("--profiles takes fast and/or strong")
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if any(w not in ("read", "right", "wrong") for w in args.workloads):
        parser.error("--workloads takes read, right and/or wrong")
    if args.max_requests < 1:
        parser.error("--max-requests must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    print(
        f"check-password load: {args.duration:g} s per measurement, clients "
        f"{','.join(map(str, args.clients))}, {os.cpu_count()} CPUs shared by server and clients"
    )
    header = (
        f"{'profile':<7} {'workload':<8} {'clients':>7} {'requests':>8} {'req/s':>9} "
        f"{'p50 ms':>9} {'p99 ms':>9} {'errors':>6}"
    )
    failed = False
    for profile in args.profiles:
        with running_reference(profile) as reference:
            token = get_token(reference)
            print()
            print(header)
            for workload in args.workloads:
                for clients in args.clients:
                    figures = measure(
                        reference,
                        token,
                        profile,
                        workload,
                        clients,
                        args.duration,
                        args.max_requests,
                    )
                    failed = failed or figures.errors > 0
                    detail = (
                        "  " + ", ".join(f"{k}: {v}" for k, v in sorted(figures.unexpected.items()))
                        if figures.unexpected
                        else ""
                    )
                    print(
                        f"{figures.profile:<7} {figures.workload:<8} {figures.clients:>7} "
                        f"{figures.count:>8} {figures.rate:>9.1f} {figures.p50_ms:>9.1f} "
                        f"{figures.p99_ms:>9.1f} {figures.errors:>6}{detail}",
                        flush=True,
                    )
                    if args.json:
                        print(
                            json.dumps(
                                {
                                    "profile": figures.profile,
                                    "workload": figures.workload,
                                    "clients": figures.clients,
                                    "requests": figures.count,
                                    "seconds": round(figures.seconds, 3),
                                    "requests_per_second": round(figures.rate, 2),
                                    "p50_ms": round(figures.p50_ms, 2),
                                    "p99_ms": round(figures.p99_ms, 2),
                                    "errors": figures.errors,
                                }
                            )
                        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
