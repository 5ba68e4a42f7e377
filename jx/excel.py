"""Spreadsheet arithmetic where it differs from Python's.

The rules are evaluated in Python and, in the Python-free copy, by the
spreadsheet itself. Both must give the same result, so the Python face
follows the spreadsheet's own arithmetic here:

* ``ROUND`` rounds half away from zero after reducing a double to 15
  significant digits (``ROUND(2.675, 2)`` is 2.68; Python's ``round`` gives
  2.67);
* comparisons treat two numbers that differ only in their last binary digits
  as equal, and an addition whose result is such a difference gives 0
  (LibreOffice's ``approxEqual``/``approxAdd``): a rate computed as
  0.10000000000000002 is *at* a 10% bound, as the rubric means it;
* a number becomes text the way a formula's ``&`` writes it (15 significant
  digits).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

# Relative tolerance of LibreOffice's rtl::math::approxEqual: 2**-48.
_APPROX = 2.0 ** -48
# Beyond this magnitude a double has no fractional digits left to round.
_NO_FRACTION = 1e15


def excel_round(value: float, digits: int) -> float:
    """Round like the worksheet ``ROUND``: half away from zero, never raises.

    The value is first reduced to 15 significant digits, so ``ROUND(1.005, 2)``
    is 1.01 where Python's ``round`` gives 1.0. Values too large to carry a
    fraction, and non-finite values, come back unchanged.
    """
    if not math.isfinite(value) or abs(value) >= _NO_FRACTION:
        return value
    decimal = Decimal(format(value, ".15g"))
    rounded = decimal.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    result = float(rounded)
    return 0.0 if result == 0 else result  # no -0.0 in a score


def approx_equal(a: float, b: float) -> bool:
    """Equal, or different only in the last binary digits (LibreOffice's approxEqual)."""
    if a == b:
        return True
    if a == 0.0 or b == 0.0 or not (math.isfinite(a) and math.isfinite(b)):
        return False
    d = abs(a - b)
    return d < abs(a) * _APPROX and d < abs(b) * _APPROX


def approx_add(a: float, b: float) -> float:
    """``a + b``, and 0 where opposite values cancel up to their last digits."""
    if ((a < 0 < b) or (b < 0 < a)) and approx_equal(a, -b):
        return 0.0
    return a + b


def compare(a: float, b: float) -> int:
    """-1, 0 or 1 as a spreadsheet compares two numbers."""
    if approx_equal(a, b):
        return 0
    return -1 if a < b else 1


def number_text(value: float) -> str:
    """A number as ``"x"&value`` writes it: 2, 2.5, 0.333333333333333, 1E+20."""
    if value == 0:
        return "0"
    text = format(value, ".15g")
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
        if sign == "-" and abs(value) >= 1e-5:  # written out, as the spreadsheet does
            return format(value, ".15f").rstrip("0").rstrip(".")
        return f"{mantissa}E{sign}{digits.zfill(2)}"
    return text


def trim(text: str) -> str:
    """The worksheet ``TRIM``: spaces removed at both ends, inner runs cut to one."""
    return " ".join(part for part in text.split(" ") if part)
