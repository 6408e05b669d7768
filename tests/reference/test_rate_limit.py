"""The optional token-bucket rate limit: 429 REQUEST_LIMITED with an integer Retry-After."""

from __future__ import annotations

import pytest

from reference.rate_limit import TokenBucket
from tests.reference.conftest import assert_envelope, make_api


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_grants_a_burst_then_waits() -> None:
    clock = FakeTime()
    bucket = TokenBucket(2.0, now=clock)
    assert [bucket.take() for _ in range(2)] == [0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.take() == 0.0


def test_slow_rates_wait_longer_than_a_second() -> None:
    clock = FakeTime()
    bucket = TokenBucket(0.25, now=clock)
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(4.0)


def test_over_the_limit_is_429_with_retry_after() -> None:
    api = make_api(rate_limit_per_second=0.5)
    with api.client:
        assert api.request("GET", f"{api.env}/users").status_code == 200
        response = api.request("GET", f"{api.env}/users")
        body = assert_envelope(response, 429, "REQUEST_LIMITED")
        retry_after = response.headers["retry-after"]
        assert retry_after.isdigit()
        assert int(retry_after) >= 1
        assert body["details"][0]["code"] == "LIMIT_EXCEEDED"
        # the token endpoint is not part of the API's limit
        cfg = api.config
        token = api.client.post(
            f"/{cfg.env_id}/as/token",
            data={"grant_type": "client_credentials"},
            auth=(cfg.client_id, cfg.client_secret),
        )
        assert token.status_code == 200


def test_no_limit_by_default() -> None:
    api = make_api()
    with api.client:
        assert all(api.request("GET", f"{api.env}/users").status_code == 200 for _ in range(50))
