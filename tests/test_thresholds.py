"""Every threshold of every edition, just below, at and just above (tests/cases/*.toml).

Each file names its edition; each case a worksheet function, its arguments and
what the rule text says the result is (read off the text, not computed).
"""

from __future__ import annotations

import pytest

import udfs
from conftest import ROOT, load_toml
from jx.rubric import load_rubric

FILES = sorted((ROOT / "tests" / "cases").glob("*.toml"))
CASES = [(load_toml(f).get("edition", "shenzhen-2020"), case) for f in FILES for case in load_toml(f)["case"]]


def _value(arg, edition):
    if isinstance(arg, dict):
        return getattr(udfs, arg["call"])(*[_value(a, edition) for a in arg["args"]], edition=edition)
    return arg


@pytest.mark.parametrize("edition, case", CASES, ids=[f"{e}: {c['name']}" for e, c in CASES])
def test_threshold(edition, case):
    function = getattr(udfs, case["call"])
    args = [_value(a, edition) for a in case["args"]]
    if case["expected"] == "error":
        with pytest.raises(udfs.JXInputError):
            function(*args, edition=edition)
    else:
        result = function(*args, edition=edition)
        if isinstance(case["expected"], (str, bool)):
            assert result == case["expected"] and type(result) is type(case["expected"])
        else:
            assert result == pytest.approx(case["expected"], abs=1e-12)


@pytest.mark.parametrize("edition", sorted({e for e, _c in CASES}))
def test_every_indicator_has_threshold_cases(edition):
    """No indicator of an edition is left without named cases."""
    covered = {c["call"] for e, c in CASES if e == edition}
    for ind in load_rubric(edition).indicators:
        assert ind.function in covered, f"{ind.name} has no threshold case"
