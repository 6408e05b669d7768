"""One-rule policy violations are built from the policy's own values, and checked by the
reference's rule evaluation (an independent implementation of the same rules)."""

from __future__ import annotations

import pytest

from harness.passwords import PasswordPolicy
from harness.policy_violations import REPORTED_AS, RULES, NoViolation, ViolationMaker
from reference.policies import BUILT_IN_POLICIES, ProfileData, deep_merge, evaluate

USERNAME = "p1conf-20261201230000-abc123-1"
PROFILE = [USERNAME, "Conformance", "Suite"]
STANDARD = BUILT_IN_POLICIES["Standard"]
TIGHT = deep_merge(
    STANDARD,
    {"length": {"min": 14, "max": 40}, "maxRepeatedCharacters": 1, "minUniqueCharacters": 9},
)


CASES = [("standard", STANDARD, rule) for rule in RULES] + [
    ("tight", TIGHT, rule) for rule in RULES if rule != "excludesCommonlyUsed"
]


@pytest.mark.parametrize(
    ("policy", "rule"),
    [(policy, rule) for _, policy, rule in CASES],
    ids=[f"{n}-{r}" for n, _, r in CASES],
)
def test_the_value_breaks_that_rule_only(policy: dict[str, object], rule: str) -> None:
    value = ViolationMaker().make(rule, PasswordPolicy.from_json(policy), PROFILE)
    result = evaluate(
        policy,
        value,
        profile=ProfileData(username=USERNAME, given_name="Conformance", family_name="Suite"),
    )
    assert set(result.unsatisfied) == {REPORTED_AS.get(rule, rule)}


def test_limits_come_from_the_policy() -> None:
    tight = PasswordPolicy.from_json(TIGHT)
    maker = ViolationMaker()
    assert len(maker.make("length", tight, PROFILE)) == 13
    assert len(maker.make("lengthMax", tight, PROFILE)) == 41
    assert len(set(maker.make("minUniqueCharacters", tight, PROFILE))) == 8


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("length", "no length.min"),
        ("maxRepeatedCharacters", "no maxRepeatedCharacters"),
        ("minCharacters", "no minCharacters"),
    ],
)
def test_a_missing_rule_says_so(rule: str, reason: str) -> None:
    passphrase = PasswordPolicy.from_json(BUILT_IN_POLICIES["Passphrase"])
    with pytest.raises(NoViolation, match=reason):
        ViolationMaker().make(rule, passphrase, PROFILE)


def test_an_unknown_rule_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="unknown policy rule"):
        ViolationMaker().make("colour", PasswordPolicy.from_json(STANDARD), PROFILE)


def test_no_common_variant_fits_a_policy_without_double_letters() -> None:
    """ "Password" has a double s: with maxRepeatedCharacters 1 no variant fits, so it skips."""
    with pytest.raises(NoViolation, match="no variant"):
        ViolationMaker().make("excludesCommonlyUsed", PasswordPolicy.from_json(TIGHT), PROFILE)
