"""The status-model cases hold on targets whose policies differ, and skip honestly without sources.

The lockout, unlock, change and recovery cases read counts and durations from the user's policy:
they run against references configured with other lockout counts and durations (and without
the rules a case needs), where every case passes or skips with a reason, never fails. Without a
source the cases that need one skip with `needs a source: <name>`.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import yaml

from harness.auth import TokenProvider
from harness.behaviour_cases import CaseRunner, CaseState, load_case_file, sources_needed
from harness.client import ApiClient
from harness.config import ClientCredentials, ConfigError, ExitCode, Target, TargetSettings
from harness.passwords import PasswordBook, PasswordPolicy, PolicyBook
from harness.redaction import Redactor
from harness.requirements import RequirementCatalog
from harness.schemas import SchemaStore
from harness.sources import (
    SKIP_PREFIX,
    ClockSource,
    ExternalIdpSource,
    RecoveryCodeSource,
    Sources,
    skip_reason,
)
from harness.users import UserFactory, UserRegistry, UserUnderTest, new_run_id
from reference.policies import BUILT_IN_POLICIES, within_distance
from reference.server import RunningReference
from tests.conftest import REPO, ReferenceStarter

CASES_DIR = REPO / "suites" / "behaviour" / "cases"
STATUS_MODEL_FILES = (
    "check-password.yaml",
    "unlock.yaml",
    "force-change.yaml",
    "reset-admin.yaml",
    "reset-self.yaml",
    "recover.yaml",
    "send-recovery-code.yaml",
)
ALL_CASES = [
    case for name in STATUS_MODEL_FILES for case in load_case_file(CASES_DIR / name)["cases"]
]


def _target(reference: RunningReference, routes: bool) -> Target:
    return Target(
        api_base_url=reference.api_base_url,
        auth_base_url=reference.auth_base_url,
        env_id=reference.env_id,
        credentials=ClientCredentials(reference.client_id, reference.client_secret),
        is_reference=True,
        test_routes_url=f"{reference.auth_base_url}/__reference" if routes else None,
    )


class Harness:
    def __init__(self, reference: RunningReference, routes: bool = True) -> None:
        target = _target(reference, routes)
        self.redactor = Redactor()
        session = requests.Session()
        tokens = TokenProvider(target, session, self.redactor)
        self.api = ApiClient(target, tokens, self.redactor, session, recorder=None)
        self.passwords = PasswordBook(self.redactor)
        registry = UserRegistry(self.api, PolicyBook(self.api), self.passwords, new_run_id())
        self.factory = UserFactory(registry)
        self.sources = Sources.from_target(target)
        self.runner = CaseRunner(
            self.api,
            self.factory,
            self.passwords,
            SchemaStore(),
            sleep=lambda _: None,
            sources=self.sources,
        )

    def outcome(self, case: dict[str, Any]) -> str:
        """passed, or skipped: <reason>; a failure propagates."""
        try:
            self.runner.run(case)
        except pytest.skip.Exception as skipped:
            return f"skipped: {skipped.msg}"
        finally:
            self.factory.cleanup()
        return "passed"


OTHER_POLICIES = {
    "three-failures-one-minute": {"lockout": {"failureCount": 3, "durationSeconds": 60}},
    "one-failure-no-duration": {"lockout": {"failureCount": 1, "durationSeconds": None}},
    "no-rules-the-cases-need": {
        "lockout": None,
        "history": None,
        "minAgeDays": None,
        "maxAgeDays": None,
        "notSimilarToCurrent": False,
    },
}


@pytest.fixture(params=sorted(OTHER_POLICIES))
def other_policy_harness(
    request: pytest.FixtureRequest, start_known_reference: ReferenceStarter
) -> tuple[str, Harness]:
    name = request.param
    return name, Harness(start_known_reference(policy_overrides=OTHER_POLICIES[name]))


def test_cases_pass_or_skip_with_a_reason_under_other_policies(
    other_policy_harness: tuple[str, Harness],
) -> None:
    name, harness = other_policy_harness
    outcomes = {case["description"]: harness.outcome(case) for case in ALL_CASES}
    skipped = {d: o for d, o in outcomes.items() if o.startswith("skipped")}
    passed = [d for d, o in outcomes.items() if o == "passed"]
    assert passed, outcomes
    if name == "three-failures-one-minute":
        assert skipped == {}
    if name == "one-failure-no-duration":
        assert "a locked-out password unlocks itself after lockout.durationSeconds" in skipped
        assert "failuresRemaining counts down from the policy's failureCount" in skipped
        assert "unlock on a locked-out password answers 200 and the password works again" in (
            passed
        )
    if name == "no-rules-the-cases-need":
        assert all("password policy has no" in reason for reason in skipped.values()), skipped
        assert "the right password on a locked-out password answers 400" in skipped


def test_cases_needing_a_missing_source_skip_as_not_assessed(
    start_known_reference: ReferenceStarter,
) -> None:
    harness = Harness(start_known_reference(), routes=False)
    for case in ALL_CASES:
        needed = sources_needed(case)
        outcome = harness.outcome(case)
        if needed:
            assert outcome.startswith(f"skipped: {SKIP_PREFIX}: {needed[0]} ("), outcome
        else:
            assert outcome == "passed", (case["description"], outcome)


def test_sources_come_from_the_test_routes_or_plug_in() -> None:
    bare = Target("http://api.test/v1", None, "env", ClientCredentials("c", "s"), False)
    assert Sources.from_target(bare) == Sources()
    routed = Sources.from_target(
        Target(
            "http://api.test/v1",
            None,
            "env",
            ClientCredentials("c", "s"),
            False,
            test_routes_url="http://ref.test/__reference/",
        )
    )
    assert routed.recovery_code == RecoveryCodeSource(
        "http://ref.test/__reference/recovery-codes/{userID}"
    )
    assert routed.clock == ClockSource("http://ref.test/__reference/clock")
    assert routed.external_idp is not None
    assert routed.external_idp.idp_type
    assert routed.has("self-actor")
    plugged = Sources.from_target(
        bare, recovery_code_url="https://mail.test/codes/{userID}", external_idp_id="idp-7"
    )
    assert plugged.recovery_code == RecoveryCodeSource("https://mail.test/codes/{userID}")
    assert plugged.external_idp == ExternalIdpSource("idp-7")
    assert plugged.external_idp.identity_provider() == {"id": "idp-7"}
    assert plugged.missing(["clock", "recovery-code", "self-actor"]) == ["clock", "self-actor"]
    assert skip_reason("clock").startswith("needs a source: clock (")
    with pytest.raises(pytest.skip.Exception, match="^needs a source: clock"):
        plugged.require(["recovery-code", "clock"])
    with pytest.raises(ValueError, match="unknown source"):
        plugged.has("telepathy")


def test_the_recovery_code_is_registered_as_a_secret(
    start_known_reference: ReferenceStarter,
) -> None:
    harness = Harness(start_known_reference())
    user = harness.factory.create(password="valid")
    assert harness.api.password_operation(user.id, "sendRecoveryCode").status_code == 200
    assert harness.sources.recovery_code is not None
    code = harness.sources.recovery_code.code_for(harness.api, user.id)
    assert len(code) == 8
    assert harness.redactor.is_registered(code)
    harness.factory.cleanup()


def test_state_placeholders_follow_the_policy() -> None:
    redactor = Redactor()
    runner = CaseRunner(None, None, PasswordBook(redactor), SchemaStore())  # type: ignore[arg-type]
    runner.api = _RedactorOnly(redactor)  # type: ignore[assignment]
    policy = PasswordPolicy.from_json(BUILT_IN_POLICIES["Standard"])
    current = PasswordBook(redactor).valid(policy)
    state = CaseState(user=UserUnderTest("u-1", "p1conf-x-1", password=current), policy=policy)
    state.earlier_passwords.append("Earlier-Pa55word")
    weak = runner._fill("<weak>", state)  # noqa: SLF001
    similar = runner._fill("<similar>", state)  # noqa: SLF001
    code = runner._fill("<wrong-code>", state)  # noqa: SLF001
    assert policy.violations(weak) == ["length"]
    assert not policy.violations(similar)
    assert similar != current
    assert within_distance(similar, current, 1)
    assert len(code) == 8
    assert code.isalnum()
    assert code.isupper()
    assert runner._fill("<previous>", state) == "Earlier-Pa55word"  # noqa: SLF001
    assert all(redactor.is_registered(value) for value in (weak, similar, code))


def test_a_weak_password_always_breaks_the_same_one_rule() -> None:
    """Which rule `<weak>` breaks decides which policy defect its case sees: never by chance."""
    redactor = Redactor()
    runner = CaseRunner(None, None, PasswordBook(redactor), SchemaStore())  # type: ignore[arg-type]
    runner.api = _RedactorOnly(redactor)  # type: ignore[assignment]
    standard = PasswordPolicy.from_json(BUILT_IN_POLICIES["Standard"])
    no_length = PasswordPolicy.from_json({**BUILT_IN_POLICIES["Standard"], "length": {"max": 255}})
    for policy, rule in ((standard, ["length"]), (no_length, ["minCharacters"])):
        for _ in range(200):
            user = UserUnderTest("u-1", "p1conf-x-1", password=PasswordBook(redactor).valid(policy))
            weak = runner._fill("<weak>", CaseState(user=user, policy=policy))  # noqa: SLF001
            assert policy.violations(weak) == rule


class _RedactorOnly:
    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor


STATUS_MODEL_AREAS = ("CHECK", "LOCK", "UNLOCK", "FORCE", "ADMIN", "SELF", "RECOVER", "CODE", "EXT")


def test_every_status_model_requirement_is_tested_or_listed_as_untested() -> None:
    catalog = RequirementCatalog.load()
    untested = {
        entry["id"]: entry["reason"]
        for entry in yaml.safe_load((REPO / "schemas" / "untested.yaml").read_text())
    }
    named = {
        rid
        for path in CASES_DIR.glob("*.yaml")
        for case in load_case_file(path)["cases"]
        for rid in case["requirements"]
    }
    mine = {r.id for r in catalog if r.id.split("-")[1] in STATUS_MODEL_AREAS}
    assert sorted(mine - named - set(untested)) == []
    assert sorted(set(untested) & named) == []
    assert sorted(set(untested) - {r.id for r in catalog}) == []
    assert all(reason.strip() for reason in untested.values())


def test_cases_need_what_their_requirements_declare() -> None:
    """A case needing a source names a requirement that declares it, and the other way round."""
    catalog = RequirementCatalog.load()
    for case in ALL_CASES:
        declared = {n for rid in case["requirements"] for n in catalog.get(rid).needs}
        assert set(sources_needed(case)) == declared, case["description"]


def test_an_external_target_takes_the_test_routes_url_and_embedded_refuses_it() -> None:
    settings = TargetSettings(
        base_url="http://127.0.0.1:9/v1",
        env_id="3f9c2c8e-6a4b-4f5e-9d1a-2b7c8e0f1a2b",
        client_id="c",
        client_secret="s",
        test_routes_url="http://127.0.0.1:9/__reference/",
    )
    assert settings.external_target().test_routes_url == "http://127.0.0.1:9/__reference"
    with pytest.raises(ConfigError) as refused:
        TargetSettings(test_routes_url="http://127.0.0.1:9/__reference").check_embedded()
    assert refused.value.exit_code == ExitCode.CONFIGURATION
    assert "--test-routes-url" in refused.value.message
