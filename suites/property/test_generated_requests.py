"""Generated requests, one test per password operation and media type, positive and negative.

schemathesis generates each operation's requests from `schemas/openapi.yaml` (examples,
coverage and fuzzing phases, both generation modes) and judges every answer with its built-in
checks and this API's (`harness.property_checks`): no server error, documented statuses and
bodies, the error envelope, no secret echoed, HAL self links, status consistent with the
operation, and schema-valid requests refused only for a documented state or policy reason.

Each test addresses a user of this run (a policy-conformant password set), so the generated
requests reach the operation instead of a 404; users that a generated Create User makes carry
the run's prefix and are deleted at once.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings

from harness.operations import OperationTable
from harness.property import View, media_type_views, project_settings
from harness.property_checks import USERS_PATH

VIEWS = media_type_views(project_settings(), OperationTable.load())


def _generated_test(view: View) -> Any:
    @pytest.mark.requirement("P1-PROP-001", "P1-ERR-001")
    @view.schema.parametrize()
    @settings(max_examples=view.examples(settings.default.max_examples))
    def test(case: Any, property_runner: Any, property_user: Any, target: Any) -> None:
        user = property_user
        case.path_parameters = {**(case.path_parameters or {}), "envID": target.env_id}
        if "userID" in case.path_parameters:
            case.path_parameters["userID"] = user.id
        if case.operation.path == USERS_PATH and isinstance(case.body, dict):
            property_runner.prefix_username(case)
        response = property_runner.send(case)
        property_runner.adopt_created(case, response)

    test.__name__ = f"test_{view.name.replace('-', '_')}"
    test.__doc__ = (
        f"{view.method} {view.path} [{view.media_type or 'no body'}]: every generated request "
        "is answered as the document and the API's documented rejections allow."
    )
    return test


for _view in VIEWS:
    _test = _generated_test(_view)
    globals()[_test.__name__] = _test

del _view, _test
