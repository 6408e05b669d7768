"""Target settings become a Target, or a configuration error with exit code 10."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import (
    ClientCredentials,
    ConfigError,
    ExitCode,
    StaticToken,
    TargetSettings,
    derive_auth_url,
    parse_age,
)

ENV_ID = "3f9c2c8e-6a4b-4f5e-9d1a-2b7c8e0f1a2b"


def test_exit_codes_match_the_architecture_document() -> None:
    assert [int(code) for code in ExitCode] == [10, 11, 12, 13, 14, 15]
    document = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    for code in ExitCode:
        assert f"| {int(code)} |" in document, f"exit code {int(code)} is not documented"


@pytest.mark.parametrize("env_id", ["e", "not-a-uuid", "3f9c2c8e6a4b4f5e9d1a2b7c8e0f1a2b"])
def test_a_malformed_environment_id_is_a_configuration_error(env_id: str) -> None:
    settings = TargetSettings(
        base_url="https://api.pingone.com/v1", env_id=env_id, access_token="t"
    )
    with pytest.raises(ConfigError, match="is not a UUID") as raised:
        settings.external_target()
    assert raised.value.exit_code is ExitCode.CONFIGURATION


def test_no_base_url_means_the_embedded_reference() -> None:
    settings = TargetSettings()
    assert settings.wants_embedded_reference
    settings.check_embedded()  # nothing given that contradicts it


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"env_id": ENV_ID}, "PINGONE_ENV_ID"),
        ({"auth_url": "https://auth.pingone.eu"}, "PINGONE_AUTH_URL"),
        ({"client_id": "c"}, "PINGONE_CLIENT_ID"),
        ({"access_token": "t"}, "PINGONE_ACCESS_TOKEN"),
    ],
    ids=["env-id", "auth-url", "client-id", "token"],
)
def test_target_settings_without_a_base_url_are_refused(given: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        TargetSettings(**given).check_embedded()
    assert raised.value.exit_code is ExitCode.CONFIGURATION
    assert named in raised.value.message


def test_a_complete_external_target_with_client_credentials() -> None:
    target = TargetSettings(
        base_url="https://api.pingone.eu/v1/",
        env_id=ENV_ID,
        client_id="client",
        client_secret="secret-value",
    ).external_target()
    assert target.api_base_url == "https://api.pingone.eu/v1"
    assert target.auth_base_url == "https://auth.pingone.eu"
    assert target.token_url == f"https://auth.pingone.eu/{ENV_ID}/as/token"
    assert target.environment_url == f"https://api.pingone.eu/v1/environments/{ENV_ID}"
    assert target.credentials == ClientCredentials("client", "secret-value")
    assert not target.is_reference
    assert target.kind == "external"
    assert "secret-value" not in repr(target)


def test_a_static_token_needs_no_auth_url() -> None:
    target = TargetSettings(
        base_url="http://127.0.0.1:9999/v1", env_id=ENV_ID, access_token="tok-value"
    ).external_target()
    assert target.credentials == StaticToken("tok-value")
    assert target.auth_base_url is None
    assert target.token_url is None
    assert "tok-value" not in repr(target)


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        (
            TargetSettings(base_url="https://api.pingone.com/v1", client_id="c", client_secret="s"),
            "environment id",
        ),
        (TargetSettings(base_url="https://api.pingone.com/v1", env_id=ENV_ID), "credentials"),
        (
            TargetSettings(base_url="https://api.pingone.com/v1", env_id=ENV_ID, client_id="c"),
            "PINGONE_CLIENT_SECRET",
        ),
        (
            TargetSettings(base_url="https://api.pingone.com/v1", env_id=ENV_ID, client_secret="s"),
            "PINGONE_CLIENT_ID",
        ),
        (
            TargetSettings(
                base_url="https://api.pingone.com/v1",
                env_id=ENV_ID,
                client_id="c",
                client_secret="s",
                access_token="t",
            ),
            "not both",
        ),
        (
            TargetSettings(base_url="ftp://api.pingone.com/v1", env_id=ENV_ID, access_token="t"),
            "http(s)",
        ),
        (TargetSettings(base_url="https://", env_id=ENV_ID, access_token="t"), "http(s)"),
        (
            TargetSettings(
                base_url="https://u:p@api.pingone.com/v1", env_id=ENV_ID, access_token="t"
            ),
            "user info",
        ),
        (
            TargetSettings(base_url="https://api.pingone.com/v1", env_id="a/b", access_token="t"),
            "environment id",
        ),
    ],
    ids=[
        "no-env-id",
        "no-credentials",
        "no-secret",
        "no-client-id",
        "both-kinds",
        "not-http",
        "no-host",
        "user-info",
        "env-id-with-slash",
    ],
)
def test_incomplete_or_contradictory_settings_exit_10(
    settings: TargetSettings, fragment: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        settings.external_target()
    assert raised.value.exit_code is ExitCode.CONFIGURATION
    assert fragment in raised.value.message


def test_config_errors_never_carry_the_secrets() -> None:
    settings = TargetSettings(
        base_url="https://api.pingone.com/v1",
        env_id=ENV_ID,
        client_id="c",
        client_secret="super-secret-1",
        access_token="super-token-1",
    )
    with pytest.raises(ConfigError) as raised:
        settings.external_target()
    assert "super-" not in raised.value.message
    assert set(settings.secrets()) == {"super-secret-1", "super-token-1"}
    assert "super-" not in repr(settings)


@pytest.mark.parametrize(
    ("api", "auth"),
    [
        ("https://api.pingone.com/v1", "https://auth.pingone.com"),
        ("https://api.pingone.com.au/v1", "https://auth.pingone.com.au"),
        ("https://api.pingone.asia/v1", "https://auth.pingone.asia"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"),
        ("https://mock.example.test/pingone/v1", "https://mock.example.test"),
    ],
)
def test_auth_url_is_derived_from_the_api_url(api: str, auth: str) -> None:
    assert derive_auth_url(api) == auth


def test_an_explicit_auth_url_wins() -> None:
    target = TargetSettings(
        base_url="https://api.pingone.com/v1",
        auth_url="https://login.example.test/",
        env_id=ENV_ID,
        client_id="c",
        client_secret="s",
    ).external_target()
    assert target.token_url == f"https://login.example.test/{ENV_ID}/as/token"


def test_a_region_sets_both_urls() -> None:
    target = TargetSettings(region="com.au", env_id=ENV_ID, access_token="t").external_target()
    assert target.api_base_url == "https://api.pingone.com.au/v1"
    assert target.auth_base_url == "https://auth.pingone.com.au"


@pytest.mark.parametrize(
    "settings",
    [
        TargetSettings(region="eu", base_url="https://api.pingone.eu/v1", env_id=ENV_ID),
        TargetSettings(region="eu", auth_url="https://auth.pingone.eu", env_id=ENV_ID),
        TargetSettings(region="mars", env_id=ENV_ID, access_token="t"),
    ],
    ids=["with-base-url", "with-auth-url", "unknown-region"],
)
def test_a_region_with_a_url_or_an_unknown_region_is_refused(settings: TargetSettings) -> None:
    with pytest.raises(ConfigError) as raised:
        settings.external_target()
    assert raised.value.exit_code is ExitCode.CONFIGURATION


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400)]
)
def test_ages(text: str, seconds: int) -> None:
    assert parse_age(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "2", "0h", "-1h", "2w", "h"])
def test_malformed_ages_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an age"):
        parse_age(text)
