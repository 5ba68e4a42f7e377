"""One reading of a cell value, for every command and for the Excel functions.

Values reach the rules from Excel through xlwings (float, str, bool, None,
datetime, an int error code for the newer errors, a list for a range), from a
formula engine, from a workbook reader or from Python. :func:`cell_value`
turns each into what a worksheet cell can hold: a finite ``float``, ``str``,
``bool``, ``None`` (empty) or an :class:`XlError`. What no cell can hold
(NaN, infinity, a date where the rules want a number, a range where one
value is due) becomes a :class:`Problem`, which the input readers turn into
a Chinese message naming the input; nothing is ever read as 0.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from dataclasses import dataclass

# ERROR.TYPE numbers 1..14, in order (Excel 2010 knows 1-8, Excel 365 all).
ERROR_NAMES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
               "#SPILL!", "#CONNECT!", "#BLOCKED!", "#UNKNOWN!", "#FIELD!", "#CALC!")
# The COM error codes (0x800A0000 + xlErr…) xlwings passes as int for errors it does not name.
_COM_BASE = -2146828288
_XL_ERR = (2000, 2007, 2015, 2023, 2029, 2036, 2042, 2043, 2045, 2046, 2047, 2048, 2049, 2050)
COM_ERROR_CODES = {_COM_BASE + code: name for code, name in zip(_XL_ERR, ERROR_NAMES)}
# LibreOffice writes its own errors as Err:5xx in some contexts.
_LIBREOFFICE_ERROR = "Err:"
# The smallest normal double: Excel and LibreOffice flush anything smaller to 0.
_TINY = 2.2250738585072014e-308


@dataclass(frozen=True)
class XlError:
    """A worksheet error value such as ``#N/A``."""

    text: str

    @property
    def code(self) -> int:
        """The ``ERROR.TYPE`` number (0 for an error the function does not know)."""
        return ERROR_NAMES.index(self.text) + 1 if self.text in ERROR_NAMES else 0

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Problem:
    """A value no cell can hold where one value is due; ``what`` completes “{input}…”."""

    what: str


def is_error_text(value: object) -> bool:
    return isinstance(value, str) and (value.strip().upper() in ERROR_NAMES
                                       or value.startswith(_LIBREOFFICE_ERROR))


def cell_value(value: object) -> object:
    """The worksheet value of ``value``: float, str, bool, None, XlError, or a Problem."""
    if value is None or isinstance(value, (XlError, Problem)):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value == "":
            return None
        if is_error_text(value):
            text = value.strip().upper()
            return XlError(text if text in ERROR_NAMES else "#VALUE!")
        return value
    if isinstance(value, (_dt.date, _dt.time, _dt.timedelta)):
        return Problem("应为数字，不能是日期或时间")
    if isinstance(value, numbers.Integral):
        if int(value) in COM_ERROR_CODES:
            return XlError(COM_ERROR_CODES[int(value)])
        value = float(value)
    if isinstance(value, numbers.Real):
        try:
            number = float(value)
        except (OverflowError, ValueError):
            return Problem("不是有效数字")
        if not math.isfinite(number):
            return Problem("不是有效数字")
        return 0.0 if abs(number) < _TINY else number
    if isinstance(value, (list, tuple)):
        flat = list(_flatten(value))
        if len(flat) == 1:
            return cell_value(flat[0])
        return Problem("应为单个单元格，不能是一个区域")
    item = getattr(value, "item", None)  # numpy scalars and 1-element arrays
    if callable(item):
        try:
            return cell_value(item())
        except (ValueError, TypeError):
            return Problem("应为单个单元格，不能是一个区域")
    if hasattr(value, "value"):  # a range-like object from a formula engine
        return cell_value(value.value)
    return Problem("不是单元格中可以填写的值")


def _flatten(value):
    for item in value:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item
