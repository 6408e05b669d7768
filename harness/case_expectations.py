"""What a behaviour case step can expect, as a dispatch table: one small check per key.

Each check receives the key's value from the case file and an `Observation` (the step's result,
the case's state so far, and the runner's services) and returns the unmet expectations as
sentences; an empty list means met. Adding an expectation kind is adding one function and one
entry in `EXPECTATIONS` (and the key in `cases.schema.json`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness.users import UserUnderTest, parse_timestamp

if TYPE_CHECKING:
    from harness.behaviour_cases import CaseRunner

MAX_TICK_SECONDS = 1.0
TICK_MARGIN_SECONDS = 0.001


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
    """The user under test and what the case has seen so far."""

    user: UserUnderTest
    policy: Any = None
    named_wrong: dict[str, str] = field(default_factory=dict)
    results: dict[str, StepResult] = field(default_factory=dict)
    # Set family: the case's policy violations by rule (None: any rule) and, for each
    # pre-encoded value sent, its cleartext.
    violating: dict[str | None, str] = field(default_factory=dict)
    encoded: dict[str, str] = field(default_factory=dict)
    former: str | None = field(default=None, repr=False)  # the password before the last change
    # The status model: passwords the user had before the current one (oldest first), wrong
    # checks sent so far (the lockout countdown), the recovery code last read from the source.
    earlier_passwords: list[str] = field(default_factory=list, repr=False)
    failed_checks: int = 0
    recovery_code: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Observation:
    """What a check looks at."""

    result: StepResult
    state: CaseState
    runner: CaseRunner

    @property
    def body(self) -> Any:
        """The step's decoded JSON body (None when it had none)."""
        return self.result.body


Check = Callable[[Any, Observation], list[str]]


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


# --- the checks ---------------------------------------------------------------------------------
def check_http(wanted: int | list[int], seen: Observation) -> list[str]:
    """The HTTP status equals `wanted` (or is one of a list of statuses)."""
    got = seen.result.status
    if isinstance(wanted, list):
        shown = " or ".join(str(status) for status in wanted)
        return [] if got in wanted else [f"HTTP {shown} expected, got {got}"]
    return [] if got == wanted else [f"HTTP {wanted} expected, got {got}"]


def check_status(wanted: str, seen: Observation) -> list[str]:
    """The body's `status` equals `wanted`."""
    present, value = field_value(seen.body, "status")
    if present and value == wanted:
        return []
    return [f"status {wanted!r} expected, got {repr(value) if present else 'no status'}"]


def check_password_status(wanted: str, seen: Observation) -> list[str]:
    """The password's status after the step: from the body, else from a GET right after."""
    present, value = field_value(seen.body, "status")
    source = "the body"
    if not present:
        value, source = seen.runner.read_status(seen.state)
    if value != wanted:
        return [f"password status {wanted!r} expected, {source} says {value!r}"]
    return []


def check_schema(schema_file: str, seen: Observation) -> list[str]:
    """The body validates against a schema of `schemas/` (formats checked)."""
    if seen.body is None:
        return [f"a JSON body valid against {schema_file} expected, got none"]
    errors = seen.runner.schemas.errors(seen.body, schema_file)
    return [f"body does not validate against {schema_file}: {error}" for error in errors]


def check_matches_path(_: bool, seen: Observation) -> list[str]:
    """environment.id and user.id in the body are the request path's."""
    problems = []
    for path, wanted in (
        ("environment.id", seen.runner.api.target.env_id),
        ("user.id", seen.state.user.id),
    ):
        present, value = field_value(seen.body, path)
        if not present or value != wanted:
            problems.append(f"{path} {wanted!r} expected (the request path), got {value!r}")
    return problems


def check_absent(paths: list[str], seen: Observation) -> list[str]:
    """None of the listed fields is present."""
    present = [path for path in paths if field_value(seen.body, path)[0]]
    return [f"{path} is present; it must be absent here" for path in present]


def check_present(paths: list[str], seen: Observation) -> list[str]:
    """Every listed field is present (with any value; its schema checks the form)."""
    missing = [path for path in paths if not field_value(seen.body, path)[0]]
    return [f"{path} expected, got none" for path in missing]


def check_same_as(spec: dict[str, Any], seen: Observation) -> list[str]:
    """Each listed field present in the named step's body has the same value here."""
    earlier = seen.state.results[spec["step"]]
    problems = []
    for path in spec["fields"]:
        was_present, was = field_value(earlier.body, path)
        if not was_present:
            continue
        present, value = field_value(seen.body, path)
        if not present or value != was:
            shown = repr(value) if present else "absent"
            problems.append(f"{path} {was!r} expected (as step {spec['step']!r}), got {shown}")
    return problems


def check_later_than(spec: dict[str, Any], seen: Observation) -> list[str]:
    """The field is a date-time strictly later than the named step's."""
    earlier = seen.state.results[spec["step"]]
    path = spec["field"]
    was_present, was = field_value(earlier.body, path)
    present, value = field_value(seen.body, path)
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


def check_failures_remaining(spec: Any, seen: Observation) -> list[str]:
    """failuresRemaining is reported below the policy's failureCount (and one less than before)."""
    value = failures_remaining(seen.body)
    if value is None:
        return ["details[].innerError.failuresRemaining expected, got none"]
    if spec == "countdown":
        return check_countdown(value, seen)
    problems = []
    if value < 0:
        problems.append(f"failuresRemaining {value} is negative")
    limit = seen.runner.policy(seen.state).lockout_failure_count
    if limit is not None and value >= limit:
        problems.append(
            f"failuresRemaining {value} is not below the policy's lockout.failureCount {limit}"
        )
    if isinstance(spec, dict):
        earlier = failures_remaining(seen.state.results[spec["oneLessThan"]].body)
        if earlier is None or value != earlier - 1:
            problems.append(
                f"failuresRemaining {earlier} - 1 expected (one less than step "
                f"{spec['oneLessThan']!r}), got {value}"
            )
    return problems


# --- set family, state reads and password policy -----------------------------------------------
def check_either(alternatives: list[dict[str, Any]], seen: Observation) -> list[str]:
    """At least one of the accepted outcomes is met (where the docs leave a choice)."""
    unmet_each = [unmet(alternative, seen) for alternative in alternatives]
    if any(not problems for problems in unmet_each):
        return []
    listed = "; ".join(f"({i}) " + ", ".join(p) for i, p in enumerate(unmet_each, start=1))
    return [f"none of the {len(alternatives)} accepted outcomes: {listed}"]


def _href_path(body: Any, relation: str) -> tuple[bool, str | None]:
    present, href = field_value(body, f"_links.{relation}.href")
    if not present:
        present, href = field_value(body, f"_links.{relation}")
        present = present and isinstance(href, str)
    if not present:
        return False, None
    return True, urlsplit(href).path.rstrip("/") if isinstance(href, str) else None


def check_links(_: bool, seen: Observation) -> list[str]:
    """Present HAL links name the request's resources: self the password, ids the request's.

    No relation is required and extra ones are fine; a relation that is there points at the
    resource it names (the URL path ends with it; host and API prefix are the target's).
    """
    env = seen.runner.api.target.env_id
    user = seen.state.user.id
    _, policy_id = field_value(seen.body, "passwordPolicy.id")
    wanted = {
        "self": f"/environments/{env}/users/{user}/password",
        "environment": f"/environments/{env}",
        "user": f"/environments/{env}/users/{user}",
    }
    if isinstance(policy_id, str):
        wanted["passwordPolicy"] = f"/environments/{env}/passwordPolicies/{policy_id}"
    problems = []
    for relation, suffix in wanted.items():
        present, path = _href_path(seen.body, relation)
        if present and (path is None or not path.endswith(suffix)):
            problems.append(f"_links.{relation} points at {path!r}, not at …{suffix}")
    return problems


def check_embedded_policy(_: bool, seen: Observation) -> list[str]:
    """`_embedded.passwordPolicy` is there and is the policy `passwordPolicy.id` names."""
    present, embedded_id = field_value(seen.body, "_embedded.passwordPolicy.id")
    _, policy_id = field_value(seen.body, "passwordPolicy.id")
    if not present:
        return ["_embedded.passwordPolicy expected (expand=passwordPolicy), got none"]
    if embedded_id != policy_id:
        return [
            f"_embedded.passwordPolicy.id {embedded_id!r} is not {policy_id!r} (passwordPolicy.id)"
        ]
    return []


def check_policy_readable(_: bool, seen: Observation) -> list[str]:
    """`passwordPolicy.id` names a policy that GET /passwordPolicies/{id} returns."""
    present, policy_id = field_value(seen.body, "passwordPolicy.id")
    if not present or not isinstance(policy_id, str):
        return ["passwordPolicy.id expected, got none"]
    api = seen.runner.api
    response = api.get(api.env_url("passwordPolicies", policy_id))
    if response.status_code != 200:
        return [f"GET …/passwordPolicies/{policy_id} answered HTTP {response.status_code}"]
    try:
        policy = response.json()
    except ValueError:
        return [f"GET …/passwordPolicies/{policy_id} answered no JSON"]
    problems = seen.runner.schemas.errors(policy, "password-policy.schema.json")
    if isinstance(policy, dict) and policy.get("id") != policy_id:
        problems.append(f"the policy read back has id {policy.get('id')!r}, not {policy_id!r}")
    return [f"policy {policy_id}: {problem}" for problem in problems]


def unsatisfied_requirements(body: Any) -> list[str]:
    """Every rule name in `details[].innerError.unsatisfiedRequirements` of an error body."""
    details = body.get("details") if isinstance(body, dict) else None
    names: list[str] = []
    for detail in details if isinstance(details, list) else []:
        inner = detail.get("innerError") if isinstance(detail, dict) else None
        listed = inner.get("unsatisfiedRequirements") if isinstance(inner, dict) else None
        names += [str(n) for n in listed] if isinstance(listed, list) else []
    return names


def check_unsatisfied(rule: str, seen: Observation) -> list[str]:
    """Some `details[].innerError.unsatisfiedRequirements` names the broken rule."""
    named = unsatisfied_requirements(seen.body)
    if rule in named:
        return []
    return [f"unsatisfiedRequirements naming {rule!r} expected, got {named or 'none'}"]


def check_no_secret(_: bool, seen: Observation) -> list[str]:
    """No password the case sent (cleartext or encoded) appears anywhere in the body."""
    text = json.dumps(seen.body)
    secrets = {*seen.state.encoded, *seen.state.encoded.values()}
    if seen.state.user.password:
        secrets.add(seen.state.user.password)
    if any(secret and secret in text for secret in secrets):
        return ["the body contains a password the case sent"]
    return []


# --- the status model: lockout countdown, lock timing, error codes ------------------------------
def check_countdown(value: int, seen: Observation) -> list[str]:
    """failuresRemaining is the policy's failureCount minus the wrong checks sent so far."""
    limit = seen.runner.policy(seen.state).lockout_failure_count
    if limit is None:
        return [f"failuresRemaining {value} reported, but the policy has no lockout.failureCount"]
    wanted = limit - seen.state.failed_checks
    if value != wanted:
        return [
            f"failuresRemaining {wanted} expected (lockout.failureCount {limit} minus "
            f"{seen.state.failed_checks} failed checks), got {value}"
        ]
    return []


def check_code(wanted: str, seen: Observation) -> list[str]:
    """The error body's top-level `code` equals `wanted`."""
    present, value = field_value(seen.body, "code")
    if present and value == wanted:
        return []
    return [f"error code {wanted!r} expected, got {repr(value) if present else 'no code'}"]


def check_envelope(_: bool, seen: Observation) -> list[str]:
    """The body is a PingOne error envelope (403 and 429: the shorter one Ping's spec allows)."""
    schema_file = "error-limited.schema.json" if seen.result.status in (403, 429) else None
    return check_schema(schema_file or "error.schema.json", seen)


def check_seconds_until_unlock(_: str, seen: Observation) -> list[str]:
    """secondsUntilUnlock is a positive integer no larger than lockout.durationSeconds.

    A policy without a duration means an administrator must unlock: the field is then absent.
    """
    present, value = field_value(seen.body, "secondsUntilUnlock")
    lockout = seen.runner.policy(seen.state).raw.get("lockout") or {}
    duration = lockout.get("durationSeconds") if isinstance(lockout, dict) else None
    if not isinstance(duration, int) or isinstance(duration, bool):
        absent = "secondsUntilUnlock is present; without a lockout duration it must be absent"
        return [absent] if present else []
    if not present:
        return ["secondsUntilUnlock expected while the password is locked, got none"]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= duration:
        return [f"secondsUntilUnlock {value!r} is not an integer from 1 to {duration}"]
    return []


# The order is the order unmet expectations are listed in.
EXPECTATIONS: dict[str, Check] = {
    "http": check_http,
    "status": check_status,
    "passwordStatus": check_password_status,
    "schema": check_schema,
    "matchesPath": check_matches_path,
    "absent": check_absent,
    "present": check_present,
    "sameAs": check_same_as,
    "laterThan": check_later_than,
    "failuresRemaining": check_failures_remaining,
    "either": check_either,
    "links": check_links,
    "embeddedPolicy": check_embedded_policy,
    "policyReadable": check_policy_readable,
    "unsatisfied": check_unsatisfied,
    "noSecret": check_no_secret,
    # the status model
    "code": check_code,
    "envelope": check_envelope,
    "secondsUntilUnlock": check_seconds_until_unlock,
}


def referenced_steps(expect: dict[str, Any]) -> list[str]:
    """The names of earlier steps an expectation compares with."""
    found = []
    for key in ("sameAs", "laterThan"):
        if isinstance(expect.get(key), dict):
            found.append(expect[key]["step"])
    remaining = expect.get("failuresRemaining")
    if isinstance(remaining, dict):
        found.append(remaining["oneLessThan"])
    return found


def unmet(expect: dict[str, Any], seen: Observation) -> list[str]:
    """Every unmet expectation of a step, in the table's order."""
    problems: list[str] = []
    for key, check in EXPECTATIONS.items():
        if key in expect:
            problems += check(expect[key], seen)
    return problems
