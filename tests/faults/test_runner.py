"""The fault runner starts its workers again when the machine, not the suites, refused a start,
and hands its workers the CPU priority it was given."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.faults import runner, worker


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


def test_a_runner_with_a_niceness_passes_it_to_its_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    commands: list[list[str]] = []

    def spawn(command: list[str]) -> None:
        commands.append(command)
        raise OSError(errno.EPERM, "not started")

    monkeypatch.setattr(runner, "_spawn", spawn)
    for niceness, expected in ((10, ["--niceness", "10"]), (0, [])):
        with runner.FaultRunner(tmp_path / str(niceness), jobs=1, niceness=niceness) as pool:
            with pytest.raises(OSError, match="not started"):
                pool.submit(runner.RunSpec()).result(timeout=30)
        tail = commands[-1][commands[-1].index("--timeout") + 2 :]
        assert tail == expected


def test_a_worker_lowers_its_priority_before_anything_else(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lowered: list[int] = []
    monkeypatch.setattr(worker.os, "nice", lowered.append)
    autogroup = tmp_path / "autogroup"
    autogroup.write_text("/autogroup-1 nice 0\n")
    monkeypatch.setattr(worker, "AUTOGROUP", autogroup)
    argv = ["--workdir", str(tmp_path), "--fault", "no-such-fault", "--niceness", "7"]
    assert worker.main(argv) == worker.NOT_APPLIED
    assert lowered == [7]
    assert autogroup.read_text() == "7"  # its session's share of the CPU too
