"""The run's shared state: the target, its token, the API client, policies, users under test.

One `RunContext` lives in the pytest config's stash. It opens lazily and once: either the
preflight hook opens it after collection (when suite tests were collected) or the first
fixture that needs it does. Opening resolves the target (starting the embedded reference when
no base URL was given), runs preflight and sweeps stale users. Closing deletes what the run
left behind and stops the reference; it runs in a `finally`-like cleanup at unconfigure.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from harness.auth import TokenProvider
from harness.client import ApiClient, RateCeiling
from harness.config import ConfigError, Target, TargetSettings
from harness.deviations import DEFAULT_FILE as DEFAULT_DEVIATIONS_FILE
from harness.embedded_reference import embedded_reference
from harness.exchange_audit import ExchangeAudit
from harness.operations import OperationTable
from harness.passwords import PasswordBook, PolicyBook
from harness.preflight import run_preflight
from harness.redaction import Redactor
from harness.response_contract import ResponseContract
from harness.schemas import SchemaStore
from harness.users import STALE_AFTER, UserRegistry, new_run_id


@dataclass(frozen=True)
class RunOptions:
    """What the root conftest read from the command line and the environment."""

    settings: TargetSettings
    gate: str
    summary_dir: Path
    alluredir: Path | None
    repo_root: Path
    conformance: str = "full"
    requirement_filters: tuple[str, ...] = ()
    shard: str | None = None
    require_complete: bool = False
    property_profile: str = "quick"
    property_seed: int = 20261201
    deviations_file: Path = DEFAULT_DEVIATIONS_FILE
    # --sweep AGE: delete this suite's leftovers older than AGE, run no test.
    sweep_age: timedelta | None = None
    # --max-rps N: a ceiling on the requests per second the run sends to the API.
    max_rps: float | None = None
    target_name: str | None = None
    strict_deviations: bool = False


class RunContext:
    """Shared, lazily opened state of one pytest run."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.redactor = Redactor(options.settings.secrets())
        self.operations = OperationTable.load()
        self.schemas = SchemaStore(redactor=self.redactor)
        self.run_id = new_run_id()
        self._stack = ExitStack()
        self._opened = False
        self._failure: ConfigError | None = None
        self._target: Target | None = None
        self._api: ApiClient | None = None
        self._policies: PolicyBook | None = None
        self._users: UserRegistry | None = None
        self.passwords = PasswordBook(self.redactor)
        # Sees every response of the run, from preflight on (suites/security audits it).
        self.exchange_audit = ExchangeAudit(self.redactor)
        self.token_method = ""
        self.stale_removed = 0
        self.undeleted: list[str] = []
        self._previous_sigterm: Any = None
        self._commit: str | None = None
        self._recording = False

    @property
    def opened(self) -> bool:
        """True once the target is resolved and preflight passed."""
        return self._opened

    def open(self) -> None:
        """Resolve the target, run preflight, sweep stale users; idempotent.

        Raises `ConfigError` (the same one on every call) when the target is not usable.
        """
        if self._failure is not None:
            raise self._failure
        if self._opened:
            return
        try:
            self._open()
        except ConfigError as failure:
            self._failure = failure
            self._stack.close()
            raise
        self._opened = True

    def _open(self) -> None:
        settings = self.options.settings
        if settings.wants_embedded_reference:
            settings.check_embedded()
            target = self._stack.enter_context(embedded_reference())
        else:
            target = settings.external_target()
        session = requests.Session()
        self._stack.callback(session.close)
        tokens = TokenProvider(target, session, self.redactor)
        api = ApiClient(
            target,
            tokens,
            self.redactor,
            session,
            self.operations,
            ceiling=RateCeiling(self.options.max_rps) if self.options.max_rps else None,
        )
        api.recording = self._recording
        api.observers.append(self.exchange_audit.observe)
        result = run_preflight(api, tokens)
        policies = PolicyBook(api)
        policies.load(result.policies)
        self._target, self._api, self._policies = target, api, policies
        self.token_method = result.token_method
        self._users = UserRegistry(api, policies, self.passwords, self.run_id)
        self._install_sigterm()
        self.stale_removed = self._users.delete_stale(self.options.sweep_age or STALE_AFTER)
        api.response_contract = ResponseContract(self.schemas, self.operations)

    def _require(self) -> None:
        if not self._opened:
            self.open()

    @property
    def target(self) -> Target:
        """The resolved target (opens the context)."""
        self._require()
        assert self._target is not None
        return self._target

    @property
    def api(self) -> ApiClient:
        """The API client (opens the context)."""
        self._require()
        assert self._api is not None
        return self._api

    @property
    def policies(self) -> PolicyBook:
        """The target's password policies (opens the context)."""
        self._require()
        assert self._policies is not None
        return self._policies

    @property
    def users(self) -> UserRegistry:
        """This run's users under test (opens the context)."""
        self._require()
        assert self._users is not None
        return self._users

    def set_recording(self, on: bool) -> None:
        """Let the API client attach exchanges to Allure (only while a test runs)."""
        self._recording = on
        if self._api is not None:
            self._api.recording = on

    def target_name(self) -> str:
        """The name known deviations use: --target-name, else `reference` or the host:port."""
        if self.options.target_name:
            return self.options.target_name
        base = self.options.settings.nominal_base_url
        return urlsplit(base).netloc if base else "reference"

    def rate_limit_record(self) -> dict[str, float]:
        """The run's 429 retries and the seconds waited for them (zeros before the target)."""
        if self._api is None:
            return {"retries": 0, "waited_seconds": 0.0}
        return dict(self._api.rate_limit_record)

    def describe(self) -> dict[str, str]:
        """Target facts for headers, summaries and `environment.properties`; no secret."""
        if self._commit is None:
            self._commit = suite_commit(self.options.repo_root)
        facts = {"suite_commit": self._commit}
        settings = self.options.settings
        facts.update(
            kind="external (not reached)" if settings.nominal_base_url else "embedded reference",
            api_base_url=settings.nominal_base_url or "?",
            env_id=settings.env_id or "?",
        )
        if self._target is not None:
            facts.update(
                kind=self._target.kind,
                api_base_url=self._target.api_base_url,
                env_id=self._target.env_id,
                token_method=self.token_method,
            )
        return facts

    def delete_leftovers(self) -> None:
        """Delete every user of this run that is still there; remember those that stay.

        Tracked users first, then any user with this run's prefix the run lost track of (an
        interruption between a creation's answer and its bookkeeping).
        """
        if self._users is None:
            return
        try:
            failed = self._users.delete_all()
            self._users.delete_untracked()
        except Exception:  # noqa: BLE001 - the target may be gone; report what was left
            failed = [user.id for user in self._users.live]
        self.undeleted = sorted(set(failed))

    def close(self) -> None:
        """Delete the users this run left behind, stop the embedded reference; idempotent."""
        try:
            self.delete_leftovers()
        finally:
            self._restore_sigterm()
            self._stack.close()

    # --- interruption -------------------------------------------------------------------------
    def _install_sigterm(self) -> None:
        """On SIGTERM, unwind like Ctrl-C so fixture teardown deletes the users under test."""
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous_sigterm = signal.signal(signal.SIGTERM, _sigterm_to_interrupt)

    def _restore_sigterm(self) -> None:
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None


def _sigterm_to_interrupt(signum: int, frame: FrameType | None) -> None:
    # A second SIGTERM during the clean-up ends the process at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt("SIGTERM")


def suite_commit(repo_root: Path) -> str:
    """The suite's git commit (with `-dirty` for local changes), or `unknown`."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=repo_root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"


CONTEXT_KEY = pytest.StashKey[RunContext]()


def context_of(config: pytest.Config) -> RunContext | None:
    """The run context the root conftest installed, or None (a plain pytest run)."""
    return config.stash.get(CONTEXT_KEY, None)


def install(config: pytest.Config, options: RunOptions) -> RunContext:
    """Create the run context and arrange for it to close when pytest unconfigures."""
    context = RunContext(options)
    config.stash[CONTEXT_KEY] = context
    config.add_cleanup(context.close)
    return context
