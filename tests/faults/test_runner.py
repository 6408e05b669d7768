"""The fault runner starts its workers again when the machine, not the suites, refused a start."""

from __future__ import annotations

import errno
import subprocess
from typing import Any

import pytest

from tests.faults import runner


class _Popen:
    """Refuses the first `failures` starts with `code`, then hands back a marker."""

    def __init__(self, failures: int, code: int) -> None:
        self.failures, self.code, self.calls = failures, code, 0

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError(self.code, "refused")
        return "started"


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "SPAWN_BACKOFF_SECONDS", 0.0)


@pytest.mark.parametrize("code", sorted(runner.SPAWN_ERRNOS))
def test_a_passing_refusal_is_tried_again(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    popen = _Popen(failures=runner.SPAWN_ATTEMPTS - 1, code=code)
    monkeypatch.setattr(subprocess, "Popen", popen)
    assert runner._spawn(["worker"]) == "started"  # noqa: SLF001
    assert popen.calls == runner.SPAWN_ATTEMPTS


def test_a_refusal_that_persists_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    popen = _Popen(failures=runner.SPAWN_ATTEMPTS, code=errno.EFAULT)
    monkeypatch.setattr(subprocess, "Popen", popen)
    with pytest.raises(OSError, match="refused"):
        runner._spawn(["worker"])  # noqa: SLF001
    assert popen.calls == runner.SPAWN_ATTEMPTS


def test_any_other_error_is_raised_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    popen = _Popen(failures=1, code=errno.ENOENT)
    monkeypatch.setattr(subprocess, "Popen", popen)
    with pytest.raises(FileNotFoundError):
        runner._spawn(["worker"])  # noqa: SLF001
    assert popen.calls == 1
