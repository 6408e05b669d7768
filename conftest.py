"""Root layer: command-line options, the target settings, and the harness plugins.

This is the only place that reads options and the environment. Tests ask for fixtures
(`target`, `api`, `user_factory`, `password_policy`, `passwords`); harness modules receive
values, never read `os.environ`. Secrets come from the environment only, never from options.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from harness.config import REGIONS, TargetSettings, parse_age
from harness.requirements import CONFORMANCE_CLASSES, FULL, GATES
from harness.run_context import RunOptions, install

# Plugin modules: a module is listed after every plugin module it imports.
pytest_plugins = [
    "harness.target_plugin",
    "harness.requirements_plugin",
    "harness.redaction_plugin",
    "harness.failure_plugin",
    "harness.allure_plugin",
    "harness.fixtures",
    "harness.property_plugin",
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
        "--region",
        default=None,
        choices=REGIONS,
        help="PingOne region: sets --base-url https://api.pingone.<region>/v1 and --auth-url "
        "https://auth.pingone.<region> (env PINGONE_REGION).",
    )
    group.addoption(
        "--max-rps",
        type=float,
        default=None,
        metavar="N",
        help="a ceiling on API requests per second for the whole run (per worker with -n).",
    )
    group.addoption(
        "--sweep",
        default=None,
        metavar="AGE",
        help="run no test: delete only this suite's leftover users (p1conf-…) older than AGE "
        "(90s, 30m, 2h, 1d) and say how many.",
    )
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
        "--conformance",
        default=FULL,
        help="the conformance class(es) the target claims, comma-separated: "
        f"{', '.join(CONFORMANCE_CLASSES)} or {FULL} (default: {FULL}). Tests of other classes "
        "are left out, and their requirements are reported as not assessed in this class.",
    )
    group.addoption(
        "--requirement",
        action="append",
        default=[],
        metavar="ID",
        help="run only the tests of this requirement id or id prefix (P1-CHECK-002, P1-CHECK); "
        "repeatable. -m must|should|observed selects by level.",
    )
    group.addoption(
        "--shard",
        default=None,
        metavar="K/N",
        help="run only shard K of N (a stable split by test id), e.g. one CI job of four; "
        "python -m harness.merge joins the shards' results into one report and verdict.",
    )
    group.addoption(
        "--require-complete",
        action="store_true",
        default=False,
        help="an INCOMPLETE verdict (a requirement at or above the gate, in a claimed class, "
        "not assessed) fails the run with exit code 14.",
    )
    group.addoption(
        "--hypothesis-profile-name",
        default="quick",
        choices=("quick", "thorough"),
        help="property suite: quick (default, make run/test) or thorough (release).",
    )
    group.addoption(
        "--property-seed",
        type=int,
        default=20261201,
        help="property suite: the Hypothesis seed (default fixed, so failures reproduce).",
    )
    group.addoption(
        "--deviations",
        default=str(ROOT / "known-deviations.yaml"),
        help="the known-deviations file (default: known-deviations.yaml).",
    )
    group.addoption(
        "--target-name",
        default=None,
        help="the target's name in the known-deviations file (default: 'reference' for the "
        "embedded reference, else the base URL's host:port).",
    )
    group.addoption(
        "--strict-deviations",
        action="store_true",
        default=False,
        help="fail the run when a known deviation no longer reproduces or has expired.",
    )
    group.addoption(
        "--summary-dir",
        default=str(ROOT / "reports"),
        help="where conformance-summary.json and .md are written (default: reports/).",
    )


def _setting(config: pytest.Config, option: str, variable: str) -> str | None:
    value = config.getoption(option) or os.environ.get(variable, "")
    return value.strip() or None


def _age(text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_age(text)
    except ValueError as error:
        raise pytest.UsageError(f"--sweep: {error}") from None


def pytest_configure(config: pytest.Config) -> None:
    settings = TargetSettings(
        base_url=_setting(config, "--base-url", "PINGONE_API_URL"),
        auth_url=_setting(config, "--auth-url", "PINGONE_AUTH_URL"),
        env_id=_setting(config, "--env-id", "PINGONE_ENV_ID"),
        region=_setting(config, "--region", "PINGONE_REGION"),
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
            conformance=config.getoption("--conformance"),
            requirement_filters=tuple(config.getoption("--requirement")),
            shard=config.getoption("--shard"),
            require_complete=config.getoption("--require-complete"),
            deviations_file=Path(config.getoption("--deviations")),
            target_name=config.getoption("--target-name"),
            strict_deviations=config.getoption("--strict-deviations"),
            sweep_age=_age(config.getoption("--sweep")),
            max_rps=config.getoption("--max-rps"),
            summary_dir=Path(config.getoption("--summary-dir")),
            alluredir=Path(alluredir).resolve() if alluredir else None,
            repo_root=ROOT,
            property_profile=config.getoption("--hypothesis-profile-name"),
            property_seed=config.getoption("--property-seed"),
        ),
    )
    # Under -n, the target is checked once here, before xdist starts workers (a plugin module
    # imported at the top of this file could not have its assertions rewritten).
    from harness.target_plugin import check_before_workers

    check_before_workers(config)
