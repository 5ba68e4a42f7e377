"""Excel's arithmetic where it differs from Python's: ROUND."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal


def excel_round(value: float, digits: int) -> float:
    """Round like Excel's worksheet ``ROUND``: half away from zero.

    Excel first reduces a double to 15 significant digits, so ``ROUND(2.675, 2)``
    is 2.68 and ``ROUND(1.005, 2)`` is 1.01, where Python's ``round`` gives 2.67
    and 1.0 (binary floats, and half to even).
    """
    if not math.isfinite(value):
        raise ValueError(f"cannot round {value!r}")
    decimal = Decimal(format(value, ".15g"))
    rounded = decimal.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    result = float(rounded)
    return 0.0 if result == 0 else result  # no -0.0 in a score
