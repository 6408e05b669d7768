"""Sources a case may need beyond a worker token, built from what the target offers.

Some behaviour cannot be seen with a worker token alone: the recovery code goes to the user's
email, lockout and code expiry need time to pass, a user of an external identity provider needs
one configured in the environment, and a self change needs a token whose actor is the user.
Each source is one small class; `Sources` holds those the run has. A case that needs a source the
run lacks skips with a reason that starts with `needs a source: <name>` (the summary reports it
as not assessed), never passes.

Where they come from today:
- the reference's test routes (`Target.test_routes_url`, the embedded default or a reference
  started with `--enable-test-routes`) give `recovery-code` (`GET …/recovery-codes/{userID}`),
  `clock` (`POST …/clock`), `external-idp` (the reference accepts any identity-provider id) and
  `self-actor` (the reference treats a worker token's reset with currentPassword as the user's
  own change);
- a URL template with `{userID}` answering `{"recoveryCode": "…"}` and an identity-provider id
  plug in as `RecoveryCodeSource(template)` and `ExternalIdpSource(idp_id)`, without changing
  any case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from harness.client import ApiClient
from harness.config import Target

SKIP_PREFIX = "needs a source"
RECOVERY_CODE = "recovery-code"
CLOCK = "clock"
EXTERNAL_IDP = "external-idp"
SELF_ACTOR = "self-actor"
# What each source is, for skip reasons.
WHAT: dict[str, str] = {
    RECOVERY_CODE: "a way to read the recovery code the target sent to the user",
    CLOCK: "a way to move the target's password clock forward",
    EXTERNAL_IDP: "an external identity provider configured in the environment",
    SELF_ACTOR: "a token whose actor is the user under test; a worker token never is on PingOne",
}
# The identity provider the reference's users are given: the reference accepts any id and takes
# the type from the request, so it names a provider type other than PING_ONE.
REFERENCE_IDP_ID = "00000000-0000-4000-8000-0000000000e1"
REFERENCE_IDP_TYPE = "OPENID_CONNECT"


class SourceError(Exception):
    """A source the run has did not answer as it promised (a setup problem, not a finding)."""


def skip_reason(name: str) -> str:
    """`needs a source: clock (a way to move the target's password clock forward)`."""
    return f"{SKIP_PREFIX}: {name} ({WHAT.get(name, 'not configured for this run')})"


@dataclass(frozen=True)
class RecoveryCodeSource:
    """Reads the latest recovery code of a user: a URL template with `{userID}`.

    The URL answers `{"recoveryCode": "…"}` to a GET with the run's bearer token. The code is a
    secret: it is registered with redaction before anything can print it.
    """

    url_template: str

    def code_for(self, api: ApiClient, user_id: str) -> str:
        """The code the target last sent to `user_id`."""
        url = self.url_template.replace("{userID}", quote(user_id, safe=""))
        response = api.get(url)
        try:
            code = response.json().get("recoveryCode") if response.status_code == 200 else None
        except (ValueError, AttributeError):
            code = None
        if not isinstance(code, str) or not code:
            raise SourceError(f"the recovery-code source answered HTTP {response.status_code}")
        api.redactor.register(code)
        return code


@dataclass(frozen=True)
class ClockSource:
    """Moves the target's password clock forward: POST `{"advanceSeconds": N}` to a URL."""

    url: str

    def advance(self, api: ApiClient, seconds: float) -> None:
        """Move the clock `seconds` forward."""
        response = api.post_json(self.url, {"advanceSeconds": seconds})
        if response.status_code != 200:
            raise SourceError(f"the clock source answered HTTP {response.status_code}")


@dataclass(frozen=True)
class ExternalIdpSource:
    """An identity provider of the environment other than PingOne, for user creation."""

    idp_id: str
    idp_type: str | None = None

    def identity_provider(self) -> dict[str, Any]:
        """The `identityProvider` object of a create-user body."""
        provider: dict[str, Any] = {"id": self.idp_id}
        if self.idp_type:
            provider["type"] = self.idp_type
        return provider


@dataclass(frozen=True)
class SelfActorSource:
    """The run's token acts as the user in a self change (said by the target, never guessed)."""

    why: str


@dataclass(frozen=True)
class Sources:
    """The sources this run has; None where it lacks one."""

    recovery_code: RecoveryCodeSource | None = None
    clock: ClockSource | None = None
    external_idp: ExternalIdpSource | None = None
    self_actor: SelfActorSource | None = None

    @classmethod
    def from_target(
        cls,
        target: Target,
        recovery_code_url: str | None = None,
        external_idp_id: str | None = None,
        shared_by_workers: bool = False,
    ) -> Sources:
        """What the target offers, plus a recovery-code URL template and an IdP id if given.

        `shared_by_workers`: parallel workers test the same target at once. Its clock is then
        no source: moving it for one test would end another's lockout or recovery code early,
        so clock cases skip as not assessed (an embedded reference is each worker's own).
        """
        routes = target.test_routes_url.rstrip("/") if target.test_routes_url else None
        recovery = recovery_code_url or (f"{routes}/recovery-codes/{{userID}}" if routes else None)
        idp: ExternalIdpSource | None = None
        if external_idp_id:
            idp = ExternalIdpSource(external_idp_id)
        elif routes:
            idp = ExternalIdpSource(REFERENCE_IDP_ID, REFERENCE_IDP_TYPE)
        return cls(
            recovery_code=RecoveryCodeSource(recovery) if recovery else None,
            clock=ClockSource(f"{routes}/clock") if routes and not shared_by_workers else None,
            external_idp=idp,
            self_actor=(
                SelfActorSource("the reference treats a worker token as the user in a self change")
                if routes
                else None
            ),
        )

    def has(self, name: str) -> bool:
        """True when the run has the source `name`."""
        return self._by_name(name) is not None

    def missing(self, names: list[str] | tuple[str, ...]) -> list[str]:
        """The sources among `names` the run lacks, in order."""
        return [name for name in names if not self.has(name)]

    def require(self, names: list[str] | tuple[str, ...]) -> None:
        """Skip the running test with `needs a source: …` when one of `names` is missing."""
        lacking = self.missing(names)
        if lacking:
            pytest.skip("; ".join(skip_reason(name) for name in lacking))

    def _by_name(self, name: str) -> object | None:
        table: dict[str, object | None] = {
            RECOVERY_CODE: self.recovery_code,
            CLOCK: self.clock,
            EXTERNAL_IDP: self.external_idp,
            SELF_ACTOR: self.self_actor,
        }
        if name not in table:
            raise ValueError(f"unknown source {name!r} (known: {', '.join(table)})")
        return table[name]
