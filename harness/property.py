"""The property suite's machinery: schemathesis views of `schemas/openapi.yaml`, sending, failing.

- `CONFIG`: schemathesis's configuration, read from the project's `schemathesis.toml` (the one
  `st run` uses) without its CLI-only parts (`hooks`, `max-examples`), with the run's seed. The
  Hypothesis profile (`quick` or `thorough`) decides how many examples run.
- `media_type_views()`: one schema per password operation *and media type* (suffix-less
  spellings included), so each is its own pytest item and generates bodies of its own type;
  schemathesis would otherwise draw one media type per case among the eleven of one URL.
- `PropertyRunner.send`: sends a generated case to the target with the run's token through the
  harness session, runs schemathesis's checks plus this API's (`harness.property_checks`), and
  turns a failure into a `ConformanceFailure` whose text went through the harness's redaction,
  with a curl reproducer from the harness (token as `$PINGONE_ACCESS_TOKEN`, secrets hidden).
"""

from __future__ import annotations

import copy
import json
import math
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.errors import FailureGroup

from harness import property_checks
from harness.auth import transport_reason
from harness.client import SPENT_RETRIES, ApiClient, curl_command, retrying_session
from harness.data_files import read_yaml
from harness.failures import ConformanceFailure
from harness.http_errors import TargetUnreachable
from harness.operations import OperationTable
from harness.property_checks import PASSWORD_PATH, SENT, USERS_PATH
from harness.redaction import Redactor
from harness.users import UserRegistry

ROOT = Path(__file__).resolve().parents[1]
OPENAPI = ROOT / "schemas" / "openapi.yaml"
PROJECT_TOML = ROOT / "schemathesis.toml"
# What the toml sets only for `st run`: the hooks module (the pytest route imports the checks
# itself and authenticates through the harness) and the example count (a Hypothesis profile
# decides it here).
CLI_ONLY_KEYS = ("hooks",)
DEFAULT_SEED = 20261201
IMPORT = "application/vnd.pingidentity.user.import+json"
# Headers requests adds by itself; a reproducer does not need them.
NOISE = frozenset({"user-agent", "accept-encoding", "connection", "content-length"})


@dataclass
class RunSettings:
    """The run's seed and profile facts, set by the plugin before the suite is collected."""

    seed: int = DEFAULT_SEED
    coverage: bool = False
    scenarios: int = 25


RUN = RunSettings()


def configure(seed: int, *, coverage: bool, scenarios: int) -> None:
    """Set the run's seed and profile facts before the property suite is collected."""
    RUN.seed, RUN.coverage, RUN.scenarios = seed, coverage, scenarios


def run_seed() -> int:
    """The seed of this run."""
    return RUN.seed


def project_settings(seed: int | None = None, path: Path = PROJECT_TOML) -> SchemathesisConfig:
    """schemathesis's configuration for the pytest route: the project toml, seeded."""
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for key in CLI_ONLY_KEYS:
        data.pop(key, None)
    generation = data.get("generation")
    if isinstance(generation, dict):
        generation.pop("max-examples", None)
    data["seed"] = run_seed() if seed is None else seed
    # The coverage phase (boundary values, undeclared methods) belongs to the thorough profile.
    phases = data.setdefault("phases", {})
    phases.setdefault("coverage", {})["enabled"] = RUN.coverage
    # `ignored_auth` re-sends a case without its token on a session of its own, outside the
    # retrying one: a 429 or 503 on that probe would read as "authentication ignored". The
    # security suite tests authentication on every operation, through the retrying client.
    data.setdefault("checks", {}).setdefault("ignored_auth", {})["enabled"] = False
    return SchemathesisConfig.from_dict(data, base_dir=str(path.parent))


# Negative generation changes one field at a time, so a body of many fields needs more examples
# to have each of them generated wrong: a view gets the profile's examples once per this many
# fields of its request body (Create User, with a dozen, gets four times as many as Check).
FIELDS_PER_EXAMPLE_SET = 1


@dataclass(frozen=True)
class View:
    """One operation under one media type: a schema holding only that."""

    name: str
    method: str
    path: str
    media_type: str | None
    schema: Any
    fields: int = 0  # the request body's leaf fields (nested objects counted by their fields)

    def examples(self, profile_examples: int) -> int:
        """How many examples this view generates under a profile of `profile_examples`."""
        return profile_examples * max(1, math.ceil(self.fields / FIELDS_PER_EXAMPLE_SET))


def _leaf_fields(schema: Any) -> int:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict) or not properties:
        return 1
    return sum(_leaf_fields(value) for value in properties.values())


def body_fields(document: dict[str, Any], path: str, method: str, media_type: str | None) -> int:
    """The leaf fields of an operation's request body under one media type (0: no body)."""
    operation = document["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if media_type is None or media_type not in content:
        return 0
    schema = content[media_type].get("schema", {})
    reference = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(reference, str) and not reference.startswith("#"):
        schema = json.loads((OPENAPI.parent / reference).read_text(encoding="utf-8"))
    return _leaf_fields(schema)


def _document() -> dict[str, Any]:
    loaded = read_yaml(OPENAPI)
    assert isinstance(loaded, dict)
    return loaded


def _view(
    document: dict[str, Any],
    config: SchemathesisConfig,
    path: str,
    method: str,
    media_type: str | None,
) -> Any:
    derived = copy.deepcopy(document)
    kept = derived["paths"][path]
    derived["paths"] = {
        path: {key: value for key, value in kept.items() if key in ("parameters", method.lower())}
    }
    operation = derived["paths"][path][method.lower()]
    if media_type is not None:
        content = operation["requestBody"]["content"]
        operation["requestBody"]["content"] = {media_type: content[media_type]}
    schema = schemathesis.openapi.from_dict(derived, config=config)
    schema.location = OPENAPI.absolute().as_uri()
    return schema


def media_type_views(config: SchemathesisConfig, operations: OperationTable) -> list[View]:
    """Every password operation under each of its media types, Read, and Create User (both)."""
    document = _document()
    views = [
        View(
            "read", "GET", PASSWORD_PATH, None, _view(document, config, PASSWORD_PATH, "GET", None)
        )
    ]
    seen: set[tuple[str, str]] = set()
    for operation in operations:
        for index, media in enumerate((operation.media_type, *operation.alt_media_types)):
            if media is None or (operation.method, media) in seen:
                continue
            seen.add((operation.method, media))
            # resetSelf and resetAdmin share one media type: one view, named for both.
            name = "reset" if operation.name in ("resetSelf", "resetAdmin") else operation.name
            if index:
                name += "-alt-spelling"
            schema = _view(document, config, PASSWORD_PATH, operation.method, media)
            fields = body_fields(document, PASSWORD_PATH, operation.method, media)
            views.append(View(name, operation.method, PASSWORD_PATH, media, schema, fields))
    for name, media in (("createUser", "application/json"), ("importUser", IMPORT)):
        schema = _view(document, config, USERS_PATH, "POST", media)
        fields = body_fields(document, USERS_PATH, "POST", media)
        views.append(View(name, "POST", USERS_PATH, media, schema, fields))
    return views


@dataclass
class PropertyRecord:
    """What the property suite did in this run: seed, profile, cases sent, failures by test."""

    seed: int
    profile: str
    cases: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def count(self, status: int) -> None:
        """Count one case sent and its answer's status class."""
        self.cases += 1
        key = f"{status // 100}xx"
        self.statuses[key] = self.statuses.get(key, 0) + 1


class PropertyRunner:
    """Sends generated cases to the target and judges them; failures come out redacted."""

    def __init__(
        self,
        api: ApiClient,
        base_url: str,
        redactor: Redactor,
        record: PropertyRecord,
        users: UserRegistry,
    ) -> None:
        self.users = users
        self.api = api
        self.base_url = base_url
        self.redactor = redactor
        self.record = record
        self.session: requests.Session = retrying_session(api.rate_limit)

    def auth_headers(self) -> dict[str, str]:
        """The run's bearer token (fetched or refreshed by the harness)."""
        return {"Authorization": f"Bearer {self.api.tokens.token()}"}

    def remember_secrets(self, case: Any) -> None:
        """Remember the case's secrets for the echo check (structured redaction hides them)."""
        SENT.add_from(case.body)

    def register_secrets(self, case: Any) -> None:
        """Register a failing case's secrets with redaction, so no free text can carry them.

        Only failing cases: registering every generated value would grow redaction's pattern
        with each of thousands of cases.
        """
        for value in property_checks.secret_values(case.body):
            self.redactor.register(value)

    def prefix_username(self, case: Any) -> None:
        """A generated Create User gets this run's prefix, keeping the generated text after it."""
        generated = case.body.get("username")
        if not isinstance(generated, str) or not generated:
            return  # a username that must be refused stays as generated (created: deleted)
        case.body["username"] = f"{self.users.next_username()}-{generated[:40]}"

    def adopt_created(self, case: Any, response: Any) -> None:
        """A user a generated request created is tracked, then deleted at once."""
        if case.operation.path != USERS_PATH or response.status_code not in (200, 201):
            return
        body = property_checks.json_body(response)
        user_id = body.get("id") if isinstance(body, dict) else None
        if isinstance(user_id, str) and user_id:
            username = case.body.get("username") if isinstance(case.body, dict) else None
            self.users.adopt(user_id, str(username))
            self.users.delete(user_id)

    def send(self, case: Any, **validate: Any) -> Any:
        """Send the case and run every enabled check; a failure is a redacted ConformanceFailure."""
        self.remember_secrets(case)
        headers = self.auth_headers()
        if self.api.ceiling is not None:  # --max-rps holds for generated traffic too
            self.api.ceiling.wait_turn(time.sleep)
        try:
            response = case.call(base_url=self.base_url, session=self.session, headers=headers)
        except requests.RequestException as error:
            # Retries spent on 429/5xx answers or on dropped connections: the target is not
            # answering, which is no finding about this case.
            where = self.redactor.text(f"{case.method} {case.formatted_path}")
            spent = SPENT_RETRIES.search(str(error))
            if spent:
                raise TargetUnreachable(
                    f"{where}: answered HTTP {spent.group(1)} after every retry"
                ) from None
            raise TargetUnreachable(f"{where}: {transport_reason(error)}") from None
        self.record.count(response.status_code)
        self.validate(case, response, headers, **validate)
        return response

    def validate(self, case: Any, response: Any, headers: Mapping[str, str], **kwargs: Any) -> None:
        """schemathesis's checks and this API's on one answer; redacted failure on any."""
        try:
            case.validate_response(response, headers=dict(headers), **kwargs)
        except FailureGroup as group:
            raise self.failure(case, response, headers, group) from None

    def failure(
        self,
        case: Any,
        response: Any,
        headers: Mapping[str, str],
        group: BaseExceptionGroup[Any] | None = None,
        problems: list[str] | None = None,
    ) -> ConformanceFailure:
        """A ConformanceFailure: what failed, the exchange and a curl reproducer, redacted."""
        self.register_secrets(case)
        lines = list(problems or [])
        for failure in getattr(group, "exceptions", ()):
            title = getattr(failure, "title", type(failure).__name__)
            message = getattr(failure, "message", str(failure))
            code = getattr(failure, "code", "")
            lines.append(f"{title} ({code}): {message}" if code else f"{title}: {message}")
        request_headers = {
            k: v for k, v in {**(case.headers or {}), **headers}.items() if k.lower() not in NOISE
        }
        if case.media_type:
            request_headers["Content-Type"] = case.media_type
        data = _request_bytes(response)
        url = response.request.url if getattr(response, "request", None) else case.formatted_path
        curl = curl_command(case.method, str(url), request_headers, data, self.redactor)
        body = self.redactor.body(response.content, response.headers.get("content-type", [None])[0])
        text = "\n".join(f"- {line}" for line in lines)
        return PropertyFailure(
            self.redactor.text(
                f"{case.method} {case.operation.path} [{case.media_type or 'no body'}] → "
                f"HTTP {response.status_code}\n{text}\nresponse: {body[:1500]}\n"
                f"reproduce with:\n  {curl}"
            ),
            curl=curl,
        )


class PropertyFailure(ConformanceFailure):
    """A failed generated case; `curl` is its redacted reproducer for the Allure attachment."""

    def __init__(self, message: str, curl: str) -> None:
        super().__init__(message)
        self.curl = curl


def _request_bytes(response: Any) -> bytes | None:
    request = getattr(response, "request", None)
    body = getattr(request, "body", None)
    if isinstance(body, str):
        return body.encode("utf-8")
    return body if isinstance(body, bytes) else None
