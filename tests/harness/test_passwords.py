"""Generated passwords satisfy the target's policy, never repeat, and are registered secrets."""

from __future__ import annotations

import random
from typing import Any

import pytest

from harness.passwords import PasswordBook, PasswordPolicy, policies_in
from harness.redaction import Redactor
from reference.policies import BUILT_IN_POLICIES, ProfileData, evaluate

PROFILE = ProfileData(
    username="p1conf-20260101000000-abcdef-1",
    email="p1conf-20260101000000-abcdef-1@example.com",
    given_name="Conformance",
    family_name="Suite",
)


@pytest.mark.parametrize("name", sorted(BUILT_IN_POLICIES))
def test_generated_passwords_pass_the_reference_policy_evaluation(name: str) -> None:
    """An independent implementation of the rules (the reference's) accepts every password."""
    document = BUILT_IN_POLICIES[name]
    policy = PasswordPolicy.from_json({**document, "id": f"id-{name}"})
    book = PasswordBook(Redactor(), random.Random(7))
    for _ in range(200):
        password = book.valid(policy)
        result = evaluate(document, password, profile=PROFILE)
        assert result.ok, (name, result.unsatisfied)


def test_tight_length_rules_are_honoured() -> None:
    policy = PasswordPolicy.from_json(
        {
            "length": {"min": 10, "max": 10},
            "minCharacters": {"0123456789": 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZ": 3},
            "minUniqueCharacters": 8,
        }
    )
    book = PasswordBook(Redactor(), random.Random(1))
    for _ in range(50):
        password = book.valid(policy)
        assert len(password) == 10
        assert sum(c.isdigit() for c in password) >= 3
        assert sum(c.isupper() for c in password) >= 3
        assert len(set(password)) >= 8


def test_contradictory_rules_are_reported_not_looped_on() -> None:
    policy = PasswordPolicy.from_json(
        {"length": {"min": 8, "max": 8}, "minCharacters": {"0123456789": 9}}
    )
    with pytest.raises(ValueError, match="contradict"):
        PasswordBook(Redactor()).valid(policy)


def test_passwords_are_distinct_and_registered_with_redaction() -> None:
    redactor = Redactor()
    book = PasswordBook(redactor)
    policy = PasswordPolicy.from_json(BUILT_IN_POLICIES["Standard"])
    made = [book.valid(policy) for _ in range(30)] + [book.wrong(policy) for _ in range(30)]
    assert len(set(made)) == 60
    assert book.count == 60
    assert all(redactor.is_registered(password) for password in made)
    assert redactor.text(" ".join(made)) == " ".join(["[REDACTED]"] * 60)


@pytest.mark.parametrize(
    ("password", "broken"),
    [
        ("Aa1!Aa1!xyzQ", ["alphabetSequenceRule"]),
        ("Aa1!789Qwzx", ["numberSequenceRule"]),
        ("Aa1!qwe9Zk", ["qwertySequenceRule"]),
        ("Aa1!!!9Zkm", ["maxRepeatedCharacters"]),
        ("Aa1!", ["length", "minUniqueCharacters"]),
        ("aa1!bkd9kz", ["minCharacters"]),
    ],
)
def test_policy_model_reports_what_a_password_breaks(password: str, broken: list[str]) -> None:
    policy = PasswordPolicy.from_json(BUILT_IN_POLICIES["Standard"])
    assert policy.violations(password) == broken


def test_policy_fields_are_read_from_the_resource() -> None:
    document: dict[str, Any] = {
        "id": "p-1",
        "name": "Custom",
        "lockout": {"failureCount": 3, "durationSeconds": 60},
        "length": {"min": 12, "max": 64},
        "qwertySequenceRule": {"maxLength": 3},
    }
    policy = PasswordPolicy.from_json(document)
    assert (policy.id, policy.name, policy.lockout_failure_count) == ("p-1", "Custom", 3)
    assert (policy.min_length, policy.max_length) == (12, 64)
    assert policy.sequence_limits == {"qwertySequenceRule": 3}
    assert PasswordPolicy.from_json({}).lockout_failure_count is None


def test_policies_are_read_from_the_embedded_collection() -> None:
    collection = {"_embedded": {"passwordPolicies": [{"id": "a"}, "junk", {"id": "b"}]}}
    assert policies_in(collection) == [{"id": "a"}, {"id": "b"}]
    assert policies_in({"_embedded": {}}) == []
    assert policies_in([]) == []
