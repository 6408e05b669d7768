"""Behaviour cases as data, and the small runner that sends them and checks what came back.

Case files (`suites/behaviour/cases/*.yaml`) validate against `cases.schema.json` beside them.
Each case gets a fresh user under test, fills the placeholders of its request bodies with
generated passwords (`<valid>`, `<right>`, `<wrong>`, `<wrong:NAME>`; for the set family
`<violating>`, `<violating:RULE>` and `<encoded:SCHEME>`), sends its steps in order
and checks every expectation of each step (the checks are `harness.case_expectations`). A
failure lists every unmet expectation of the step with the redacted exchange. A case quotes no
source itself: its requirements' quotes, in `schemas/requirements.yaml`, are its source.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
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
from harness.encodings import encode
from harness.failures import ConformanceFailure
from harness.passwords import PasswordBook, PasswordPolicy
from harness.policy_violations import NoViolation, ViolationMaker
from harness.schemas import SchemaStore
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
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
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
            for reference in referenced_steps(step["expect"]):
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
    ) -> None:
        self.api = api
        self.users = users
        self.passwords = passwords
        self.schemas = schemas
        self._sleep = sleep

    def run(self, case: dict[str, Any]) -> None:
        """Create the user, then send each step and check its expectations."""
        wanted = case["user"]
        if "import" in wanted:
            state = self._import_user(wanted)
        else:
            kind = None if wanted["password"] == "none" else wanted["password"]
            user = self.users.create(password=kind, force_change=bool(wanted.get("forceChange")))
            state = CaseState(user=user)
        steps = steps_of(case)
        self._skip_unless_lockout_allows(steps, state)
        for index, step in enumerate(steps, start=1):
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
        if not any("failuresRemaining" in step["expect"] for step in steps):
            return
        limit = self.policy(state).lockout_failure_count
        if limit is None:
            pytest.skip("the user's password policy has no lockout, so no failures are counted")
        wrongs = sum(1 for step in steps if _uses_wrong(step["request"].get("body")))
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
            response = self.api.password_operation(
                state.user.id,
                operation,
                body,
                media_type=request.get("mediaType"),
                params=request.get("query"),
            )
        field_name = NEW_PASSWORD_FIELD.get(operation)
        if response.status_code == 200 and field_name and isinstance(body, dict):
            new_password = body.get(field_name)
            if isinstance(new_password, str):
                state.former = state.user.password
                state.user.password = state.encoded.get(new_password, new_password)
            elif operation == "setValue":
                state.former = state.user.password
                state.user.password = None  # {} unsets the password
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
        """The case's value breaking `rule` of the user's policy (None: any one rule)."""
        if rule not in state.violating:
            profile = [state.user.username, GIVEN_NAME, FAMILY_NAME]
            try:
                value = ViolationMaker().make(rule, self.policy(state), profile)
            except NoViolation as reason:
                pytest.skip(str(reason))
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
            return value
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
            spec = step["expect"].get("laterThan")
            if isinstance(spec, dict) and spec["step"] == result.name:
                present, value = field_value(result.body, spec["field"])
                if present and isinstance(value, str) and parse_timestamp(value) is not None:
                    tick = min(clock_tick_seconds(value), MAX_TICK_SECONDS)
                    self._sleep(tick + TICK_MARGIN_SECONDS)
                return


def _uses_wrong(body: Any) -> bool:
    if isinstance(body, dict):
        return any(_uses_wrong(item) for item in body.values())
    if isinstance(body, list):
        return any(_uses_wrong(item) for item in body)
    return isinstance(body, str) and body.startswith("<wrong")
