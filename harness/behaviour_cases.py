"""Behaviour cases as data, and the small runner that sends them and checks what came back.

Case files (`suites/behaviour/cases/*.yaml`) validate against `cases.schema.json` beside them.
Each case gets a fresh user under test, fills the placeholders of its request bodies with
generated passwords (`<valid>`, `<right>`, `<wrong>`, `<wrong:NAME>`; for the set family
`<violating>`, `<violating:RULE>` and `<encoded:SCHEME>`), sends its steps in order
and checks every expectation of each step (the checks are `harness.case_expectations`). A
failure lists every unmet expectation of the step with the redacted exchange. A case quotes no
source itself: its requirements' quotes, in `schemas/requirements.yaml`, are its source.

The status model adds (one grouped section of the runner): user variants (an external-IdP user,
a disabled one, a password locked out first), steps repeated a count the policy gives, clock
steps, media-type spellings tried in turn, and the placeholders `<code>`, `<wrong-code>`,
`<previous>`, `<weak>` and `<similar>`. What a case needs beyond a worker token (harness/sources.py)
follows from what it does; a missing source skips it with `needs a source: <name>`.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.case_expectations import (
    MAX_TICK_SECONDS,
    TICK_MARGIN_SECONDS,
    CaseState,
    Observation,
    StepResult,
    clock_tick_seconds,
    failures_remaining,
    field_value,
    referenced_steps,
    unmet,
)
from harness.client import ApiClient
from harness.data_files import read_yaml
from harness.encodings import encode
from harness.failures import ConformanceFailure
from harness.passwords import PasswordBook, PasswordPolicy, looks_pre_encoded
from harness.policy_violations import NoViolation, ViolationMaker
from harness.schemas import SchemaStore
from harness.sources import CLOCK, EXTERNAL_IDP, RECOVERY_CODE, SELF_ACTOR, Sources
from harness.users import (
    FAMILY_NAME,
    GIVEN_NAME,
    UserFactory,
    UserSetupError,
    UserUnderTest,
    parse_timestamp,
)

__all__ = [
    "CaseFileError",
    "CaseRunner",
    "CaseState",
    "StepResult",
    "case_params",
    "clock_tick_seconds",
    "failures_remaining",
    "field_value",
    "load_case_dir",
    "load_case_file",
    "sources_needed",
]

PLACEHOLDER = re.compile(r"^<(valid|right|wrong|violating|encoded|former)(?::([A-Za-z0-9_-]+))?>$")
# Requests of a step that are not password operations: the user resource itself.
USER_REQUESTS = ("readUser", "importUser")
# The body field that carries the new password, per password-changing operation.
NEW_PASSWORD_FIELD = {
    "set": "value",
    "setValue": "value",
    "setGateway": "value",
    "resetAdmin": "newPassword",
    "resetSelf": "newPassword",
    "recover": "newPassword",
}
SCHEMA_FILE = "cases.schema.json"


class CaseFileError(ValueError):
    """A case file does not match its schema or breaks a data rule."""


def load_case_file(path: Path, schema_path: Path | None = None) -> dict[str, Any]:
    """Read a case file and check it: its schema, unique step names, no "should" wording."""
    schema_file = schema_path or path.with_name(SCHEMA_FILE)
    document = read_yaml(path)
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"at {e.json_path}: {e.message}" for e in validator.iter_errors(document)]
    if errors:
        raise CaseFileError(
            f"{path.name} does not match {schema_file.name}:\n  " + "\n  ".join(errors)
        )
    problems = []
    seen: set[str] = set()
    for case in document["cases"]:
        description = case["description"]
        if description in seen:
            problems.append(f"description used twice: {description!r}")
        seen.add(description)
        if re.search(r"\bshould\b", description, re.IGNORECASE):
            problems.append(f"description says 'should' (the level says how firm): {description!r}")
        names = [step.get("name") for step in steps_of(case) if step.get("name")]
        if len(names) != len(set(names)):
            problems.append(f"{description!r}: step names repeat")
        for step in steps_of(case):
            for reference in referenced_steps(step.get("expect", {})):
                if reference not in names:
                    problems.append(f"{description!r}: no earlier step named {reference!r}")
    if problems:
        raise CaseFileError(f"{path.name}:\n  " + "\n  ".join(problems))
    return dict(document)


def load_case_dir(directory: Path) -> list[dict[str, Any]]:
    """Every case file of a folder, checked, in file-name order; descriptions unique across."""
    documents = [load_case_file(path) for path in sorted(directory.glob("*.yaml"))]
    ids = [case_id(doc, case) for doc in documents for case in doc["cases"]]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise CaseFileError(f"case ids used twice in {directory.name}/: {repeated}")
    return documents


def steps_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's steps; a single `request` + `expect` is one step."""
    if "steps" in case:
        return list(case["steps"])
    return [{"request": case["request"], "expect": case["expect"]}]


def case_id(document: dict[str, Any], case: dict[str, Any]) -> str:
    """`check: a wrong password reports failuresRemaining`."""
    return f"{document['operation']}: {case['description']}"


def case_params(documents: list[dict[str, Any]]) -> list[Any]:
    """`pytest.param`s of case files: readable ids, marked with their requirements."""
    return [
        pytest.param(
            case,
            id=case_id(document, case),
            marks=pytest.mark.requirement(*case["requirements"]),
        )
        for document in documents
        for case in document["cases"]
    ]


class CaseRunner:
    """Runs one behaviour case against the target."""

    def __init__(
        self,
        api: ApiClient,
        users: UserFactory,
        passwords: PasswordBook,
        schemas: SchemaStore,
        sleep: Callable[[float], None] = time.sleep,
        sources: Sources | None = None,
    ) -> None:
        self.api = api
        self.users = users
        self.passwords = passwords
        self.schemas = schemas
        self._sleep = sleep
        self.sources = sources or Sources()

    def run(self, case: dict[str, Any]) -> None:
        """Create the user, then send each step and check its expectations."""
        wanted = case["user"]
        steps = steps_of(case)
        self.sources.require(sources_needed(case))
        if "import" in wanted:
            state = self._import_user(wanted)
        else:
            kind = None if wanted["password"] == "none" else wanted["password"]
            user = self.users.create(
                password=kind,
                force_change=bool(wanted.get("forceChange")),
                extra_fields=self._user_fields(wanted),
            )
            state = CaseState(user=user)
        self._skip_unless_policy_has(case.get("policyRules", []), state)
        self._skip_unless_lockout_allows(steps, state)
        if wanted.get("lockedOut"):
            self._lock_out(state)
        for index, step in enumerate(steps, start=1):
            if "advanceClock" in step:
                self._advance_clock(step["advanceClock"], state)
                continue
            times = self._repetitions(step, state)
            for _ in range(times):
                result = self._send(step, state)
                self._check(index, step, result, state)
            if result.name:
                state.results[result.name] = result
            self._wait_for_clock_tick(result, steps[index:])

    def policy(self, state: CaseState) -> PasswordPolicy:
        """The password policy of the case's user, as the target reports it."""
        if state.policy is None:
            state.policy = self.users.policy_of(state.user)
        policy: PasswordPolicy = state.policy
        return policy

    def read_status(self, state: CaseState) -> tuple[Any, str]:
        """The user's password status from GET …/password, and where it came from."""
        response = self.api.password_operation(state.user.id, "read")
        try:
            value = response.json().get("status")
        except (ValueError, AttributeError):
            value = None
        return value, f"GET …/password (HTTP {response.status_code})"

    def _skip_unless_lockout_allows(self, steps: list[dict[str, Any]], state: CaseState) -> None:
        """Skip failuresRemaining cases the user's policy cannot support (no or tight lockout)."""
        if not any("failuresRemaining" in step.get("expect", {}) for step in steps):
            return
        limit = self.policy(state).lockout_failure_count
        if limit is None:
            pytest.skip("the user's password policy has no lockout, so no failures are counted")
        wrongs = sum(
            1
            for step in steps
            if _uses_wrong(step.get("request", {}).get("body")) and not step.get("repeat")
        )
        if wrongs > limit:
            pytest.skip(f"the case needs {wrongs} failures; the policy locks out after {limit}")

    def _send(self, step: dict[str, Any], state: CaseState) -> StepResult:
        request = step["request"]
        operation = request["operation"]
        body = self._fill(request.get("body"), state)
        if operation == "readUser":
            response = self.api.get(self.api.user_url(state.user.id))
        elif operation == "importUser":  # another user, imported with `body` as its password
            _, response = self.users.import_user(self.users.next_username(), body)
        else:
            response = self._deliver(state.user.id, request, body)
        field_name = NEW_PASSWORD_FIELD.get(operation)
        if response.status_code == 200 and field_name and isinstance(body, dict):
            new_password = body.get(field_name)
            if isinstance(new_password, str):
                if state.user.password is not None:
                    state.earlier_passwords.append(state.user.password)
                state.former = state.user.password
                state.user.password = state.encoded.get(new_password, new_password)
            elif operation == "setValue":
                state.former = state.user.password
                state.user.password = None  # {} unsets the password
        self._note_step(operation, request.get("body"), response.status_code, state)
        return self._result(step.get("name"), operation, response)

    def _result(self, name: str | None, operation: str, response: Any) -> StepResult:
        try:
            decoded: Any = response.json()
        except ValueError:
            decoded = None
        exchange = self.api.last_exchange()
        summary = exchange.summary() if exchange else f"HTTP {response.status_code}"
        return StepResult(name, operation, response.status_code, decoded, summary)

    # --- set family: imported users, policy violations, pre-encoded values ------------------------
    def _import_user(self, wanted: dict[str, Any]) -> CaseState:
        """Import the case's user with the `import` password sub-object; check `expect` on it."""
        username = self.users.next_username()
        state = CaseState(
            user=UserUnderTest(id="", username=username), policy=self.users.default_policy()
        )
        password = self._fill(wanted["import"], state)
        user, response = self.users.import_user(username, password)
        result = self._result("import", "importUser", response)
        if user is not None:
            value = password.get("value")
            user.password = state.encoded.get(value, value) if isinstance(value, str) else None
            state.user = user
            state.policy = None  # from here on, the policy the target names for this user
        if "expect" in wanted:
            self._check(0, {"expect": wanted["expect"]}, result, state)
        if user is None:
            raise UserSetupError(f"importing a user under test failed\n{result.summary}")
        state.results["import"] = result
        return state

    def _violation(self, rule: str | None, state: CaseState) -> str:
        """The case's value breaking `rule` of the user's policy (None: any one rule); the case
        skips when the policy has no such rule."""
        try:
            return self._made_violation(rule, state)
        except NoViolation as reason:
            pytest.skip(str(reason))

    def _made_violation(self, rule: str | None, state: CaseState) -> str:
        """As _violation, raising NoViolation for the caller to decide."""
        if rule not in state.violating:
            profile = [state.user.username, GIVEN_NAME, FAMILY_NAME]
            value = ViolationMaker().make(rule, self.policy(state), profile)
            state.violating[rule] = self.passwords.register(value)
        return state.violating[rule]

    def _encoded(self, scheme: str, state: CaseState) -> str:
        """`{SCHEME}…` of the case's `<violating>` value: a password the policy would refuse."""
        cleartext = self._violation(None, state)
        try:
            value = encode(scheme, cleartext)
        except ValueError as reason:
            pytest.skip(f"cannot pre-encode the case's value as {scheme}: {reason}")
        state.encoded[self.passwords.register(value)] = cleartext
        return value

    def _fill(self, value: Any, state: CaseState) -> Any:
        if isinstance(value, dict):
            return {key: self._fill(item, state) for key, item in value.items()}
        if isinstance(value, list):
            return [self._fill(item, state) for item in value]
        if not isinstance(value, str):
            return value
        match = PLACEHOLDER.match(value)
        if match is None:
            return self._fill_state_placeholder(value, state)
        kind, name = match.groups()
        if kind == "violating":
            return self._violation(name, state)
        if kind == "encoded":
            return self._encoded(name or "SSHA512", state)
        if kind == "former":
            if state.former is None:
                raise ValueError("<former> used before a step changed a password")
            return state.former
        if kind == "right":
            if state.user.password is None:
                raise ValueError("<right> used on a user without a password")
            return state.user.password
        if kind == "valid":
            return self.passwords.valid(self.policy(state))
        if name is None:
            return self.passwords.wrong(self.policy(state))
        if name not in state.named_wrong:
            state.named_wrong[name] = self.passwords.wrong(self.policy(state))
        return state.named_wrong[name]

    def _check(self, index: int, step: dict[str, Any], got: StepResult, state: CaseState) -> None:
        problems = unmet(step["expect"], Observation(got, state, self))
        if problems:
            where = f"step {index} ({got.operation}{', ' + got.name if got.name else ''})"
            listed = "\n".join(f"  - {line}" for line in problems)
            text = f"{where}: {len(problems)} unmet expectation(s):\n{listed}\n\n{got.summary}"
            raise ConformanceFailure(self.api.redactor.text(text))

    def _wait_for_clock_tick(self, result: StepResult, later: list[dict[str, Any]]) -> None:
        """After a step that a later step compares a date-time with, wait one clock tick.

        The tick is the resolution the value shows (1 ms for `…03.217Z`), so a change made
        after the wait carries a strictly later value on a correct server. No wall-clock value
        is ever compared with the server's.
        """
        if not result.name:
            return
        for step in later:
            spec = step.get("expect", {}).get("laterThan")
            if isinstance(spec, dict) and spec["step"] == result.name:
                present, value = field_value(result.body, spec["field"])
                if present and isinstance(value, str) and parse_timestamp(value) is not None:
                    tick = min(clock_tick_seconds(value), MAX_TICK_SECONDS)
                    self._sleep(tick + TICK_MARGIN_SECONDS)
                return

    # --- the password status model: user variants, lockout, the clock, recovery codes ---------
    def _user_fields(self, wanted: dict[str, Any]) -> dict[str, Any]:
        """Create-user body fields of the case's user variant."""
        fields: dict[str, Any] = {}
        if wanted.get("identityProvider") == "external" and self.sources.external_idp:
            fields["identityProvider"] = self.sources.external_idp.identity_provider()
        if wanted.get("enabled") is False:
            fields["enabled"] = False
        return fields

    def _skip_unless_policy_has(self, rules: list[str], state: CaseState) -> None:
        """Skip when the user's policy lacks a rule the case needs (`history.count>=2`, …)."""
        policy = self.policy(state)
        for rule in rules:
            path, _, minimum = rule.partition(">=")
            present, value = field_value(policy.raw, path)
            if not present or value in (None, False, 0, {}):
                pytest.skip(f"the user's password policy has no {path}, which the case needs")
            if minimum and not (isinstance(value, int) and value >= int(minimum)):
                pytest.skip(f"the case needs {path} of at least {minimum}; the policy has {value}")

    def _repetitions(self, step: dict[str, Any], state: CaseState) -> int:
        """How many times the step is sent: once, or a count read from the policy."""
        spec = step.get("repeat")
        if spec is None:
            return 1
        if spec.startswith("recoveryFailures"):
            return RECOVERY_MAX_FAILURES - (1 if spec.endswith("-1") else 0)
        limit = self.policy(state).lockout_failure_count
        if limit is None:
            pytest.skip("the user's password policy has no lockout, which the case needs")
        times = limit - 1 if spec == "failureCount-1" else limit
        if times < 1:
            pytest.skip(f"the policy locks out after {limit} failure(s): nothing to count first")
        return times

    def _lock_out(self, state: CaseState) -> None:
        """Lock the user's password with failureCount distinct wrong checks (from the policy)."""
        limit = self.policy(state).lockout_failure_count
        if limit is None:
            pytest.skip("the user's password policy has no lockout; the case needs a locked user")
        for _ in range(limit):
            wrong = self.passwords.wrong(self.policy(state))
            self.api.password_operation(state.user.id, "check", {"password": wrong})
            state.failed_checks += 1
        status, source = self.read_status(state)
        if status != LOCKED_OUT:
            pytest.skip(
                f"the case needs a locked-out password, but after {limit} failed checks "
                f"{source} says {status!r} (P1-CHECK-007 reports that)"
            )

    def _advance_clock(self, spec: str, state: CaseState) -> None:
        """Move the target's clock past a duration the policy (or Ping's docs) gives."""
        assert self.sources.clock is not None  # required before the case started
        policy = self.policy(state).raw
        if spec == "recoveryCodeLifetime":
            seconds = float(RECOVERY_CODE_LIFETIME_SECONDS)
        else:
            present, value = field_value(policy, spec)
            if not present or not isinstance(value, int | float):
                pytest.skip(f"the user's password policy has no {spec}, which the case needs")
            seconds = float(value) * (SECONDS_PER_DAY if spec.endswith("Days") else 1)
        self.sources.clock.advance(self.api, seconds + CLOCK_MARGIN_SECONDS)

    def _deliver(self, user_id: str, request: dict[str, Any], body: Any) -> Any:
        """Send the request; with `anySpelling`, try each documented media type until one works.

        A refused spelling (400, 404, 405, 415) has no effect, so the next one is sent.
        """
        operation = request["operation"]
        spellings: list[str | None] = [request.get("mediaType")]
        if request.get("anySpelling"):
            entry = self.api.operations.get(operation)
            spellings = [entry.media_type, *entry.alt_media_types]
        response = None
        for media_type in spellings:
            response = self.api.password_operation(
                user_id, operation, body, media_type=media_type, params=request.get("query")
            )
            if response.status_code not in REFUSED_SPELLING:
                break
        return response

    def _note_step(self, operation: str, template: Any, status: int, state: CaseState) -> None:
        """Remember what later placeholders and expectations count on."""
        if operation == "check" and _uses_wrong(template):
            state.failed_checks += 1
        if operation == "sendRecoveryCode" and status == 200:
            state.recovery_code = None  # a new code was sent: read it again when used

    def _fill_state_placeholder(self, value: str, state: CaseState) -> str:
        match = STATE_PLACEHOLDER.match(value)
        if match is None:
            return value
        kind, variant = match.groups()
        if kind == "code":
            code = self._recovery_code(state)
            if variant == "swapcase":
                code = code.swapcase()
                self.api.redactor.register(code)
            return code
        if kind == "wrong-code":
            return self._wrong_code(state)
        if kind == "previous":
            if not state.earlier_passwords:
                raise ValueError("<previous> used before the password was changed")
            return state.earlier_passwords[-1]
        if kind == "weak":
            return self._weak_password(state)
        return self._similar_password(state)

    def _recovery_code(self, state: CaseState) -> str:
        if state.recovery_code is None:
            assert self.sources.recovery_code is not None  # required before the case started
            state.recovery_code = self.sources.recovery_code.code_for(self.api, state.user.id)
        return state.recovery_code

    def _wrong_code(self, state: CaseState) -> str:
        """A code of the documented shape that is not the user's (8 letters and digits)."""
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
            if state.recovery_code is None or code.upper() != state.recovery_code.upper():
                self.api.redactor.register(code)
                return code

    def _weak_password(self, state: CaseState) -> str:
        """A password the user's policy rejects by exactly one rule: its length, else a character
        rule.

        Which rules a weak password breaks decides which policy defect its case can see, so it is
        never left to chance (a random prefix of a valid password is sometimes only too short and
        sometimes short of a character class as well): the one-rule builder of `<violating>` makes
        it, preferring length as `<violating>` does.
        """
        for rule in WEAK_RULES:
            try:
                return self._made_violation(rule, state)
            except NoViolation:
                continue
        pytest.skip("the user's password policy has no length or character rule to break")

    def _similar_password(self, state: CaseState) -> str:
        """A policy-satisfying password one character away from the current one."""
        current = state.user.password
        if current is None:
            raise ValueError("<similar> used on a user without a password")
        policy = self.policy(state)
        for index, old in enumerate(current):
            charset = next((c for c in policy.min_characters if old in c), None)
            for new in charset or SIMILAR_FALLBACK:
                if new == old:
                    continue
                candidate = current[:index] + new + current[index + 1 :]
                if not policy.violations(candidate) and not looks_pre_encoded(candidate):
                    self.api.redactor.register(candidate)
                    return candidate
        pytest.skip("no policy-satisfying password one character away from the current one")


# The rules a `<weak>` password breaks, one at a time, in this order of preference.
WEAK_RULES = ("length", "minCharacters")
# The status the runner waits for after locking a user out.
LOCKED_OUT = "PASSWORD_LOCKED_OUT"
# Ping's recovery-code facts are fixed by the docs, not by a policy: "8 alphanumeric characters",
# "valid for 5 minutes", "five (5) failed attempts with a given code".
RECOVERY_CODE_LENGTH = 8
RECOVERY_CODE_LIFETIME_SECONDS = 300
RECOVERY_MAX_FAILURES = 5
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SECONDS_PER_DAY = 86_400
# The clock is moved one second past the duration, so "after" is unambiguous.
CLOCK_MARGIN_SECONDS = 1.0
# Answers that refuse a media-type spelling without doing anything.
REFUSED_SPELLING = frozenset({400, 404, 405, 415})
SIMILAR_FALLBACK = "abcdefghijklmnopqrstuvwxyz0123456789"
STATE_PLACEHOLDER = re.compile(r"^<(code|wrong-code|weak|similar|previous)(?::(swapcase))?>$")


def sources_needed(case: dict[str, Any]) -> list[str]:
    """The sources a case needs, from what it does (never declared twice)."""
    steps = steps_of(case)
    needed = []
    if any("advanceClock" in step for step in steps):
        needed.append(CLOCK)
    if any(_uses_code(step.get("request", {}).get("body")) for step in steps):
        needed.append(RECOVERY_CODE)
    if case["user"].get("identityProvider") == "external":
        needed.append(EXTERNAL_IDP)
    if any(step.get("request", {}).get("operation") == "resetSelf" for step in steps):
        needed.append(SELF_ACTOR)
    return needed


def _uses_code(body: Any) -> bool:
    if isinstance(body, dict):
        return any(_uses_code(item) for item in body.values())
    return isinstance(body, str) and body.startswith("<code")


def _uses_wrong(body: Any) -> bool:
    if isinstance(body, dict):
        return any(_uses_wrong(item) for item in body.values())
    if isinstance(body, list):
        return any(_uses_wrong(item) for item in body)
    return isinstance(body, str) and body.startswith("<wrong")
