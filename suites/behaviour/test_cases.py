"""Behaviour cases: the password status model and its transitions, operation by operation.

Every `cases/*.yaml` file is loaded, checked against `cases/cases.schema.json` and run here;
adding an operation's cases is adding one file. Each case names the requirements it covers, and
their quotes (schemas/requirements.yaml) are its source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import allure
import pytest

from harness.behaviour_cases import CaseRunner, case_params, load_case_dir
from harness.client import ApiClient
from harness.passwords import PasswordBook
from harness.requirements import RequirementCatalog
from harness.schemas import SchemaStore
from harness.sources import Sources
from harness.users import UserFactory

CASES = load_case_dir(Path(__file__).parent / "cases")


@pytest.mark.parametrize("case", case_params(CASES))
def test_behaviour_case(
    case: dict[str, Any],
    api: ApiClient,
    user_factory: UserFactory,
    passwords: PasswordBook,
    schemas: SchemaStore,
    requirement_catalog: RequirementCatalog,
    sources: Sources,
) -> None:
    """The target answers each step of the case as its requirements state."""
    allure.dynamic.title(case["description"])
    quotes = [requirement_catalog.get(rid) for rid in case["requirements"]]
    allure.dynamic.description(
        "\n\n".join(f"**{r.id}** ({r.level.value}): {r.quote}\n\n{r.source}" for r in quotes)
    )
    CaseRunner(api, user_factory, passwords, schemas, sources=sources).run(case)
