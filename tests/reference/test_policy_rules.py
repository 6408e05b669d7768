"""Each password-policy rule, passing and failing, and the shape of a violation."""

from __future__ import annotations

from typing import Any

import pytest

from reference import complexity, policies
from reference.common_passwords import common_passwords, is_common
from reference.policies import BUILT_IN_POLICIES, ProfileData, evaluate, within_distance
from tests.reference.conftest import Api, assert_envelope, error_details, make_api

PROFILE = ProfileData(
    username="jdoe", email="jane.doe@example.com", given_name="Jane", family_name="Doe"
)


def failed(policy: dict[str, Any], password: str, **kwargs: Any) -> list[str]:
    return evaluate(policy, password, profile=kwargs.pop("profile", PROFILE), **kwargs).unsatisfied


RULE_CASES: list[tuple[dict[str, Any], str, list[str]]] = [
    ({"length": {"min": 8, "max": 12}}, "Abcdefg", ["length"]),
    ({"length": {"min": 8, "max": 12}}, "Abcdefgh", []),
    ({"length": {"min": 8, "max": 12}}, "Abcdefghijklm", ["length"]),
    ({"minCharacters": {"0123456789": 2}}, "abc1", ["minCharacters"]),
    ({"minCharacters": {"0123456789": 2}}, "abc12", []),
    ({"maxRepeatedCharacters": 2}, "abbbc", ["maxRepeatedCharacters"]),
    ({"maxRepeatedCharacters": 2}, "abbcc", []),
    ({"minUniqueCharacters": 5}, "aabbccdd", ["minUniqueCharacters"]),
    ({"minUniqueCharacters": 5}, "abcde", []),
    ({"excludesCommonlyUsed": True}, "dragon", ["excludesCommonlyUsed"]),
    ({"excludesCommonlyUsed": True}, "Dragon2024!", ["excludesCommonlyUsed"]),
    ({"excludesCommonlyUsed": True}, "Dragon-Fruit-Tree", []),
    ({"excludesProfileData": True}, "xxJDOExx", ["excludesProfileData"]),
    ({"excludesProfileData": True}, "my-jane.doe-pw", ["excludesProfileData"]),
    ({"excludesProfileData": True}, "Jane-Was-Here", ["excludesProfileData"]),
    ({"excludesProfileData": True}, "Ocean-Breeze-1", []),
    ({"minComplexity": 7}, "twelveletter", []),
    ({"minComplexity": 7}, "elevenlettr", ["minComplexity"]),
    ({"minComplexity": 7}, "lowercase", ["minComplexity"]),
    ({"minComplexity": 7}, "password", ["minComplexity"]),
    ({"alphabetSequenceRule": {"maxLength": 3}}, "xxabcdxx", ["alphabetSequenceRule"]),
    ({"alphabetSequenceRule": {"maxLength": 3}}, "xxDCBAxx", ["alphabetSequenceRule"]),
    ({"alphabetSequenceRule": {"maxLength": 3}}, "xxabcxx", []),
    ({"numberSequenceRule": {"maxLength": 2}}, "a123b", ["numberSequenceRule"]),
    ({"numberSequenceRule": {"maxLength": 2}}, "a12b3", []),
    ({"qwertySequenceRule": {"maxLength": 3}}, "1qwer1", ["qwertySequenceRule"]),
    ({"qwertySequenceRule": {"maxLength": 3}}, "1qwe1", []),
    (
        {"shiftedNumberRowSequenceRule": {"maxLength": 3}},
        "a!@#$b",
        ["shiftedNumberRowSequenceRule"],
    ),
    ({"shiftedNumberRowSequenceRule": {"maxLength": 3}}, "a!@#b", []),
]


@pytest.mark.parametrize(
    ("policy", "password", "expected"),
    RULE_CASES,
    ids=[f"{next(iter(p))}-{pw}" for p, pw, _ in RULE_CASES],
)
def test_rule(policy: dict[str, Any], password: str, expected: list[str]) -> None:
    assert failed(policy, password) == expected


def test_one_min_characters_entry_per_failed_set() -> None:
    result = evaluate(BUILT_IN_POLICIES["Basic"], "abcdefgh", profile=PROFILE)
    assert result.unsatisfied == ["minCharacters", "minCharacters", "minCharacters"]
    assert "minCharacters" in result.messages


def test_not_similar_to_current_applies_only_with_the_current_password() -> None:
    policy = {"notSimilarToCurrent": True}
    assert failed(policy, "smitten", current="kitten") == ["notSimilarToCurrent"]
    assert failed(policy, "Kitten12", current="kitten1") == ["notSimilarToCurrent"]
    assert failed(policy, "mittens!", current="kitten") == []
    assert failed(policy, "smitten") == []


def test_history_asks_the_reuse_test() -> None:
    policy = {"history": {"count": 6, "retentionDays": 365}}
    assert failed(policy, "Old-One-1", reused=lambda p: p == "Old-One-1") == ["history"]
    assert failed(policy, "New-One-1", reused=lambda p: p == "Old-One-1") == []
    assert failed(policy, "Old-One-1") == []  # no reuse test given: history not applied


@pytest.mark.parametrize(
    ("a", "b", "limit", "expected"),
    [
        ("kitten", "sitting", 2, False),
        ("kitten", "sitting", 3, True),
        ("", "ab", 2, True),
        ("abc", "abc", 0, True),
        ("a" * 5000, "a" * 4999 + "b", 2, True),
        ("a" * 5000, "b" * 5000, 2, False),
    ],
)
def test_banded_levenshtein(a: str, b: str, limit: int, expected: bool) -> None:
    assert within_distance(a, b, limit) is expected


def test_common_list_has_a_few_thousand_lower_case_entries() -> None:
    words = common_passwords()
    assert 3000 <= len(words) <= 10_000
    assert all(w == w.lower() for w in words)
    assert {"password", "123456", "qwerty", "dragon", "letmein"} <= words


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("PASSWORD", True),
        ("Password123!", True),
        ("letmein!!", True),
        ("123456", True),
        ("Spruce-Harbor-71k", False),
        ("!!!", False),
        ("pass word", False),
    ],
)
def test_common_password_variants(password: str, expected: bool) -> None:
    assert is_common(password) is expected


def test_complexity_estimate_grows_with_length_and_classes() -> None:
    assert complexity.days_to_crack("password") == 0.0
    assert complexity.days_to_crack("zq") < complexity.days_to_crack("zqxv")
    assert complexity.days_to_crack("zqxvzqxv") < complexity.days_to_crack("zqxvzqX1")
    assert complexity.days_to_crack("correct horse battery staple") > 1e6


def test_built_in_policies_match_the_documented_values() -> None:
    standard = BUILT_IN_POLICIES["Standard"]
    assert standard["lockout"] == {"failureCount": 5, "durationSeconds": 900}
    assert standard["history"] == {"count": 6, "retentionDays": 365}
    assert (standard["minAgeDays"], standard["maxAgeDays"]) == (1, 182)
    assert standard["length"] == {"min": 8, "max": 255}
    passphrase = BUILT_IN_POLICIES["Passphrase"]
    assert passphrase["minComplexity"] == 7
    assert not {"length", "minCharacters", "maxRepeatedCharacters"} & set(passphrase)
    assert "maxAgeDays" not in BUILT_IN_POLICIES["Basic"]


def test_overrides_merge_into_the_default_only_and_none_removes() -> None:
    book = policies.environment_policies(
        "env", "Standard", {"lockout": {"failureCount": 2}, "history": None}
    )
    by_name = {p["name"]: p for p in book.values()}
    assert by_name["Standard"]["lockout"] == {"failureCount": 2, "durationSeconds": 900}
    assert "history" not in by_name["Standard"]
    assert by_name["Passphrase"]["history"]["count"] == 6
    assert [p["name"] for p in book.values() if p["default"]] == ["Standard"]


def test_violation_body_has_the_documented_shape(api: Api) -> None:
    user_id = api.create_user(username="jdoe")
    response = api.op("set", user_id, {"value": "aaa"})
    assert_envelope(response, 400, "INVALID_DATA")
    [detail] = error_details(response)
    assert detail["code"] == "INVALID_VALUE"
    assert detail["target"] == "password"
    assert detail["message"] == "User password did not satisfy password policy requirements"
    inner = detail["innerError"]
    assert inner["unsatisfiedRequirements"] == [
        "minCharacters",
        "minCharacters",
        "minCharacters",
        "length",
        "maxRepeatedCharacters",
        "minUniqueCharacters",
    ]
    assert set(inner) == {
        "unsatisfiedRequirements",
        "minCharacters",
        "length",
        "maxRepeatedCharacters",
        "minUniqueCharacters",
    }
    assert all(isinstance(v, str) for k, v in inner.items() if k != "unsatisfiedRequirements")


def test_profile_data_is_checked_through_the_api(api: Api) -> None:
    user_id = api.create_user(username="quartzuser", name={"given": "Meadowlark"})
    response = api.op("set", user_id, {"value": "My-Meadowlark-77x"})
    assert error_details(response)[0]["innerError"]["unsatisfiedRequirements"] == [
        "excludesProfileData"
    ]


@pytest.mark.parametrize(
    ("name", "password", "ok"),
    [
        ("Passphrase", "correct horse battery staple", True),
        ("Passphrase", "sunshine", False),
        ("Basic", "Dragon-Fruit-7", True),
        ("Basic", "dragon-fruit-7", False),
    ],
)
def test_default_policy_can_be_another_built_in(name: str, password: str, ok: bool) -> None:
    api = make_api(default_policy=name)
    with api.client:
        policy_id = api.state(api.create_user())["passwordPolicy"]["id"]
        policy = api.request("GET", f"{api.env}/passwordPolicies/{policy_id}").json()
        assert policy["name"] == name
        assert policy["default"] is True
        response = api.op("set", api.create_user(), {"value": password})
        assert (response.status_code == 200) is ok, response.text


def test_policy_list_and_read(api: Api) -> None:
    listing = api.request("GET", f"{api.env}/passwordPolicies")
    assert listing.status_code == 200
    embedded = listing.json()["_embedded"]["passwordPolicies"]
    assert sorted(p["name"] for p in embedded) == ["Basic", "Passphrase", "Standard"]
    for policy in embedded:
        one = api.request("GET", f"{api.env}/passwordPolicies/{policy['id']}")
        assert one.json()["id"] == policy["id"]
        assert one.json()["_links"]["self"]["href"].endswith(policy["id"])
    assert_envelope(api.request("GET", f"{api.env}/passwordPolicies/nope"), 404, "NOT_FOUND")
