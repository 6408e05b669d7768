"""Fixtures shared by the project's own tests: a reference with known credentials, and a way to
run pytest in a child process the way a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from reference.config import ReferenceConfig
from reference.server import RunningReference, start_reference

REPO = Path(__file__).resolve().parents[1]
KNOWN_CLIENT_SECRET = "known-client-secret-4e1b9a7c-do-not-leak"


@dataclass(frozen=True)
class PytestRun:
    """What a child pytest run produced."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr together."""
        return self.stdout + self.stderr


def run_pytest(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: Path = REPO,
    timeout: float = 300,
) -> PytestRun:
    """Run `python -m pytest ARGS` in a child process with no PINGONE_* variable but `env`'s."""
    return wait_pytest(start_pytest(args, env, cwd), timeout)


def start_pytest(
    args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path = REPO
) -> subprocess.Popen[str]:
    """Start `python -m pytest ARGS` as run_pytest does, for a caller that may need to stop it."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("PINGONE_")}
    child_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_pytest(child: subprocess.Popen[str], timeout: float) -> PytestRun:
    """The outcome of a started pytest; past `timeout` it is killed and TimeoutExpired raised."""
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    return PytestRun(child.returncode, stdout, stderr)


def target_environment(reference: RunningReference) -> dict[str, str]:
    """The PINGONE_* variables that point a run at `reference` as an external target."""
    return {
        "PINGONE_API_URL": reference.api_base_url,
        "PINGONE_AUTH_URL": reference.auth_base_url,
        "PINGONE_ENV_ID": reference.env_id,
        "PINGONE_CLIENT_ID": reference.client_id,
        "PINGONE_CLIENT_SECRET": reference.client_secret,
        "PINGONE_TEST_ROUTES_URL": f"{reference.auth_base_url}/__reference",
    }


ReferenceStarter = Callable[..., RunningReference]


@pytest.fixture
def start_known_reference() -> Iterator[ReferenceStarter]:
    """Start references with a known client secret (and any other config); all stop at the end."""
    started: list[RunningReference] = []

    def start(**config: object) -> RunningReference:
        settings: dict[str, object] = {
            "hash_profile": "fast",
            "test_routes": True,
            "client_secret": KNOWN_CLIENT_SECRET,
        }
        settings.update(config)
        wrapper = settings.pop("app_wrapper", None)
        running = start_reference(
            ReferenceConfig(**settings),  # type: ignore[arg-type]
            app_wrapper=wrapper,  # type: ignore[arg-type]
        )
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


# Runs that need nothing of the rest of the session start when collection ends, so that they
# overlap it instead of adding their whole length to it; their tests wait for the outcome. The
# adverse run waits on the network far more than it computes; the catch runs compute, but at a
# lower CPU priority, and their tests go last so that they have the whole session to fill the
# cores the other tests leave idle. Not under xdist (each worker would start its own) nor
# --collect-only.
EARLY_RUNS = ("tests.test_adverse_network", "tests.test_fault_catalog")
LAST_MODULES = ("tests.test_fault_catalog",)


def _module_name(item: pytest.Item) -> str | None:
    return getattr(getattr(item, "module", None), "__name__", None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: _module_name(item) in LAST_MODULES)  # stable: order kept


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly or hasattr(session.config, "workerinput"):
        return
    selected = {_module_name(item) for item in session.items}
    for name in EARLY_RUNS:
        if name in selected:
            try:
                sys.modules[name].start_early(session)
            except Exception:  # noqa: BLE001 - its test starts it again and reports the error
                continue


def pytest_sessionfinish(session: pytest.Session) -> None:
    for name in EARLY_RUNS:
        module = sys.modules.get(name)
        if module is not None:
            module.stop()
