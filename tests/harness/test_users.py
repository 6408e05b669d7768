"""Users under test: created with the run's prefix, always deleted, stale ones swept safely."""

from __future__ import annotations

import time

import pytest
import requests

from harness.auth import TokenProvider
from harness.client import ApiClient
from harness.config import ClientCredentials, Target
from harness.passwords import PasswordBook, PolicyBook
from harness.redaction import Redactor
from harness.users import USERNAME_PREFIX, UserFactory, UserRegistry, UserUnderTest, new_run_id
from reference.clock import ManualClock
from reference.server import RunningReference
from tests.conftest import ReferenceStarter, run_pytest, target_environment

HOUR = 3600.0


def _registry(reference: RunningReference, run_id: str | None = None) -> UserRegistry:
    target = Target(
        api_base_url=reference.api_base_url,
        auth_base_url=reference.auth_base_url,
        env_id=reference.env_id,
        credentials=ClientCredentials(reference.client_id, reference.client_secret),
        is_reference=True,
    )
    redactor = Redactor()
    session = requests.Session()
    api = ApiClient(
        target, TokenProvider(target, session, redactor), redactor, session, recorder=None
    )
    return UserRegistry(api, PolicyBook(api), PasswordBook(redactor), run_id or new_run_id())


def _exists(registry: UserRegistry, user_id: str) -> bool:
    api = registry._api  # noqa: SLF001 - the test reads through the same client
    status = api.get(api.user_url(user_id)).status_code
    assert status in (200, 404), status
    return status == 200


def test_run_ids_are_unique_and_usernames_carry_the_prefix(
    start_known_reference: ReferenceStarter,
) -> None:
    assert len({new_run_id() for _ in range(50)}) == 50
    registry = _registry(start_known_reference())
    user = registry.create()
    assert user.username.startswith(f"{USERNAME_PREFIX}{registry.run_id}-")
    assert user.username.endswith("-1")
    assert registry.create().username.endswith("-2")


def test_a_user_with_a_valid_password_can_check_it(start_known_reference: ReferenceStarter) -> None:
    registry = _registry(start_known_reference())
    user = registry.create(password="valid", force_change=False)
    assert user.password is not None
    assert user.policy is not None
    assert user.policy.name == "Standard"  # the reference's default, read from the target
    answer = registry._api.password_operation(user.id, "check", {"password": user.password})  # noqa: SLF001
    assert answer.status_code == 200


def test_the_factory_deletes_its_users_even_when_the_test_fails(
    start_known_reference: ReferenceStarter,
) -> None:
    registry = _registry(start_known_reference())
    factory = UserFactory(registry)
    made: list[UserUnderTest] = []
    undeleted: list[str] = ["not run"]

    def failing_test() -> None:
        try:
            made.append(factory.create(password="valid"))
            made.append(factory.create())
            raise RuntimeError("the test failed")
        finally:
            undeleted[:] = factory.cleanup()

    with pytest.raises(RuntimeError):
        failing_test()
    assert undeleted == []
    assert len(made) == 2
    assert registry.live == []
    assert not any(_exists(registry, user.id) for user in made)


def test_delete_all_sweeps_what_is_left(start_known_reference: ReferenceStarter) -> None:
    registry = _registry(start_known_reference())
    users = [registry.create() for _ in range(3)]
    registry.delete(users[0].id)
    assert registry.delete_all() == []
    assert registry.deleted == 3
    assert not any(_exists(registry, user.id) for user in users)


def test_only_old_users_of_other_runs_are_swept(start_known_reference: ReferenceStarter) -> None:
    """Prefix AND created over two hours ago (by the target's clock): nothing else is touched."""
    clock = ManualClock(start=time.time() - 3 * HOUR)
    reference = start_known_reference(clock=clock)
    this_run = _registry(reference)
    other_old = _registry(reference).create()
    this_run_old = this_run.create()
    api = this_run._api  # noqa: SLF001
    stranger = api.post_json(
        api.env_url("users"), {"username": "someone-else-old", "email": "x@example.com"}
    ).json()["id"]
    clock.advance(3 * HOUR - 60)  # back to (almost) the present
    other_fresh = _registry(reference).create()

    assert this_run.delete_stale() == 1
    assert not _exists(this_run, other_old.id)
    assert _exists(this_run, this_run_old.id)
    assert _exists(this_run, other_fresh.id)
    assert _exists(this_run, stranger)


def test_the_policy_of_a_user_is_read_from_its_password_state(
    start_known_reference: ReferenceStarter,
) -> None:
    registry = _registry(start_known_reference(default_policy="Basic"))
    user = registry.create()
    policy = registry.policy_of(user)
    assert policy.name == "Basic"
    assert registry.policy_of(user) is policy


def test_sweep_deletes_only_leftovers_older_than_its_age_and_says_how_many(
    start_known_reference: ReferenceStarter,
) -> None:
    """`pytest --sweep 2h` against a target: deletes prefix users older than 2 h, nothing else."""
    clock = ManualClock(start=time.time() - 3 * HOUR)
    reference = start_known_reference(clock=clock)
    earlier = _registry(reference)
    old = [earlier.create(), earlier.create()]
    api = earlier._api  # noqa: SLF001
    stranger = api.post_json(
        api.env_url("users"), {"username": "someone-else-old", "email": "x@example.com"}
    ).json()["id"]
    clock.advance(3 * HOUR - 60)
    fresh = _registry(reference).create()

    run = run_pytest(["--sweep", "2h", "-q"], env=target_environment(reference))
    assert run.returncode == 0, run.output
    assert "deleted 2 leftover user(s)" in run.stdout
    assert " passed" not in run.stdout
    assert not any(_exists(earlier, user.id) for user in old)
    assert _exists(earlier, fresh.id)
    assert _exists(earlier, stranger)


def test_a_malformed_sweep_age_is_a_usage_error() -> None:
    run = run_pytest(["--sweep", "soon", "-q"])
    assert run.returncode == 4
    assert "not an age like" in run.output


def test_users_of_this_run_it_lost_track_of_are_deleted_at_the_end(
    start_known_reference: ReferenceStarter,
) -> None:
    """An interruption between a creation's answer and its bookkeeping leaves a user no list
    holds; its username says it is this run's, so the end-of-run clean-up finds it."""
    reference = start_known_reference()
    registry = _registry(reference)
    tracked = registry.create()
    api = registry._api  # noqa: SLF001
    lost = api.post_json(
        api.env_url("users"),
        {"username": registry.next_username(), "email": "lost@example.com"},
    ).json()["id"]
    other_run = _registry(reference).create()
    assert registry.delete_untracked() == 1
    assert not _exists(registry, lost)
    assert _exists(registry, tracked.id)  # tracked users are delete_all's, not this method's
    assert _exists(registry, other_run.id)
