"""Stateful runs: generated sequences of password operations, invariants after every step.

Each example is one scenario: Create User (a generated body, the run's username prefix), then a
drawn sequence of set, checks right and wrong, lockout, unlock, force change, self and admin
changes, recovery and recovery codes, each followed by Read Password State, then Delete User
and a Read that must no longer find the user. The sequence follows the OpenAPI links of
`schemas/openapi.yaml` (Create User's `id` feeds every later call). After every step the model
checks that Read reports the status the last operation implied, that `lastChangedAt` never moves
backwards, that a locked password never checks OK and that `failuresRemaining` never rises
without a success or unlock; every answer also passes this API's checks, among them that no
response contains a password sent in the run.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, reject, seed, settings
from hypothesis import strategies as st

from harness.operations import OperationTable
from harness.passwords import PasswordBook
from harness.property import RUN, media_type_views, project_settings, run_seed
from harness.property_checks import json_body
from harness.property_sequences import DRAWN_STEPS, Scenario, SequenceRunner

VIEWS = {view.name: view for view in media_type_views(project_settings(), OperationTable.load())}


@pytest.mark.requirement("P1-PROP-002", "P1-PROP-003", "P1-PROP-004", "P1-PROP-005", "P1-CHECK-006")
@seed(run_seed())
@settings(max_examples=RUN.scenarios)
@given(data=st.data())
def test_password_sequences_keep_the_model(
    data: st.DataObject,
    property_runner: Any,
    passwords: PasswordBook,
    target: Any,
) -> None:
    """Every generated sequence keeps the password model's invariants, step after step."""
    runner = SequenceRunner(property_runner, VIEWS, passwords, target.env_id)
    create_view = VIEWS["createUser"]
    operation = next(iter(create_view.schema.get_all_operations())).ok()
    case = data.draw(operation.as_strategy(path_parameters={"envID": target.env_id}))
    if not isinstance(case.body, dict):
        case.body = {}
    property_runner.prefix_username(case)
    case.body.pop("password", None)
    case.body.pop("population", None)
    # A user of an external identity provider has no password operation to sequence: every one
    # is refused (the behaviour suite covers those refusals), so the scenario would be wasted.
    case.body.pop("identityProvider", None)
    response = property_runner.send(case)
    created = json_body(response)
    if response.status_code == 400:
        reject()  # a documented refusal of this generated user (the checks passed): another
    assert response.status_code == 201, f"Create User answered {response.status_code}"
    assert isinstance(created, dict), "Create User answered 201 without a JSON user"
    user = property_runner.users.adopt(created["id"], case.body["username"])
    try:
        policy = property_runner.users.policy_of(user)
        scenario = Scenario(user_id=user.id, policy=policy)
        runner.read(data, scenario)
        length = settings().stateful_step_count
        steps = data.draw(
            st.lists(st.sampled_from(DRAWN_STEPS), min_size=length // 2, max_size=length)
        )
        for step in ["set", *steps]:
            runner.step(data, scenario, step)
    finally:
        property_runner.users.delete(user.id)
    gone = property_runner.api.password_operation(user.id, "read")
    assert gone.status_code == 404, f"Read after Delete User answered {gone.status_code}, not 404"
