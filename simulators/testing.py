"""Helpers for test suites that run real simulators (pytest is imported only when called)."""

from __future__ import annotations

from . import get_simulator

__all__ = ["simulator_param"]


def simulator_param(name: str):
    """``pytest.param(name)`` marked with the simulator's marker (ngspice, vacask, xyce), and
    skipped, with the install hint as the reason, where the simulator is not found."""
    import pytest  # noqa: PLC0415 - test-time only

    sim = get_simulator(name)
    marks = [getattr(pytest.mark, name.split("-")[0])]
    if not sim.is_available():
        marks.append(pytest.mark.skip(reason=f"{name} not found: {sim.hint}"))
    return pytest.param(name, marks=marks, id=name)
