"""Spreadsheet arithmetic in Python: ROUND, approximate comparison and addition, text of numbers.

The expected values are what LibreOffice and Excel give (checked in LibreOffice
7.4 for the comparisons and additions; the differential tests prove the rest).
"""

import math

import pytest

from jx.excel import approx_add, approx_equal, compare, excel_round, number_text, trim


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


@pytest.mark.parametrize("value", [float("inf"), -float("inf"), 1e27, -1e308, 1e15, 123456789012345678.0])
def test_rounding_never_raises(value):
    """Values without a fraction left (and non-finite ones) come back as they are."""
    assert excel_round(value, 2) == value


def test_rounding_nan_never_raises():
    assert math.isnan(excel_round(float("nan"), 2))


@pytest.mark.parametrize("a, b, equal", [
    (0.1 + 0.2, 0.3, True),                 # =0.1+0.2=0.3 is TRUE
    (0.10000000000000002, 0.1, True),       # =0.10000000000000002>0.1 is FALSE
    (0.1, 0.1000000000001, False),
    (0.0, 1e-300, False),                   # nothing is approximately 0 but 0
    (1e15, 1e15 + 0.125, True),
])
def test_comparisons_ignore_the_last_binary_digits(a, b, equal):
    assert approx_equal(a, b) is equal
    assert (compare(a, b) == 0) is equal


def test_additions_that_cancel_give_zero():
    assert approx_add(100.0000000000001, -100) == 0.0    # =100.0000000000001-100 is 0
    assert approx_add(6, -5.999999999999999) == 0.0
    assert approx_add(6, -5.99) == pytest.approx(0.01)
    assert approx_add(0.1, 0.2) == 0.1 + 0.2          # same signs: plain addition


@pytest.mark.parametrize("value, text", [
    (2.0, "2"), (2.5, "2.5"), (1 / 3, "0.333333333333333"), (1e20, "1E+20"), (123456789012.0, "123456789012"),
    (0.00001, "0.00001"), (-0.25, "-0.25"), (0.0, "0"),
])
def test_numbers_as_text(value, text):
    assert number_text(value) == text


def test_trim_is_the_worksheets():
    assert trim("  a   b  ") == "a b"
    assert trim("\ta\t") == "\ta\t"  # TRIM removes spaces only
