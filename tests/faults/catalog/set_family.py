"""Faults of the set family, state reads, password policy rules and user import.

Most are state faults: `wrap` receives the reference's Starlette app and replaces one method of a
domain service on `app.state` (`passwords`: the PasswordService, `users`: the UserService) with
a plausibly wrong one, then returns the app. The others rewrite the wire (`rewriting.rewrite`).
The reference's code is never edited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from reference import encodings
from reference.errors import detail, invalid_data
from reference.passwords import PasswordService, PasswordView, policy_failure
from reference.policies import PolicyResult
from tests.faults.fault import Fault, state_fault, wire_fault
from tests.faults.rewriting import PASSWORD_PATH_SUFFIX, ASGIApp, Exchange, Match, rewrite

# The user import is no password operation (it is not in operations.yaml): its media type is
# openapi.yaml's, for POST /users.
IMPORT = "application/vnd.pingidentity.user.import+json"

SET_CALLS = Match.for_operation("set")
READ_CALLS = Match.for_operation("read")
PASSWORD_CALLS = Match.password_calls()
IMPORT_CALLS = Match(method="POST", media_type=IMPORT, path_suffix="/users")


# --- state faults: one wrong method on a domain service ------------------------------------------
def _passwords(app: Any) -> PasswordService:
    service: PasswordService = app.state.passwords
    return service


def _pre_encoded_as_cleartext(app: Any) -> None:
    """Pre-encoded values are taken for cleartext: the literal `{SCHEME}…` text is hashed."""
    service = _passwords(app)

    def encode_for_storage(value: str, **options: Any) -> str:
        return service.hash_cleartext(value, **options)

    service.encode_for_storage = encode_for_storage  # type: ignore[method-assign]


def _pre_encoded_against_policy(app: Any) -> None:
    """Pre-encoded values are evaluated against the policy (their cleartext fails it)."""
    service = _passwords(app)
    original = service.encode_for_storage

    def encode_for_storage(value: str, **options: Any) -> str:
        if encodings.scheme_of(value) is not None and options.get("apply_policy"):
            result = PolicyResult()
            result.fail("length", "The provided password is shorter than the minimum length")
            raise policy_failure(result, options["target"])
        return original(value, **options)

    service.encode_for_storage = encode_for_storage  # type: ignore[method-assign]


def _bcrypt_unsupported(app: Any) -> None:
    """The server knows the SSHA family but not {BCRYPT}."""
    service = _passwords(app)
    original = service.encode_for_storage

    def encode_for_storage(value: str, **options: Any) -> str:
        if encodings.scheme_of(value) == "BCRYPT":
            raise invalid_data(detail("INVALID_VALUE", "Unsupported encoding", "value"))
        return original(value, **options)

    service.encode_for_storage = encode_for_storage  # type: ignore[method-assign]


def _bypass_ignored(app: Any) -> None:
    """bypassPolicy is accepted and ignored: the policy always applies."""
    service = _passwords(app)
    original = service.set

    def set_password(env_id: str, user_id: str, value: str, **options: Any) -> PasswordView:
        return original(env_id, user_id, value, **{**options, "bypass_policy": False})

    service.set = set_password  # type: ignore[method-assign]


def _refused_set_still_stores(app: Any) -> None:
    """A cleartext set the policy refuses answers 400 but has already replaced the password."""
    service = _passwords(app)
    original = service.set

    def set_password(env_id: str, user_id: str, value: str, **options: Any) -> PasswordView:
        try:
            return original(env_id, user_id, value, **options)
        except Exception:
            original(env_id, user_id, value, **{**options, "bypass_policy": True})
            raise

    service.set = set_password  # type: ignore[method-assign]


def _empty_set_value_keeps_password(app: Any) -> None:
    """setValue {} answers 200 but leaves the password as it was."""
    service = _passwords(app)
    original = service.set_value

    def set_value(env_id: str, user_id: str, value: str | None, **options: Any) -> PasswordView:
        if value is None:
            return service.read(env_id, user_id)
        return original(env_id, user_id, value, **options)

    service.set_value = set_value  # type: ignore[method-assign]


def _empty_set_value_honours_force_change(app: Any) -> None:
    """setValue without a value but with forceChange true forces a change instead of unsetting."""
    service = _passwords(app)
    original = service.set_value

    def set_value(env_id: str, user_id: str, value: str | None, **options: Any) -> PasswordView:
        if value is None and options.get("force_change"):
            return service.force_change(env_id, user_id)
        return original(env_id, user_id, value, **options)

    service.set_value = set_value  # type: ignore[method-assign]


def _set_value_ignores_value(app: Any) -> None:
    """setValue with a value answers 200 and changes nothing."""
    service = _passwords(app)
    original = service.set_value

    def set_value(env_id: str, user_id: str, value: str | None, **options: Any) -> PasswordView:
        if value is not None:
            return service.read(env_id, user_id)
        return original(env_id, user_id, value, **options)

    service.set_value = set_value  # type: ignore[method-assign]


def _skip_rule(rule: str, part: str | None = None) -> Callable[[Any], None]:
    """The policy check forgets one rule (or one part of it) that the policy still shows."""

    def install(app: Any) -> None:
        service = _passwords(app)
        original = service.policy_for

        def policy_for(user: Any) -> dict[str, Any]:
            policy = dict(original(user))
            if part is None:
                policy.pop(rule, None)
            elif isinstance(policy.get(rule), dict):
                policy[rule] = {k: v for k, v in policy[rule].items() if k != part}
            return policy

        service.policy_for = policy_for  # type: ignore[method-assign]

    return install


def _last_changed_without_password(app: Any) -> None:
    """The state shows a lastChangedAt even when the user has no password."""
    service = _passwords(app)
    original = service.view

    def view(user: Any, now: float | None = None) -> PasswordView:
        shown = original(user, now)
        if shown.last_changed_at is None:
            shown = replace(shown, last_changed_at=service.clock.now())
        return shown

    service.view = view  # type: ignore[method-assign]


def _unreadable_policy_id(app: Any) -> None:
    """The state names a password policy id that the policies endpoint does not know."""
    service = _passwords(app)
    original = service.view
    ghost = str(uuid.uuid4())

    def view(user: Any, now: float | None = None) -> PasswordView:
        return replace(original(user, now), policy_id=ghost)

    service.view = view  # type: ignore[method-assign]


def _import_drops_password(app: Any) -> None:
    """An import answers 201 but drops the password sub-object: the user has no password."""
    users = app.state.users
    original = users.create

    def create(env_id: str, body: dict[str, Any], *, allow_password: bool) -> Any:
        kept = {key: value for key, value in body.items() if key != "password"}
        return original(env_id, kept, allow_password=allow_password)

    users.create = create


# --- wire faults ---------------------------------------------------------------------------------
def _drop_embedded(exchange: Exchange) -> None:
    if isinstance(exchange.body, dict):
        exchange.body.pop("_embedded", None)


def _self_link_at_user(exchange: Exchange) -> None:
    links = exchange.body.get("_links") if isinstance(exchange.body, dict) else None
    own = links.get("self") if isinstance(links, dict) else None
    if isinstance(own, dict) and isinstance(own.get("href"), str):
        own["href"] = own["href"].removesuffix(PASSWORD_PATH_SUFFIX)


def _drop_last_changed(exchange: Exchange) -> None:
    if isinstance(exchange.body, dict):
        exchange.body.pop("lastChangedAt", None)


def _import_echoes_password(exchange: Exchange) -> None:
    sent = exchange.request_body if isinstance(exchange.request_body, dict) else {}
    password = sent.get("password")
    if exchange.status == 201 and isinstance(exchange.body, dict) and isinstance(password, dict):
        exchange.body["password"] = {"forceChange": bool(password.get("forceChange", False))}


def _drop_unsatisfied(exchange: Exchange) -> None:
    details = exchange.body.get("details") if isinstance(exchange.body, dict) else None
    for item in details if isinstance(details, list) else []:
        inner = item.get("innerError") if isinstance(item, dict) else None
        if isinstance(inner, dict):
            inner.pop("unsatisfiedRequirements", None)


def _omitted_force_change_is_true(body: dict[str, Any]) -> dict[str, Any]:
    return body if "forceChange" in body else {**body, "forceChange": True}


def _any_bypass_is_true(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "bypassPolicy": True} if "bypassPolicy" in body else body


def _on_response(match: Match, change: Callable[[Exchange], None]) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: rewrite(app, match, on_response=change)


def _on_request(
    match: Match, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: rewrite(app, match, on_request=change)


POLICY_RULE_FAULTS: tuple[Fault, ...] = tuple(
    state_fault(
        f"policy-skips-{name}",
        f"The cleartext policy check forgets {shown}, which the policy still shows.",
        catches,
        _skip_rule(rule, part),
    )
    for name, shown, rule, part, catches in (
        (
            "length-min",
            "length.min",
            "length",
            "min",
            ("P1-POLICY-002", "P1-SET-006", "P1-ERR-003", "P1-USER-004"),
        ),
        ("length-max", "length.max", "length", "max", ("P1-POLICY-003",)),
        ("min-characters", "minCharacters", "minCharacters", None, ("P1-POLICY-004",)),
        (
            "max-repeated",
            "maxRepeatedCharacters",
            "maxRepeatedCharacters",
            None,
            ("P1-POLICY-005",),
        ),
        ("min-unique", "minUniqueCharacters", "minUniqueCharacters", None, ("P1-POLICY-006",)),
        (
            "common-passwords",
            "excludesCommonlyUsed",
            "excludesCommonlyUsed",
            None,
            ("P1-POLICY-007",),
        ),
        ("profile-data", "excludesProfileData", "excludesProfileData", None, ("P1-POLICY-008",)),
    )
)

FAULTS: tuple[Fault, ...] = (
    state_fault(
        "pre-encoded-stored-as-cleartext",
        "A pre-encoded value is taken for cleartext: its {SCHEME}… text becomes the password.",
        ("P1-SET-007", "P1-SET-009", "P1-USER-002"),
        _pre_encoded_as_cleartext,
    ),
    state_fault(
        "pre-encoded-evaluated-against-policy",
        "A pre-encoded value is evaluated against the password policy and refused.",
        ("P1-SET-007", "P1-SET-009", "P1-USER-002"),
        _pre_encoded_against_policy,
    ),
    state_fault(
        "bcrypt-unsupported",
        "Pre-encoded {BCRYPT} values are refused as an unknown scheme.",
        ("P1-SET-009",),
        _bcrypt_unsupported,
    ),
    state_fault(
        "bypass-policy-ignored",
        "bypassPolicy true is accepted and ignored: the policy still refuses the value.",
        ("P1-SET-008",),
        _bypass_ignored,
    ),
    state_fault(
        "refused-set-still-stores",
        "A cleartext set the policy refuses answers 400 but has already replaced the password.",
        ("P1-SET-006",),
        _refused_set_still_stores,
    ),
    state_fault(
        "set-value-empty-keeps-password",
        "setValue {} answers 200 but leaves the password in place.",
        ("P1-SETVAL-001", "P1-STATE-002", "P1-STATE-006"),
        _empty_set_value_keeps_password,
    ),
    state_fault(
        "set-value-empty-honours-force-change",
        "setValue without a value but with forceChange true forces a change instead of unsetting.",
        ("P1-SETVAL-002",),
        _empty_set_value_honours_force_change,
    ),
    state_fault(
        "set-value-ignores-value",
        "setValue with a value answers 200 and changes nothing.",
        ("P1-SETVAL-003",),
        _set_value_ignores_value,
    ),
    *POLICY_RULE_FAULTS,
    state_fault(
        "last-changed-without-password",
        "The state shows lastChangedAt for a user who has no password.",
        ("P1-STATE-002",),
        _last_changed_without_password,
    ),
    state_fault(
        "state-names-unreadable-policy",
        "passwordPolicy.id in the state names a policy the policies endpoint does not have.",
        ("P1-STATE-004", "P1-STATE-003"),
        _unreadable_policy_id,
    ),
    state_fault(
        "import-drops-password",
        "An import answers 201 but drops the password sub-object.",
        ("P1-USER-002", "P1-USER-005"),
        _import_drops_password,
    ),
    wire_fault(
        "read-ignores-expand",
        "Read Password State ignores expand=passwordPolicy.",
        ("P1-STATE-003",),
        _on_response(READ_CALLS, _drop_embedded),
    ),
    wire_fault(
        "self-link-points-at-user",
        "The password state's self link points at the user, not at …/password.",
        ("P1-STATE-005",),
        _on_response(PASSWORD_CALLS, _self_link_at_user),
    ),
    wire_fault(
        "read-omits-last-changed",
        "Read Password State never shows lastChangedAt.",
        ("P1-STATE-002",),
        _on_response(READ_CALLS, _drop_last_changed),
    ),
    wire_fault(
        "import-returns-password-object",
        "The 201 of an import carries the password sub-object back.",
        ("P1-USER-003",),
        _on_response(IMPORT_CALLS, _import_echoes_password),
    ),
    wire_fault(
        "policy-violation-without-unsatisfied",
        "A policy rejection leaves out innerError.unsatisfiedRequirements.",
        ("P1-ERR-003",),
        _on_response(SET_CALLS, _drop_unsatisfied),
    ),
    wire_fault(
        "omitted-force-change-means-true",
        "Set without forceChange treats it as true (MUST_CHANGE_PASSWORD).",
        ("P1-SET-005",),
        _on_request(SET_CALLS, _omitted_force_change_is_true),
    ),
    wire_fault(
        "bypass-policy-false-bypasses",
        "Any bypassPolicy in the body, false included, skips the policy.",
        ("P1-SET-006",),
        _on_request(SET_CALLS, _any_bypass_is_true),
    ),
)
