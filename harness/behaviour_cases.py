"""Behaviour cases as data, and the small runner that sends them and checks what came back.

A case file (`suites/behaviour/cases/*.yaml`) validates against `cases.schema.json` beside it.
Each case gets a fresh user under test, fills the placeholders of its request bodies with
generated passwords (`<valid>`, `<right>`, `<wrong>`, `<wrong:NAME>`), sends its steps in order
and checks every expectation of each step. A failure lists every unmet expectation of the step
with the redacted exchange.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from harness.client import ApiClient
from harness.passwords import PasswordBook, PasswordPolicy
from harness.schemas import SchemaStore
from harness.users import UserFactory, UserUnderTest, parse_timestamp

PLACEHOLDER = re.compile(r"^<(valid|right|wrong)(?::([A-Za-z0-9_-]+))?>$")
# The body field that carries the new password, per password-changing operation.
NEW_PASSWORD_FIELD = {
    "set": "value",
    "setValue": "value",
    "setGateway": "value",
    "resetAdmin": "newPassword",
    "resetSelf": "newPassword",
    "recover": "newPassword",
}
MAX_DESCRIPTION = 80
MAX_TICK_SECONDS = 1.0
TICK_MARGIN_SECONDS = 0.001


class CaseFileError(ValueError):
    """A case file does not match its schema or breaks a data rule."""


def load_case_file(path: Path, schema_path: Path | None = None) -> dict[str, Any]:
    """Read a case file and check it: its schema, unique step names, no "should" wording."""
    schema_file = schema_path or path.with_name("cases.schema.json")
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
            for reference in _referenced_steps(step["expect"]):
                if reference not in names:
                    problems.append(f"{description!r}: no earlier step named {reference!r}")
    if problems:
        raise CaseFileError(f"{path.name}:\n  " + "\n  ".join(problems))
    return dict(document)


def steps_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's steps; a single `request` + `expect` is one step."""
    if "steps" in case:
        return list(case["steps"])
    return [{"request": case["request"], "expect": case["expect"]}]


def case_params(document: dict[str, Any]) -> list[Any]:
    """`pytest.param`s of a case file: id = description, marked with its requirements."""
    return [
        pytest.param(
            case,
            id=case["description"],
            marks=pytest.mark.requirement(*case["requirements"]),
        )
        for case in document["cases"]
    ]


def _referenced_steps(expect: dict[str, Any]) -> list[str]:
    found = []
    for key in ("sameAs", "laterThan"):
        if isinstance(expect.get(key), dict):
            found.append(expect[key]["step"])
    remaining = expect.get("failuresRemaining")
    if isinstance(remaining, dict):
        found.append(remaining["oneLessThan"])
    return found


def field_value(body: Any, path: str) -> tuple[bool, Any]:
    """(present, value) of a dotted field path in a decoded JSON body."""
    current = body
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return False, None
        current = current[part]
    return True, current


def failures_remaining(body: Any) -> int | None:
    """The first `details[].innerError.failuresRemaining` integer of an error body."""
    details = body.get("details") if isinstance(body, dict) else None
    for detail in details if isinstance(details, list) else []:
        inner = detail.get("innerError") if isinstance(detail, dict) else None
        value = inner.get("failuresRemaining") if isinstance(inner, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def clock_tick_seconds(timestamp: str) -> float:
    """The resolution an RFC 3339 timestamp shows: 1 s, or 10^-n s for n fraction digits."""
    match = re.search(r"T\d{2}:\d{2}:\d{2}(?:\.(\d+))?", timestamp)
    digits = len(match.group(1)) if match and match.group(1) else 0
    return 10.0**-digits


@dataclass
class StepResult:
    """What one step got back."""

    name: str | None
    operation: str
    status: int
    body: Any
    summary: str


@dataclass
class CaseState:
    """The user under test and the passwords a case has used so far."""

    user: UserUnderTest
    policy: PasswordPolicy | None = None
    named_wrong: dict[str, str] = field(default_factory=dict)
    results: dict[str, StepResult] = field(default_factory=dict)


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

    def _policy(self, state: CaseState) -> PasswordPolicy:
        if state.policy is None:
            state.policy = self.users.policy_of(state.user)
        return state.policy

    def _skip_unless_lockout_allows(self, steps: list[dict[str, Any]], state: CaseState) -> None:
        """Skip failuresRemaining cases the user's policy cannot support (no or tight lockout)."""
        if not any("failuresRemaining" in step["expect"] for step in steps):
            return
        limit = self._policy(state).lockout_failure_count
        if limit is None:
            pytest.skip("the user's password policy has no lockout, so no failures are counted")
        wrongs = sum(1 for step in steps if _uses_wrong(step["request"].get("body")))
        if wrongs > limit:
            pytest.skip(f"the case needs {wrongs} failures; the policy locks out after {limit}")

    def _send(self, step: dict[str, Any], state: CaseState) -> StepResult:
        request = step["request"]
        operation = request["operation"]
        body = self._fill(request.get("body"), state)
        response = self.api.password_operation(
            state.user.id, operation, body, media_type=request.get("mediaType")
        )
        try:
            decoded: Any = response.json()
        except ValueError:
            decoded = None
        exchange = self.api.last_exchange()
        summary = exchange.summary() if exchange else f"HTTP {response.status_code}"
        field_name = NEW_PASSWORD_FIELD.get(operation)
        if response.status_code == 200 and field_name and isinstance(body, dict):
            new_password = body.get(field_name)
            if isinstance(new_password, str):
                state.user.password = new_password
        return StepResult(step.get("name"), operation, response.status_code, decoded, summary)

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
        if kind == "right":
            if state.user.password is None:
                raise ValueError("<right> used on a user without a password")
            return state.user.password
        if kind == "valid":
            return self.passwords.valid(self._policy(state))
        if name is None:
            return self.passwords.wrong(self._policy(state))
        if name not in state.named_wrong:
            state.named_wrong[name] = self.passwords.wrong(self._policy(state))
        return state.named_wrong[name]

    def _check(self, index: int, step: dict[str, Any], got: StepResult, state: CaseState) -> None:
        expect = step["expect"]
        unmet: list[str] = []
        if got.status != expect["http"]:
            unmet.append(f"HTTP {expect['http']} expected, got {got.status}")
        body = got.body
        if "status" in expect:
            present, value = field_value(body, "status")
            if not present or value != expect["status"]:
                shown = repr(value) if present else "no status"
                unmet.append(f"status {expect['status']!r} expected, got {shown}")
        if "passwordStatus" in expect:
            unmet += self._check_password_status(expect["passwordStatus"], body, state)
        if "schema" in expect:
            if body is None:
                unmet.append(f"a JSON body valid against {expect['schema']} expected, got none")
            else:
                unmet += self.schemas.errors(body, expect["schema"])
        if expect.get("matchesPath"):
            unmet += self._check_identifies(body, state)
        for path in expect.get("absent", []):
            if field_value(body, path)[0]:
                unmet.append(f"{path} is present; it must be absent here")
        if "sameAs" in expect:
            unmet += self._check_same(expect["sameAs"], body, state)
        if "laterThan" in expect:
            unmet += self._check_later(expect["laterThan"], body, state)
        if "failuresRemaining" in expect:
            unmet += self._check_failures_remaining(expect["failuresRemaining"], body, state)
        if unmet:
            where = f"step {index} ({got.operation}{', ' + got.name if got.name else ''})"
            listed = "\n".join(f"  - {line}" for line in unmet)
            text = f"{where}: {len(unmet)} unmet expectation(s):\n{listed}\n\n{got.summary}"
            raise AssertionError(self.api.redactor.text(text))

    def _check_password_status(self, wanted: str, body: Any, state: CaseState) -> list[str]:
        present, value = field_value(body, "status")
        source = "the body"
        if not present:
            response = self.api.password_operation(state.user.id, "read")
            try:
                value = response.json().get("status")
            except (ValueError, AttributeError):
                value = None
            source = f"GET …/password (HTTP {response.status_code})"
        if value != wanted:
            return [f"password status {wanted!r} expected, {source} says {value!r}"]
        return []

    def _check_identifies(self, body: Any, state: CaseState) -> list[str]:
        problems = []
        for path, wanted in (
            ("environment.id", self.api.target.env_id),
            ("user.id", state.user.id),
        ):
            present, value = field_value(body, path)
            if not present or value != wanted:
                problems.append(f"{path} {wanted!r} expected (the request path), got {value!r}")
        return problems

    def _check_same(self, spec: dict[str, Any], body: Any, state: CaseState) -> list[str]:
        earlier = state.results[spec["step"]]
        problems = []
        for path in spec["fields"]:
            was_present, was = field_value(earlier.body, path)
            if not was_present:
                continue
            present, value = field_value(body, path)
            if not present or value != was:
                shown = repr(value) if present else "absent"
                problems.append(f"{path} {was!r} expected (as step {spec['step']!r}), got {shown}")
        return problems

    def _check_later(self, spec: dict[str, Any], body: Any, state: CaseState) -> list[str]:
        earlier = state.results[spec["step"]]
        path = spec["field"]
        was_present, was = field_value(earlier.body, path)
        present, value = field_value(body, path)
        if not present:
            return [f"{path} expected (a date-time), got none"]
        now = parse_timestamp(value)
        if now is None:
            return [f"{path} {value!r} is not an RFC 3339 date-time with an offset"]
        if not was_present or was is None:
            return []
        before = parse_timestamp(was)
        if before is None:
            return [f"{path} of step {spec['step']!r} ({was!r}) is not an RFC 3339 date-time"]
        if not now > before:
            return [f"{path} {value!r} is not later than {was!r} (step {spec['step']!r})"]
        return []

    def _check_failures_remaining(self, spec: Any, body: Any, state: CaseState) -> list[str]:
        value = failures_remaining(body)
        if value is None:
            return ["details[].innerError.failuresRemaining expected, got none"]
        problems = []
        if value < 0:
            problems.append(f"failuresRemaining {value} is negative")
        limit = self._policy(state).lockout_failure_count
        if limit is not None and value >= limit:
            problems.append(
                f"failuresRemaining {value} is not below the policy's lockout.failureCount {limit}"
            )
        if isinstance(spec, dict):
            earlier = failures_remaining(state.results[spec["oneLessThan"]].body)
            if earlier is None or value != earlier - 1:
                problems.append(
                    f"failuresRemaining {earlier} - 1 expected (one less than step "
                    f"{spec['oneLessThan']!r}), got {value}"
                )
        return problems

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
