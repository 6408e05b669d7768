"""Fixtures for the reference's own tests: an in-process app with a manual clock and fast hashing,
and a small client that knows the token, the media types and the environment."""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from reference.app import create_app
from reference.clock import ManualClock
from reference.config import ReferenceConfig
from reference.store import Store

with warnings.catch_warnings():
    # starlette.testclient warns at import that it prefers httpx2; the pinned httpx works and
    # httpx2 is not in requirements.lock.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

MEDIA = {
    "set": "application/vnd.pingidentity.password.set+json",
    "setValue": "application/vnd.pingidentity.password.setValue+json",
    "setGateway": "application/vnd.pingidentity.password.setGateway+json",
    "reset": "application/vnd.pingidentity.password.reset+json",
    "check": "application/vnd.pingidentity.password.check+json",
    "recover": "application/vnd.pingidentity.password.recover+json",
    "sendRecoveryCode": "application/vnd.pingidentity.password.sendRecoveryCode+json",
    "forceChange": "application/vnd.pingidentity.password.forceChange",
    "unlock": "application/vnd.pingidentity.password.unlock",
}
METHOD = {name: ("PUT" if name.startswith(("set", "reset")) else "POST") for name in MEDIA}
IMPORT = "application/vnd.pingidentity.user.import+json"
GOOD_PASSWORD = "Spruce-Harbor-71k"
OTHER_PASSWORD = "Quartz-Meadow-93q"
THIRD_PASSWORD = "Violet-Canyon-48z"
SECRET_KEYS = {"value", "password", "currentPassword", "newPassword"}
HASH_MARKERS = (
    "$argon2",
    "{ARGON2}",
    "{SSHA",
    "$2a$",
    "$2b$",
    "$2y$",
    "{BCRYPT}",
    "$pbkdf2",
    "{PBKDF2}",
)


def _distinctive(value: str) -> bool:
    """True for a password too specific to appear in a body by chance."""
    return len(value) >= 8 and not value.isalpha()


def assert_no_leak(response: httpx.Response, secrets: set[str]) -> None:
    """Asserts that a response carries no stored-hash marker and none of the given secrets."""
    text = response.text + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    where = f"{response.request.method} {response.request.url.path}"
    for marker in HASH_MARKERS:
        assert marker not in text, f"hash marker in the response to {where}"
    for secret in secrets:
        assert secret not in text, f"a password sent earlier is in the response to {where}"


@dataclass
class Api:
    """A test client for one reference app: token attached, every response recorded."""

    client: TestClient
    config: ReferenceConfig
    clock: ManualClock
    token: str = ""
    responses: list[httpx.Response] = field(default_factory=list)
    sent_secrets: set[str] = field(default_factory=set)

    @property
    def env(self) -> str:
        return f"/v1/environments/{self.config.env_id}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Sends a request with the token; checks that no response leaks a secret or a hash."""
        headers = {**self.auth, **kwargs.pop("headers", {})}
        self._remember_secrets(kwargs.get("json"), kwargs.get("content"))
        response: httpx.Response = self.client.request(method, url, headers=headers, **kwargs)
        self.responses.append(response)
        assert_no_leak(response, self.sent_secrets)
        return response

    def _remember_secrets(self, json_body: Any, content: Any) -> None:
        body = json_body
        if body is None and isinstance(content, bytes) and content:
            try:
                body = json.loads(content)
            except (ValueError, RecursionError):
                return
        stack = [body]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                for key, value in item.items():
                    if key in SECRET_KEYS and isinstance(value, str) and _distinctive(value):
                        self.sent_secrets.add(value)
                    stack.append(value)
            elif isinstance(item, list):
                stack.extend(item)

    def password_url(self, user_id: str) -> str:
        return f"{self.env}/users/{user_id}/password"

    def op(self, name: str, user_id: str, body: Any = None, **headers: str) -> httpx.Response:
        """Sends a password operation by name with its documented method and media type."""
        content = b"" if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": MEDIA[name], **headers}
        return self.request(
            METHOD[name], self.password_url(user_id), content=content, headers=all_headers
        )

    def state(self, user_id: str) -> dict[str, Any]:
        response = self.request("GET", self.password_url(user_id))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def create_user(self, username: str | None = None, **fields: Any) -> str:
        body = {"username": username or f"user-{uuid.uuid4().hex[:10]}", **fields}
        response = self.request("POST", f"{self.env}/users", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def user_with_password(self, password: str = GOOD_PASSWORD, **fields: Any) -> str:
        user_id = self.create_user(**fields)
        response = self.op("set", user_id, {"value": password, "forceChange": False})
        assert response.status_code == 200, response.text
        return user_id

    def advance(self, seconds: float) -> None:
        response = self.request("POST", "/__reference/clock", json={"advanceSeconds": seconds})
        assert response.status_code == 200, response.text


def issue_token(client: TestClient, config: ReferenceConfig) -> str:
    response = client.post(
        f"/{config.env_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(config.client_id, config.client_secret),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def make_api(**overrides: Any) -> Api:
    """Builds an app with fast hashing, test routes and a manual clock, plus a client for it."""
    clock = ManualClock()
    settings: dict[str, Any] = {"hash_profile": "fast", "test_routes": True, "clock": clock}
    config = ReferenceConfig(**{**settings, **overrides})
    app = create_app(config)
    _OPEN_STORES.append(app.state.store)
    client = TestClient(app)
    api = Api(client, config, clock)
    api.token = issue_token(client, config)
    return api


_OPEN_STORES: list[Store] = []


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    """Closes the database of every app a test built."""
    yield
    while _OPEN_STORES:
        _OPEN_STORES.pop().close()


@pytest.fixture
def api() -> Iterator[Api]:
    """A fresh reference (Standard policy) and its client."""
    built = make_api()
    with built.client:
        yield built


def error_details(response: httpx.Response) -> list[dict[str, Any]]:
    """Returns ``details`` of an error body (empty when absent)."""
    return list(response.json().get("details", []))


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Asserts an error response's status, envelope shape and top-level code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = dict(response.json())
    assert body["code"] == code
    uuid.UUID(body["id"])
    assert isinstance(body["message"], str)
    assert body["message"]
    return body
