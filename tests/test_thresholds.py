"""Every threshold of the rubric, just below, at and just above (tests/cases/thresholds.toml)."""

from __future__ import annotations

import pytest

import udfs
from conftest import ROOT, load_toml

CASES = load_toml(ROOT / "tests" / "cases" / "thresholds.toml")["case"]


def _value(arg):
    if isinstance(arg, dict):
        return getattr(udfs, arg["call"])(*[_value(a) for a in arg["args"]])
    return arg


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_threshold(case):
    function = getattr(udfs, case["call"])
    args = [_value(a) for a in case["args"]]
    if case["expected"] == "error":
        with pytest.raises(udfs.JXInputError):
            function(*args)
    else:
        result = function(*args)
        if isinstance(case["expected"], str):
            assert result == case["expected"]
        else:
            assert result == pytest.approx(case["expected"], abs=1e-12)


def test_every_indicator_has_threshold_cases():
    """No indicator is left without named cases."""
    from jx import load_rubric

    rubric = load_rubric("shenzhen-2020")
    covered = {c["call"] for c in CASES}
    for ind in rubric.indicators:
        assert covered & set(ind.functions), f"{ind.name} has no threshold case"
