"""Reading one input value the way the rubric means it, or saying why not.

Values arrive from Excel (float, bool, str, None), from a formula engine or
from Python. Every problem raises :class:`JXInputError` with a short Chinese
message that names the input; nothing bad is ever read as 0.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

from .errors import JXInputError, message_in_cell
from .rubric import Rubric

EXCEL_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
CHECK_HINT = "是/否、TRUE/FALSE、1/0 或 √/×"


def _reject_blank_and_errors(value: object, name: str) -> None:
    carried = message_in_cell(value)
    if carried is not None:
        raise JXInputError(carried)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise JXInputError(f"{name}不能为空")
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
        raise JXInputError(f"{name}引用的单元格有错误（{value.strip()}）")


def number(value: object, name: str) -> float:
    """A finite number; text, logical values and blanks are errors."""
    _reject_blank_and_errors(value, name)
    if isinstance(value, bool):
        raise JXInputError(f"{name}应为数字，不能是逻辑值 {str(value).upper()}")
    if isinstance(value, numbers.Real):
        result = float(value)
        if not math.isfinite(result):
            raise JXInputError(f"{name}不是有效数字")
        return result
    if isinstance(value, str):
        raise JXInputError(f"{name}应为数字，不能是文本“{value.strip()[:20]}”")
    raise JXInputError(f"{name}应为数字")


def amount(value: object, name: str) -> float:
    """A number that cannot be negative: money, people, counts."""
    result = number(value, name)
    if result < 0:
        raise JXInputError(f"{name}不能为负数")
    return result


def count(value: object, name: str) -> int:
    """A whole, non-negative number of items."""
    result = amount(value, name)
    if result != int(result):
        raise JXInputError(f"{name}应为整数")
    return int(result)


def rate(value: object, name: str, upper: float | None = None) -> float:
    """A non-negative rate written as a decimal (93.99% is 0.9399)."""
    result = amount(value, name)
    if upper is not None and result > upper:
        raise JXInputError(f"{name}应在 0 到 {upper:.0%} 之间（以小数填写，如 93.99% 填 0.9399）")
    return result


def ratio(numerator: float, denominator: float, denominator_name: str) -> float:
    if denominator == 0:
        raise JXInputError(f"{denominator_name}为 0，无法计算比率")
    return numerator / denominator


def not_above(value: float, name: str, limit: float, limit_name: str) -> None:
    if value > limit:
        raise JXInputError(f"{name}不能大于{limit_name}")


def check(value: object, name: str, rubric: Rubric) -> bool:
    """A yes/no item: 是/否, TRUE/FALSE, 1/0, √/×."""
    _reject_blank_and_errors(value, name)
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real):
        if value == 1:
            return True
        if value == 0:
            return False
        raise JXInputError(f"{name}应填写{CHECK_HINT}，不能是 {value:g}")
    if isinstance(value, str):
        word = value.strip().upper()
        if word in rubric.yes_words:
            return True
        if word in rubric.no_words:
            return False
        raise JXInputError(f"{name}应填写{CHECK_HINT}，不能是“{value.strip()[:20]}”")
    raise JXInputError(f"{name}应填写{CHECK_HINT}")


def partial(value: object, name: str, points: float, rubric: Rubric) -> float:
    """An item scored 酌情: a yes/no (full or nothing) or points between 0 and ``points``."""
    _reject_blank_and_errors(value, name)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        result = number(value, name)
        if not 0 <= result <= points:
            raise JXInputError(f"{name}应在 0 到 {points:g} 分之间")
        return result
    return points if check(value, name, rubric) else 0.0


def choice(value: object, name: str, options: Iterable[str]) -> str:
    """One of a fixed list of words, such as the disclosure statuses."""
    _reject_blank_and_errors(value, name)
    options = list(options)
    if isinstance(value, str) and value.strip() in options:
        return value.strip()
    raise JXInputError(f"{name}应为以下之一：{'、'.join(options)}")


def optional(value: object) -> bool:
    """True when an optional argument was left out (or its cell is blank)."""
    return value is None or (isinstance(value, str) and not value.strip())
