"""The fault catalog: every module of this package that exports `FAULTS: tuple[Fault, ...]`.

Modules are found by name (sorted), so adding a fault area is adding a module here; nothing
else is edited. A module whose name starts with `_` is private (helpers) and not gathered.
Names are unique across the whole catalog; a duplicate fails at import, naming both modules.
See tests/faults/README.md for how to add a fault.
"""

from __future__ import annotations

import importlib
import pkgutil

from tests.faults.fault import Fault


def _gather() -> tuple[tuple[Fault, ...], dict[str, str], dict[str, str]]:
    faults: list[Fault] = []
    home: dict[str, str] = {}
    classes: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        exported = getattr(module, "FAULTS", None)
        if not isinstance(exported, tuple) or not all(isinstance(f, Fault) for f in exported):
            raise TypeError(f"{module.__name__} must export FAULTS: tuple[Fault, ...]")
        for fault in exported:
            if fault.name in home:
                raise ValueError(
                    f"fault {fault.name!r} is defined in {home[fault.name]} and {module.__name__}"
                )
            home[fault.name] = module.__name__
            classes[fault.name] = str(getattr(module, "CONFORMANCE_CLASS", DEFAULT_CLASS))
            faults.append(fault)
    return tuple(faults), home, classes


# A module's faults are defects of one conformance class (its module sets CONFORMANCE_CLASS;
# the default is behaviour): the full matrix (`make faults`) runs that class's suite under them.
DEFAULT_CLASS = "behaviour"
FAULTS, MODULE_OF, CLASS_OF = _gather()
"""Every fault, module by module in name order, each module's faults in its own order."""

BY_NAME: dict[str, Fault] = {fault.name: fault for fault in FAULTS}


def get(name: str) -> Fault:
    """The fault called `name`; KeyError lists how to find the known names."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no fault named {name!r} in tests/faults/catalog/") from None
