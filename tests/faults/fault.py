"""The one fault type of the catalog, and the two ways to build one (wire and state).

A fault is a named, plausible defect applied to the reference from outside its code. It gets the
freshly created Starlette app (`reference.app.create_app`) and returns the ASGI app to serve:

- a **wire** fault wraps the app in an exchange rewriter (`tests.faults.rewriting.rewrite`): it
  changes request bodies before the reference reads them, or answers before the client sees
  them. Use it for shape and protocol defects (a missing field, a wrong status code).
- a **state** fault patches the app's own service objects (`app.state.passwords`,
  `app.state.store`, `app.state.users`, …; see reference/README.md, "Seams") and serves the
  app unwrapped. Use it for defects in the stateful model that no rewrite can express: a
  counter not incremented, a flag not stored, a timestamp not moved. Patches go on the
  instances of this one app (`tests.faults.seams.wrap_method`), never on classes or modules,
  so a fault never leaks into another reference in the same process.

A fault run starts its own reference in its own process (tests/faults/worker.py), so the clean
reference is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from starlette.applications import Starlette

from tests.faults.rewriting import ASGIApp

FaultKind = Literal["wire", "state"]
KINDS: tuple[FaultKind, ...] = ("wire", "state")
NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
REQUIREMENT_ID = re.compile(r"^P1-[A-Z0-9]+(-[A-Z0-9]+)*$")


@dataclass(frozen=True)
class Fault:
    """A named defect: how to apply it, and which requirements the suites must fail on.

    `catches` names requirement ids (schemas/requirements.yaml) each of which must have at least
    one failing suite test under the fault; `make test` checks exactly that, running only the
    suite tests that cover those requirements. `make faults` runs every test and compares
    everything the fault fails with tests/faults/golden.json.
    """

    name: str
    description: str
    catches: tuple[str, ...]
    kind: FaultKind
    apply: Callable[[Starlette], ASGIApp]
    # Requirements whose tests must also run in the catch check for the fault to show: a
    # run-wide check (the security suite's audit of every response) needs other tests' answers.
    catch_with: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise ValueError(f"fault name {self.name!r} is not lower-case-with-dashes")
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} is not one of {KINDS}")
        if not self.catches:
            raise ValueError(f"{self.name}: a fault names at least one requirement it trips")
        bad = [rid for rid in self.catches if not REQUIREMENT_ID.match(rid)]
        if bad:
            raise ValueError(f"{self.name}: {bad} are not requirement ids")
        if not self.description.strip():
            raise ValueError(f"{self.name}: say what the defect is")


def wire_fault(
    name: str,
    description: str,
    catches: tuple[str, ...],
    wrap: Callable[[ASGIApp], ASGIApp],
    catch_with: tuple[str, ...] = (),
) -> Fault:
    """A fault that rewrites exchanges: `wrap(app)` returns the ASGI app to serve."""
    return Fault(name, description, catches, "wire", wrap, catch_with)


def state_fault(
    name: str,
    description: str,
    catches: tuple[str, ...],
    patch: Callable[[Starlette], None],
) -> Fault:
    """A fault that changes the reference's state model: `patch(app)` alters `app.state`'s
    service objects in place; the app itself is served."""

    def apply(app: Starlette) -> ASGIApp:
        patch(app)
        return app

    return Fault(name, description, catches, "state", apply)
