import pytest

from jx.excel import excel_round


@pytest.mark.parametrize("value, digits, expected", [
    (2.675, 2, 2.68),        # Python's round gives 2.67 (binary float)
    (1.005, 2, 1.01),        # Python's round gives 1.0
    (0.125, 2, 0.13),        # half away from zero, not half to even (0.12)
    (2.5, 0, 3.0),
    (-2.5, 0, -3.0),         # away from zero on the negative side too
    (-1.005, 2, -1.01),
    (4.639259, 2, 4.64),
    (4.975609756097561, 2, 4.98),
    (0.0, 2, 0.0),
    (-0.001, 2, 0.0),        # no negative zero
    (96.505, 2, 96.51),
    (1234.5678, -2, 1200.0),
])
def test_excel_round(value, digits, expected):
    assert excel_round(value, digits) == expected


def test_python_round_differs_where_it_matters():
    assert round(2.675, 2) != excel_round(2.675, 2)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_is_refused(bad):
    with pytest.raises(ValueError):
        excel_round(bad, 2)
