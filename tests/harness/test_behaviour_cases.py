"""Behaviour case files check themselves, and the case runner checks what it claims to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from harness.auth import TokenProvider
from harness.behaviour_cases import (
    CaseFileError,
    CaseRunner,
    CaseState,
    clock_tick_seconds,
    failures_remaining,
    field_value,
    load_case_file,
)
from harness.client import ApiClient
from harness.config import ClientCredentials, Target
from harness.passwords import PasswordBook, PasswordPolicy, PolicyBook
from harness.redaction import Redactor
from harness.requirements import RequirementCatalog
from harness.schemas import SchemaStore
from harness.users import UserFactory, UserRegistry, UserUnderTest, new_run_id
from reference import encodings as reference_encodings
from reference.policies import BUILT_IN_POLICIES
from reference.server import RunningReference
from tests.conftest import REPO, ReferenceStarter

CASES_DIR = REPO / "suites" / "behaviour" / "cases"
CASE_FILES = sorted(CASES_DIR.glob("*.yaml"))


def test_there_are_case_files() -> None:
    assert {
        "check-password.yaml",
        "import-user.yaml",
        "password-policy.yaml",
        "read-password-state.yaml",
        "set-password.yaml",
        "set-value.yaml",
        "unlock.yaml",
        "force-change.yaml",
        "reset-admin.yaml",
        "reset-self.yaml",
        "recover.yaml",
        "send-recovery-code.yaml",
    } <= {path.name for path in CASE_FILES}


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda path: path.name)
def test_case_files_match_their_schema_and_name_known_requirements(path: Path) -> None:
    document = load_case_file(path)
    catalog = RequirementCatalog.load()
    for case in document["cases"]:
        assert catalog.unknown(case["requirements"]) == [], case["description"]


def test_descriptions_are_unique_across_case_files() -> None:
    descriptions = [
        case["description"] for path in CASE_FILES for case in load_case_file(path)["cases"]
    ]
    assert len(descriptions) == len(set(descriptions))


def test_case_files_hold_no_password() -> None:
    """Request bodies use placeholders only: every password field is <valid|right|wrong…>."""
    for path in CASE_FILES:
        for case in load_case_file(path)["cases"]:
            steps = case.get("steps") or [case]
            bodies = [step.get("request", {}).get("body") or {} for step in steps]
            bodies.append(case["user"].get("import") or {})
            for body in bodies:
                for key in ("value", "password", "newPassword", "currentPassword", "recoveryCode"):
                    if key in body:
                        assert str(body[key]).startswith("<"), (path.name, case["description"])


def _write(tmp_path: Path, cases: list[dict[str, Any]]) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(
        yaml.safe_dump({"operation": "check", "source": "https://x.test/", "cases": cases})
    )
    (tmp_path / "cases.schema.json").write_text((CASES_DIR / "cases.schema.json").read_text())
    return path


def _case(**changes: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "description": "a wrong password answers 400",
        "requirements": ["P1-CHECK-002"],
        "user": {"password": "valid"},
        "request": {"operation": "check", "body": {"password": "<wrong>"}},
        "expect": {"http": 400},
    }
    case.update(changes)
    return case


@pytest.mark.parametrize(
    ("cases", "message"),
    [
        ([_case(), _case()], "used twice"),
        ([_case(description="the answer should be 400")], "should"),
        ([_case(expect={"http": 400, "colour": "red"})], "Additional properties"),
        ([_case(steps=[{"request": {"operation": "read"}, "expect": {"http": 200}}])], "at $"),
        (
            [
                _case(
                    request=None,
                    expect=None,
                    steps=[
                        {
                            "request": {"operation": "read"},
                            "expect": {"http": 200, "laterThan": {"step": "x", "field": "a"}},
                        }
                    ],
                )
            ],
            "no earlier step named 'x'",
        ),
        ([_case(requirements=["SET-1"])], "does not match"),
        ([_case(description="Starts upper case")], "does not match"),
    ],
    ids=[
        "duplicate",
        "should",
        "unknown-expectation",
        "request-and-steps",
        "unknown-step",
        "bad-requirement-id",
        "capitalised",
    ],
)
def test_malformed_case_files_are_refused(
    tmp_path: Path, cases: list[dict[str, Any]], message: str
) -> None:
    cleaned = [{k: v for k, v in case.items() if v is not None} for case in cases]
    with pytest.raises(CaseFileError) as raised:
        load_case_file(_write(tmp_path, cleaned))
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("stamp", "tick"),
    [
        ("2025-04-11T16:02:03.217Z", 0.001),
        ("2025-04-11T16:02:03Z", 1.0),
        ("2025-04-11T16:02:03.217123+00:00", 0.000001),
        ("2025-04-11T16:02:03.5Z", 0.1),
    ],
)
def test_clock_tick_follows_the_fraction_digits(stamp: str, tick: float) -> None:
    assert clock_tick_seconds(stamp) == pytest.approx(tick)


def test_failures_remaining_and_field_paths() -> None:
    body = {"details": [{"code": "X"}, {"innerError": {"failuresRemaining": 3}}]}
    assert failures_remaining(body) == 3
    assert failures_remaining({"details": [{"innerError": {"failuresRemaining": True}}]}) is None
    assert failures_remaining({}) is None
    assert field_value({"a": {"b": None}}, "a.b") == (True, None)
    assert field_value({"a": {}}, "a.b") == (False, None)


# --- the runner against the reference ----------------------------------------------------------


class Harness:
    def __init__(self, reference: RunningReference) -> None:
        target = Target(
            api_base_url=reference.api_base_url,
            auth_base_url=reference.auth_base_url,
            env_id=reference.env_id,
            credentials=ClientCredentials(reference.client_id, reference.client_secret),
            is_reference=True,
        )
        self.redactor = Redactor()
        session = requests.Session()
        tokens = TokenProvider(target, session, self.redactor)
        self.api = ApiClient(target, tokens, self.redactor, session, recorder=None)
        self.passwords = PasswordBook(self.redactor)
        self.registry = UserRegistry(self.api, PolicyBook(self.api), self.passwords, new_run_id())
        self.factory = UserFactory(self.registry)
        self.sleeps: list[float] = []
        self.runner = CaseRunner(
            self.api, self.factory, self.passwords, SchemaStore(), sleep=self.sleeps.append
        )


@pytest.fixture
def harness(start_known_reference: ReferenceStarter) -> Harness:
    return Harness(start_known_reference())


def _cases(name: str) -> dict[str, dict[str, Any]]:
    document = load_case_file(CASES_DIR / name)
    return {case["description"]: case for case in document["cases"]}


def test_later_than_waits_one_tick_of_the_compared_value(harness: Harness) -> None:
    case = _cases("set-password.yaml")["a second set moves lastChangedAt forward"]
    harness.runner.run(case)
    assert harness.sleeps == [pytest.approx(0.002)]  # 1 ms resolution + 1 ms margin
    harness.factory.cleanup()


def test_unmet_expectations_are_all_listed_with_the_exchange(harness: Harness) -> None:
    case = _case(
        user={"password": "valid"},
        request={"operation": "check", "body": {"password": "<right>"}},
        expect={"http": 400, "status": "NO_PASSWORD", "schema": "error.schema.json"},
    )
    with pytest.raises(AssertionError) as raised:
        harness.runner.run(case)
    message = str(raised.value)
    assert "HTTP 400 expected, got 200" in message
    assert "status 'NO_PASSWORD' expected, got 'OK'" in message
    assert "is a required property" in message  # from the error-envelope schema
    assert "POST " in message  # the redacted exchange follows
    assert harness.factory.cleanup() == []


def test_the_right_password_is_never_shown_in_a_failure(harness: Harness) -> None:
    case = _case(
        request={"operation": "set", "body": {"value": "<valid>"}},
        expect={"http": 201},
    )
    with pytest.raises(AssertionError) as raised:
        harness.runner.run(case)
    for user in harness.registry.live:
        assert user.password is not None
        assert user.password not in str(raised.value)
    harness.factory.cleanup()


def test_one_less_than_compares_with_the_named_step(harness: Harness) -> None:
    cases = _cases("check-password.yaml")
    harness.runner.run(cases["a second, different wrong password lowers failuresRemaining by one"])
    broken = _case(
        user={"password": "valid"},
        request=None,
        expect=None,
        steps=[
            {
                "name": "first",
                "request": {"operation": "check", "body": {"password": "<wrong>"}},
                "expect": {"http": 400},
            },
            {
                "request": {"operation": "check", "body": {"password": "<right>"}},
                "expect": {"http": 400, "failuresRemaining": {"oneLessThan": "first"}},
            },
        ],
    )
    with pytest.raises(AssertionError, match="failuresRemaining expected, got none"):
        harness.runner.run({k: v for k, v in broken.items() if v is not None})
    harness.factory.cleanup()


def test_placeholders_make_fresh_or_named_passwords() -> None:
    redactor = Redactor()
    passwords = PasswordBook(redactor)
    runner = CaseRunner(None, None, passwords, SchemaStore())  # type: ignore[arg-type]
    state = CaseState(
        user=UserUnderTest("u-1", "p1conf-x-1", password="Current-Pa55-word"),
        policy=PasswordPolicy.from_json(BUILT_IN_POLICIES["Standard"]),
    )
    body = {
        "a": "<wrong:x>",
        "b": "<wrong:x>",
        "c": "<wrong>",
        "d": "<wrong>",
        "e": "<valid>",
        "f": ["<right>", 5, "<literal>"],
    }
    filled = runner._fill(body, state)  # noqa: SLF001
    assert filled["a"] == filled["b"]
    assert len({filled["a"], filled["c"], filled["d"], filled["e"]}) == 4
    assert filled["f"] == ["Current-Pa55-word", 5, "<literal>"]
    assert all(redactor.is_registered(filled[key]) for key in "acde")


def test_failures_remaining_cases_skip_without_lockout(
    start_known_reference: ReferenceStarter,
) -> None:
    harness = Harness(start_known_reference(policy_overrides={"lockout": None}))
    case = _cases("check-password.yaml")["a wrong password reports failuresRemaining"]
    with pytest.raises(pytest.skip.Exception, match="no lockout"):
        harness.runner.run(case)
    harness.factory.cleanup()


def test_set_family_placeholders_violate_encode_and_remember() -> None:
    redactor = Redactor()
    passwords = PasswordBook(redactor)
    runner = CaseRunner(None, None, passwords, SchemaStore())  # type: ignore[arg-type]
    policy = PasswordPolicy.from_json(BUILT_IN_POLICIES["Standard"])
    state = CaseState(user=UserUnderTest("u-1", "p1conf-x-1"), policy=policy)
    body = {
        "a": "<violating>",
        "b": "<violating>",
        "c": "<violating:maxRepeatedCharacters>",
        "d": "<encoded:SSHA512>",
        "e": "<encoded:BCRYPT>",
    }
    filled = runner._fill(body, state)  # noqa: SLF001
    assert filled["a"] == filled["b"]
    assert policy.violations(filled["a"]) == ["length"]
    assert policy.violations(filled["c"]) == ["maxRepeatedCharacters"]
    for key in "de":
        assert state.encoded[filled[key]] == filled["a"]
        assert reference_encodings.verify(filled[key], filled["a"])
    assert all(redactor.is_registered(filled[key]) for key in "acde")


def test_a_rule_the_policy_lacks_skips_the_case() -> None:
    runner = CaseRunner(None, None, PasswordBook(Redactor()), SchemaStore())  # type: ignore[arg-type]
    basic = PasswordPolicy.from_json(BUILT_IN_POLICIES["Basic"])
    state = CaseState(user=UserUnderTest("u-1", "p1conf-x-1"), policy=basic)
    with pytest.raises(pytest.skip.Exception, match="no maxRepeatedCharacters rule"):
        runner._fill("<violating:maxRepeatedCharacters>", state)  # noqa: SLF001


def test_former_is_the_password_before_the_last_change(harness: Harness) -> None:
    case = _case(
        user={"password": "valid"},
        request=None,
        expect=None,
        steps=[
            {"request": {"operation": "setValue", "body": {}}, "expect": {"http": 200}},
            {
                "request": {"operation": "check", "body": {"password": "<former>"}},
                "expect": {"http": 200},
            },
        ],
    )
    with pytest.raises(AssertionError, match="HTTP 200 expected, got 400"):
        harness.runner.run({k: v for k, v in case.items() if v is not None})
    harness.factory.cleanup()


def test_either_lists_every_unmet_alternative(harness: Harness) -> None:
    case = _case(
        user={"password": "valid"},
        request={"operation": "check", "body": {"password": "<right>"}},
        expect={"either": [{"http": 400}, {"http": 200, "status": "NO_PASSWORD"}]},
    )
    with pytest.raises(AssertionError, match=r"none of the 2 accepted outcomes: \(1\) HTTP 400"):
        harness.runner.run(case)
    harness.factory.cleanup()
