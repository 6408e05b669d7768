"""The client-credentials token endpoint: ``POST /{envID}/as/token``."""

from __future__ import annotations

import base64
import json

from tests.reference.conftest import Api, assert_envelope

GRANT = {"grant_type": "client_credentials"}


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_basic_client_authentication_issues_a_bearer_token(api: Api) -> None:
    cfg = api.config
    response = api.client.post(
        f"/{cfg.env_id}/as/token", data=GRANT, auth=(cfg.client_id, cfg.client_secret)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == cfg.token_ttl_seconds
    assert response.headers["cache-control"] == "no-store"
    claims = _claims(body["access_token"])
    assert claims["env"] == cfg.env_id
    assert claims["client_id"] == claims["sub"] == cfg.client_id
    assert claims["exp"] == claims["iat"] + cfg.token_ttl_seconds  # type: ignore[operator]
    assert claims["iss"] == f"http://testserver/{cfg.env_id}/as"


def test_client_secret_in_the_form_body_is_accepted(api: Api) -> None:
    cfg = api.config
    form = {**GRANT, "client_id": cfg.client_id, "client_secret": cfg.client_secret}
    response = api.client.post(f"/{cfg.env_id}/as/token", data=form)
    assert response.status_code == 200
    assert (
        api.client.get(
            f"{api.env}/passwordPolicies",
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
        ).status_code
        == 200
    )


def test_wrong_secret_is_invalid_client(api: Api) -> None:
    cfg = api.config
    response = api.client.post(
        f"/{cfg.env_id}/as/token", data=GRANT, auth=(cfg.client_id, cfg.client_secret + "x")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert cfg.client_secret not in response.text


def test_missing_client_authentication_is_invalid_client(api: Api) -> None:
    response = api.client.post(f"/{api.config.env_id}/as/token", data=GRANT)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_two_authentication_methods_at_once_are_refused(api: Api) -> None:
    cfg = api.config
    form = {**GRANT, "client_id": cfg.client_id, "client_secret": cfg.client_secret}
    response = api.client.post(
        f"/{cfg.env_id}/as/token", data=form, auth=(cfg.client_id, cfg.client_secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_other_grant_types_are_unsupported(api: Api) -> None:
    cfg = api.config
    response = api.client.post(
        f"/{cfg.env_id}/as/token",
        data={"grant_type": "password"},
        auth=(cfg.client_id, cfg.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_missing_grant_type_is_invalid_request(api: Api) -> None:
    cfg = api.config
    response = api.client.post(
        f"/{cfg.env_id}/as/token", data={}, auth=(cfg.client_id, cfg.client_secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_json_body_is_invalid_request(api: Api) -> None:
    cfg = api.config
    response = api.client.post(
        f"/{cfg.env_id}/as/token", json=GRANT, auth=(cfg.client_id, cfg.client_secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_unknown_environment_is_404(api: Api) -> None:
    cfg = api.config
    response = api.client.post(
        "/00000000-0000-4000-8000-000000000000/as/token",
        data=GRANT,
        auth=(cfg.client_id, cfg.client_secret),
    )
    assert_envelope(response, 404, "NOT_FOUND")


def test_get_on_the_token_endpoint_is_405(api: Api) -> None:
    response = api.client.get(f"/{api.config.env_id}/as/token")
    assert_envelope(response, 405, "INVALID_REQUEST")
    assert "POST" in response.headers["allow"]
