"""Root layer: command-line options, the target settings, and the harness plugins.

This is the only place that reads options and the environment. Tests ask for fixtures
(`target`, `api`, `user_factory`, `password_policy`, `passwords`); harness modules receive
values, never read `os.environ`. Secrets come from the environment only, never from options.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.config import TargetSettings
from harness.requirements import GATES
from harness.run_context import RunOptions, install

# Plugin modules: a module is listed after every plugin module it imports.
pytest_plugins = [
    "harness.target_plugin",
    "harness.requirements_plugin",
    "harness.redaction_plugin",
    "harness.failure_plugin",
    "harness.fixtures",
]

ROOT = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pingone", "PingOne conformance target")
    group.addoption(
        "--base-url",
        default=None,
        help="API base URL, e.g. https://api.pingone.com/v1 (env PINGONE_API_URL). "
        "Absent: the suites start the embedded reference on loopback.",
    )
    group.addoption(
        "--auth-url",
        default=None,
        help="auth base URL, e.g. https://auth.pingone.com (env PINGONE_AUTH_URL). "
        "Absent: auth.pingone.<tld> for api.pingone.<tld>, else the base URL's origin.",
    )
    group.addoption("--env-id", default=None, help="environment id (env PINGONE_ENV_ID).")
    group.addoption(
        "--test-routes-url",
        default=None,
        help="test routes of a reference started with --enable-test-routes, e.g. "
        "http://127.0.0.1:8000/__reference (env PINGONE_TEST_ROUTES_URL): they give the "
        "recovery-code, clock, external-idp and self-actor sources.",
    )
    group.addoption(
        "--gate",
        default="must",
        choices=sorted(GATES),
        help="lowest requirement level whose failures fail the run (default: must). "
        "Failed tests stay failed in every report whatever the gate.",
    )
    group.addoption(
        "--summary-dir",
        default=str(ROOT / "reports"),
        help="where conformance-summary.json and .md are written (default: reports/).",
    )


def _setting(config: pytest.Config, option: str, variable: str) -> str | None:
    value = config.getoption(option) or os.environ.get(variable, "")
    return value.strip() or None


def pytest_configure(config: pytest.Config) -> None:
    settings = TargetSettings(
        base_url=_setting(config, "--base-url", "PINGONE_API_URL"),
        auth_url=_setting(config, "--auth-url", "PINGONE_AUTH_URL"),
        env_id=_setting(config, "--env-id", "PINGONE_ENV_ID"),
        test_routes_url=_setting(config, "--test-routes-url", "PINGONE_TEST_ROUTES_URL"),
        client_id=os.environ.get("PINGONE_CLIENT_ID", "").strip() or None,
        client_secret=os.environ.get("PINGONE_CLIENT_SECRET") or None,
        access_token=os.environ.get("PINGONE_ACCESS_TOKEN") or None,
    )
    alluredir = getattr(config.option, "allure_report_dir", None)
    install(
        config,
        RunOptions(
            settings=settings,
            gate=config.getoption("--gate"),
            summary_dir=Path(config.getoption("--summary-dir")),
            alluredir=Path(alluredir).resolve() if alluredir else None,
            repo_root=ROOT,
        ),
    )
