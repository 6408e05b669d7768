"""Helpers for state faults: reach the reference's service objects and replace their methods.

The reference's endpoints look their services up on `request.app.state` on every request, and
`PasswordService` calls its own helpers through `self`, so a method replaced on the instance
takes effect everywhere that instance is used, and nowhere else (another app, the clean
reference, the class itself stay correct).

    def _forget_failures(app: Starlette) -> None:
        def count_check(original, matches):
            ...
        wrap_method(passwords_of(app), "_count_check", count_check)

A state fault may reach a private method (`_count_check`, `_store_password`): the catalog
pins the reference's internals on purpose. When the reference renames one, `wrap_method`
raises at once and the fault run reports that the fault could not be applied, rather than
the fault silently doing nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from reference.passwords import PasswordService
from reference.store import UserRecord


def passwords_of(app: Starlette) -> PasswordService:
    """The app's password service (one method per password operation)."""
    service = app.state.passwords
    if not isinstance(service, PasswordService):
        raise TypeError("app.state.passwords is not the reference's PasswordService")
    return service


def wrap_method(target: object, name: str, wrapper: Callable[..., Any]) -> None:
    """Replace `target.name` on this instance by `wrapper(original, *args, **kwargs)`."""
    original = getattr(target, name)  # AttributeError: the seam moved; the fault must say so
    if not callable(original):
        raise TypeError(f"{type(target).__name__}.{name} is not a method")

    def replacement(*args: Any, **kwargs: Any) -> Any:
        return wrapper(original, *args, **kwargs)

    setattr(target, name, replacement)


def copy_of(user: UserRecord, **changes: Any) -> UserRecord:
    """A detached copy of a user record (changes to it are never saved)."""
    return dataclasses.replace(user, **changes)
