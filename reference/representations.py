"""JSON bodies of the resources: password state, user, user list, password policy, environment.

Links are absolute, built from the API base URL of the request (``http://host:port/v1``).
Timestamps are ISO-8601 UTC with milliseconds and ``Z``. No body ever carries a password or a
stored hash.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from reference.passwords import PasswordView
from reference.users import UserPage, UserView

PASSWORD_ACTION_LINKS = ("password.check", "password.reset", "password.set", "password.recover")


def iso_timestamp(epoch_seconds: float) -> str:
    """Returns ``2025-04-11T16:02:03.217Z`` for an epoch time."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _href(url: str) -> dict[str, str]:
    return {"href": url}


def segment(text: str) -> str:
    """Returns one URL path segment: ids that came from a request are percent-encoded.

    A population id (or any id a client sent) may hold spaces, slashes or non-ASCII letters; an
    href must stay a valid URI reference (RFC 3986) that names exactly that resource.
    """
    return quote(text, safe="")


def environment_url(api_base: str, env_id: str) -> str:
    """Returns the URL of an environment."""
    return f"{api_base}/environments/{segment(env_id)}"


def user_url(api_base: str, env_id: str, user_id: str) -> str:
    """Returns the URL of a user."""
    return f"{environment_url(api_base, env_id)}/users/{segment(user_id)}"


def policy_url(api_base: str, env_id: str, policy_id: str) -> str:
    """Returns the URL of a password policy."""
    return f"{environment_url(api_base, env_id)}/passwordPolicies/{segment(policy_id)}"


def password_state(
    api_base: str, view: PasswordView, embedded_policy: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Returns the password-state body (the set page's sample shape)."""
    password_url = f"{user_url(api_base, view.env_id, view.user_id)}/password"
    links = {
        "self": _href(password_url),
        "environment": _href(environment_url(api_base, view.env_id)),
        "user": _href(user_url(api_base, view.env_id, view.user_id)),
        "passwordPolicy": _href(policy_url(api_base, view.env_id, view.policy_id)),
    }
    links.update({relation: _href(password_url) for relation in PASSWORD_ACTION_LINKS})
    body: dict[str, Any] = {
        "_links": links,
        "environment": {"id": view.env_id},
        "user": {"id": view.user_id},
        "passwordPolicy": {"id": view.policy_id},
        "status": view.status,
    }
    if view.last_changed_at is not None:
        body["lastChangedAt"] = iso_timestamp(view.last_changed_at)
    if view.seconds_until_unlock is not None:
        body["secondsUntilUnlock"] = view.seconds_until_unlock
    if embedded_policy is not None:
        body["_embedded"] = {"passwordPolicy": embedded_policy}
    return body


def user(api_base: str, view: UserView) -> dict[str, Any]:
    """Returns the user body."""
    record = view.record
    url = user_url(api_base, record.env_id, record.id)
    provider: dict[str, Any] = {"type": record.idp_type}
    if record.idp_id is not None:
        provider["id"] = record.idp_id
    body: dict[str, Any] = {
        "_links": {
            "self": _href(url),
            "environment": _href(environment_url(api_base, record.env_id)),
            "population": _href(
                f"{environment_url(api_base, record.env_id)}/populations/"
                f"{segment(record.population_id)}"
            ),
            "password": _href(f"{url}/password"),
        },
        "id": record.id,
        "environment": {"id": record.env_id},
        "account": {
            "canAuthenticate": record.enabled and not view.locked,
            "status": "LOCKED" if view.locked else "OK",
        },
        "createdAt": iso_timestamp(record.created_at),
        "updatedAt": iso_timestamp(record.updated_at),
        "enabled": record.enabled,
        "identityProvider": provider,
        "lifecycle": {"status": "ACCOUNT_OK"},
        "mfaEnabled": False,
        "population": {"id": record.population_id},
        "username": record.username,
        "verifyStatus": "NOT_INITIATED",
    }
    if record.email is not None:
        body["email"] = record.email
    if record.name_json:
        body["name"] = json.loads(record.name_json)
    return body


def user_list(api_base: str, env_id: str, page: UserPage, query: str) -> dict[str, Any]:
    """Returns the user collection body."""
    self_url = f"{environment_url(api_base, env_id)}/users" + (f"?{query}" if query else "")
    return {
        "_links": {"self": _href(self_url)},
        "_embedded": {"users": [user(api_base, view) for view in page.users]},
        "count": page.count,
        "size": len(page.users),
    }


def password_policy(api_base: str, env_id: str, policy: dict[str, Any]) -> dict[str, Any]:
    """Returns a password-policy body."""
    body = {
        "_links": {
            "self": _href(policy_url(api_base, env_id, policy["id"])),
            "environment": _href(environment_url(api_base, env_id)),
        },
        "environment": {"id": env_id},
    }
    body.update(policy)
    return body


def policy_list(api_base: str, env_id: str, policies: list[dict[str, Any]]) -> dict[str, Any]:
    """Returns the password-policy collection body."""
    return {
        "_links": {"self": _href(f"{environment_url(api_base, env_id)}/passwordPolicies")},
        "_embedded": {"passwordPolicies": [password_policy(api_base, env_id, p) for p in policies]},
        "count": len(policies),
        "size": len(policies),
    }


def environment(api_base: str, env_id: str) -> dict[str, Any]:
    """Returns a minimal environment body."""
    return {
        "_links": {"self": _href(environment_url(api_base, env_id))},
        "id": env_id,
        "name": "Reference environment",
        "type": "SANDBOX",
    }
