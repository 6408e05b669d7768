"""`schemas/openapi.yaml` is a valid OpenAPI 3.1 document that agrees with the operation table.

The document lists, per method of the password URL, exactly the media types `operations.yaml`
names; each media type's schema is a `$ref` to the schema file of its operation, never an inline
copy; the error and success responses point at the right schema files. schemathesis 4 loads it,
generates a schema-valid body for every media type (the two suffix-less vendor types aliased to
JSON) and validates responses through the cross-file references.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"
OPENAPI_FILE = SCHEMAS_DIR / "openapi.yaml"
PASSWORD_PATH = "/environments/{envID}/users/{userID}/password"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
SUFFIXLESS_TYPES = [
    "application/vnd.pingidentity.password.forceChange",
    "application/vnd.pingidentity.password.unlock",
]
OPERATION_IDS = {
    "readPasswordState",
    "updatePassword",
    "postPasswordAction",
    "createUser",
    "listUsers",
    "readUser",
    "deleteUser",
    "listPasswordPolicies",
    "readPasswordPolicy",
}
SUCCESS_TYPES = {"application/json", "application/hal+json"}

OPENAPI: dict[str, Any] = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
OPERATIONS: list[dict[str, Any]] = yaml.safe_load(
    (SCHEMAS_DIR / "operations.yaml").read_text(encoding="utf-8")
)["operations"]
SCHEMA_FILES = {
    path.name: json.loads(path.read_text(encoding="utf-8")) for path in SCHEMAS_DIR.glob("*.json")
}
REGISTRY: Registry[Any] = Registry().with_resources(
    (name, Resource.from_contents(schema, default_specification=DRAFT202012))
    for name, schema in SCHEMA_FILES.items()
)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _file_of(ref: str) -> str:
    return ref.split("#", 1)[0].removeprefix("./")


def _reachable_files(start: Any) -> set[str]:
    """Schema files reachable by `$ref` from `start`, transitively."""
    seen: set[str] = set()
    pending = [_file_of(ref) for ref in _refs(start) if not ref.startswith("#")]
    while pending:
        name = pending.pop()
        if name and name not in seen:
            seen.add(name)
            pending.extend(_file_of(ref) for ref in _refs(SCHEMA_FILES[name]))
    return seen


def _pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in OPENAPI["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def _op_id(path: str, method: str) -> str:
    return f"{method.upper()} {path}"


def _response(response: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        resolved = _pointer(OPENAPI, response["$ref"])
        assert isinstance(resolved, dict)
        return resolved
    return response


def _documented_media_types() -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(METHOD, media type) → the operations of operations.yaml sent with it."""
    table: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for operation in OPERATIONS:
        for media_type in [operation["mediaType"], *operation.get("altMediaTypes", [])]:
            if media_type:
                table.setdefault((operation["method"], media_type), []).append(operation)
    return table


DOCUMENTED = _documented_media_types()
PASSWORD_ITEM: dict[str, Any] = OPENAPI["paths"][PASSWORD_PATH]
DECLARED = {
    (method.upper(), media_type): content
    for method in ("put", "post")
    for media_type, content in PASSWORD_ITEM[method]["requestBody"]["content"].items()
}


# --- The document itself --------------------------------------------------------------------------


def test_document_is_valid_openapi_3_1() -> None:
    assert OPENAPI["openapi"] == "3.1.0"
    validate(OPENAPI, base_uri=OPENAPI_FILE.as_uri(), cls=OpenAPIV31SpecValidator)


@pytest.mark.parametrize("ref", sorted(set(_refs(OPENAPI))))
def test_every_ref_in_the_document_resolves(ref: str) -> None:
    if ref.startswith("#/"):
        assert _pointer(OPENAPI, ref) is not None
    else:
        assert ref.startswith("./"), "schema files are referenced as ./<file name>"
        assert _file_of(ref) in SCHEMA_FILES


def test_operation_ids_are_the_expected_nine() -> None:
    ids = [operation["operationId"] for _, _, operation in _operations()]
    assert sorted(ids) == sorted(OPERATION_IDS)


def test_servers_template_the_regional_top_level_domain() -> None:
    (server,) = OPENAPI["servers"]
    assert server["url"] == "https://api.pingone.{tld}/v1"
    tld = server["variables"]["tld"]
    assert set(tld["enum"]) == {"com", "ca", "eu", "com.au", "sg", "asia"}
    assert tld["default"] == "com"


def test_security_is_bearer_with_a_valid_client_credentials_token_url() -> None:
    schemes = OPENAPI["components"]["securitySchemes"]
    bearer = schemes["bearerAuth"]
    assert (bearer["type"], bearer["scheme"], bearer["bearerFormat"]) == ("http", "bearer", "JWT")
    token_url = schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"]
    assert token_url.startswith("https://auth.pingone.")
    assert "{" not in token_url
    assert token_url.endswith("/as/token")
    assert OPENAPI["security"] == [{"bearerAuth": []}]


@pytest.mark.parametrize(
    ("path", "method"),
    [pytest.param(path, method, id=_op_id(path, method)) for path, method, _ in _operations()],
)
def test_operation_links_its_ping_documentation(path: str, method: str) -> None:
    operation = OPENAPI["paths"][path][method]
    url = operation.get("externalDocs", {}).get("url") or operation.get("x-doc")
    assert isinstance(url, str)
    assert url.startswith("https://")


@pytest.mark.parametrize(
    ("path", "method"),
    [
        pytest.param(path, method, id=_op_id(path, method))
        for path, method, operation in _operations()
        if "requestBody" in operation
    ],
)
def test_request_body_is_required(path: str, method: str) -> None:
    # schemathesis sends no Content-Type for an optional body, and PingOne dispatches on it.
    assert OPENAPI["paths"][path][method]["requestBody"]["required"] is True


@pytest.mark.parametrize(
    ("path", "method", "media_type"),
    [
        pytest.param(path, method, media_type, id=f"{_op_id(path, method)} {media_type}")
        for path, method, operation in _operations()
        for media_type in operation.get("requestBody", {}).get("content", {})
    ],
)
def test_request_schema_is_a_ref_to_a_schema_file_never_inline(
    path: str, method: str, media_type: str
) -> None:
    schema = OPENAPI["paths"][path][method]["requestBody"]["content"][media_type]["schema"]
    assert set(schema) == {"$ref"}, "one source of truth: the schema file, never a copy"
    assert _file_of(schema["$ref"]) in SCHEMA_FILES


def test_no_request_body_holds_an_inline_object_schema() -> None:
    def inline_properties(node: Any) -> bool:
        if isinstance(node, dict):
            return "properties" in node or any(inline_properties(v) for v in node.values())
        if isinstance(node, list):
            return any(inline_properties(item) for item in node)
        return False

    bodies = [op["requestBody"] for _, _, op in _operations() if "requestBody" in op]
    assert bodies
    assert [body for body in bodies if inline_properties(body)] == []


# --- Agreement with operations.yaml ---------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation["name"])
def test_every_file_named_in_the_operation_table_exists(operation: dict[str, Any]) -> None:
    named = [operation.get(key) for key in ("request", "response", "likelyResponse")]
    missing = [name for name in named if name and name not in SCHEMA_FILES]
    assert missing == []


def test_password_media_types_match_the_operation_table_both_ways() -> None:
    assert set(DECLARED) == set(DOCUMENTED)


def test_only_read_has_no_media_type_and_it_is_the_get() -> None:
    bodyless = [operation for operation in OPERATIONS if not operation["mediaType"]]
    assert [(operation["name"], operation["method"]) for operation in bodyless] == [("read", "GET")]
    assert "requestBody" not in PASSWORD_ITEM["get"]
    assert PASSWORD_ITEM["get"]["x-operations"] == ["read"]


@pytest.mark.parametrize(
    ("method", "media_type"),
    [
        pytest.param(method, media_type, id=f"{method} {media_type}")
        for method, media_type in DECLARED
    ],
)
def test_media_type_names_its_operations_and_refs_their_request_schema(
    method: str, media_type: str
) -> None:
    content = DECLARED[(method, media_type)]
    operations = DOCUMENTED[(method, media_type)]
    assert sorted(content["x-operations"]) == sorted(operation["name"] for operation in operations)
    target = _file_of(content["schema"]["$ref"])
    requests_files = {operation["request"] for operation in operations}
    if len(requests_files) == 1:
        assert {target} == requests_files
    else:
        # reset+json carries the self and the admin change: its schema combines both.
        assert requests_files <= _reachable_files(SCHEMA_FILES[target])
    assert content["x-doc"] in {operation["doc"] for operation in operations}


def test_every_request_schema_of_the_table_is_referenced_from_the_document() -> None:
    wanted = {operation["request"] for operation in OPERATIONS if operation["request"]}
    assert wanted <= _reachable_files(OPENAPI), sorted(wanted - _reachable_files(OPENAPI))


# --- Responses ------------------------------------------------------------------------------------


def _response_params() -> list[Any]:
    return [
        pytest.param(path, method, id=_op_id(path, method)) for path, method, _ in _operations()
    ]


@pytest.mark.parametrize(("path", "method"), _response_params())
def test_responses_declare_the_error_statuses_and_no_default(path: str, method: str) -> None:
    operation = OPENAPI["paths"][path][method]
    statuses = set(operation["responses"])
    assert "default" not in statuses
    expected = {"400", "401", "403", "404", "429"}
    if "requestBody" in operation:
        expected.add("415")
    assert expected <= statuses
    assert len([status for status in statuses if status.startswith("2")]) == 1


@pytest.mark.parametrize(("path", "method"), _response_params())
def test_error_responses_use_the_error_envelopes(path: str, method: str) -> None:
    for status, raw in OPENAPI["paths"][path][method]["responses"].items():
        if status.startswith("2"):
            continue
        response = _response(raw)
        assert set(response["content"]) == {"application/json"}, status
        wanted = "error-limited.schema.json" if status in {"403", "429"} else "error.schema.json"
        assert response["content"]["application/json"]["schema"] == {"$ref": f"./{wanted}"}


@pytest.mark.parametrize(("path", "method"), _response_params())
def test_success_bodies_are_documented_as_json_and_hal_json(path: str, method: str) -> None:
    responses = OPENAPI["paths"][path][method]["responses"]
    (status,) = [status for status in responses if status.startswith("2")]
    response = _response(responses[status])
    if status == "204":
        assert "content" not in response
        return
    assert set(response["content"]) == SUCCESS_TYPES
    refs = {media["schema"]["$ref"] for media in response["content"].values()}
    assert len(refs) == 1


@pytest.mark.parametrize(
    ("method", "schema_file"),
    [
        ("get", "password-state.schema.json"),
        ("put", "password-result.response.schema.json"),
        ("post", "password-result.response.schema.json"),
    ],
)
def test_password_200_bodies(method: str, schema_file: str) -> None:
    response = _response(PASSWORD_ITEM[method]["responses"]["200"])
    for media in response["content"].values():
        assert media["schema"] == {"$ref": f"./{schema_file}"}


def test_429_documents_retry_after_seconds_without_requiring_it() -> None:
    response = OPENAPI["components"]["responses"]["TooManyRequests"]
    header = _response(response["headers"]["Retry-After"])
    assert header["schema"]["type"] == "integer"
    assert header["schema"]["minimum"] == 0
    assert header.get("required", False) is False


# --- schemathesis ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def st_schema() -> Any:
    """The document loaded by schemathesis, the suffix-less vendor types serialized as JSON."""
    schemathesis.serializer.alias(SUFFIXLESS_TYPES, "application/json")
    return schemathesis.openapi.from_path(str(OPENAPI_FILE))


def test_schemathesis_loads_every_operation(st_schema: Any) -> None:
    operations = [result.ok() for result in st_schema.get_all_operations()]
    assert {operation.definition.raw["operationId"] for operation in operations} == OPERATION_IDS


BODY_CASES = [
    pytest.param(path, method, media_type, id=f"{_op_id(path, method)} {media_type}")
    for path, method, operation in _operations()
    for media_type in operation.get("requestBody", {}).get("content", {})
]


@pytest.mark.parametrize(("path", "method", "media_type"), BODY_CASES)
def test_schemathesis_generates_schema_valid_bodies_for_every_media_type(
    st_schema: Any, path: str, method: str, media_type: str
) -> None:
    operation = st_schema[path][method.upper()]
    schema_file = _file_of(
        OPENAPI["paths"][path][method]["requestBody"]["content"][media_type]["schema"]["$ref"]
    )
    body_validator = Draft202012Validator(
        SCHEMA_FILES[schema_file],
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    seen: list[Any] = []

    @given(operation.as_strategy().filter(lambda case: case.media_type == media_type))
    @settings(
        max_examples=5,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    def generated(case: Any) -> None:
        assert body_validator.is_valid(case.body), case.body
        sent = case.as_transport_kwargs(base_url="http://127.0.0.1:9/v1")
        assert sent["headers"]["Content-Type"] == media_type
        assert sent["json"] == case.body
        seen.append(case.body)

    generated()
    assert seen


@pytest.mark.parametrize(
    ("path", "method"),
    [
        pytest.param(path, method, id=_op_id(path, method))
        for path, method, operation in _operations()
        if "requestBody" not in operation
    ],
)
def test_schemathesis_generates_cases_for_every_bodyless_operation(
    st_schema: Any, path: str, method: str
) -> None:
    operation = st_schema[path][method.upper()]
    seen: list[Any] = []

    @given(operation.as_strategy())
    @settings(max_examples=3, derandomize=True, database=None, deadline=None)
    def generated(case: Any) -> None:
        assert case.body is None or case.body is schemathesis.core.NOT_SET
        assert set(case.path_parameters) == {
            name.strip("{}") for name in path.split("/") if name.startswith("{")
        }
        seen.append(case)

    generated()
    assert seen


def _response_of(status: int, body: Any, content_type: str = "application/json") -> Any:
    request = requests.Request("GET", "http://127.0.0.1:9/v1/environments/e/users/u").prepare()
    return schemathesis.Response(
        status_code=status,
        headers={"Content-Type": [content_type]},
        content=json.dumps(body).encode(),
        request=request,
        elapsed=0.0,
        verify=True,
    )


STATE_OK = {"environment": {"id": "e"}, "user": {"id": "u"}, "status": "OK"}
RESPONSE_CASES = [
    pytest.param(200, STATE_OK, True, id="200 password state"),
    pytest.param(200, {**STATE_OK, "status": "ok"}, False, id="200 status in lowercase"),
    pytest.param(200, {"environment": {"id": "e"}, "status": "OK"}, False, id="200 missing user"),
    pytest.param(200, {**STATE_OK, "lastChangedAt": "yesterday"}, False, id="200 bad date-time"),
    pytest.param(404, {"id": "x", "code": "NOT_FOUND", "message": "m"}, True, id="404 envelope"),
    pytest.param(404, {"code": "NOT_FOUND", "message": "m"}, False, id="404 without id"),
    pytest.param(429, {"code": "REQUEST_LIMITED", "message": "m"}, True, id="429 without id"),
    pytest.param(403, {"message": "m"}, False, id="403 without code"),
]


@pytest.mark.parametrize(("status", "body", "valid"), RESPONSE_CASES)
def test_schemathesis_validates_responses_through_the_schema_files(
    st_schema: Any, status: int, body: Any, valid: bool
) -> None:
    case = st_schema[PASSWORD_PATH]["GET"].Case(path_parameters={"envID": "e", "userID": "u"})
    response = _response_of(status, body)
    if valid:
        case.validate_response(response, checks=[response_schema_conformance])
    else:
        with pytest.raises(FailureGroup):
            case.validate_response(response, checks=[response_schema_conformance])
