"""年度绩效指标完成情况: is one row's target met by its actual value?

Targets are written by people: ``10 次``, ``≥90%``, ``>95%``, ``2-3 小时``,
``10个左右``, ``有效保障``, ``及时``. The readings, in the rubric's data
(``[target_met]``): a plain number is a floor (actual ≥ target) except 0, which
is a ceiling; comparison signs and ranges mean what they say; a worded target
is met unless the actual value says it was not (未开展, 不及时, 未保障…).
"""

from __future__ import annotations

import functools
import numbers
import re

from .errors import JXInputError
from .inputs import _reject_blank_and_errors
from .rubric import Rubric, load_rubric

_NUM = r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?"
SIGNS = {"≥": ">=", ">=": ">=", "＞": ">", ">": ">", "≤": "<=", "<=": "<=", "＜": "<", "<": "<",
          "=": "==", "＝": "=="}
_SIGN_RE = "|".join(re.escape(s) for s in sorted(SIGNS, key=len, reverse=True))
_QUANTITY = re.compile(rf"^\s*(?P<sign>{_SIGN_RE})?\s*(?P<num>{_NUM})\s*(?P<pct>[%％])?\s*(?P<unit>.*?)\s*$")
_RANGE = re.compile(rf"^\s*(?P<lo>{_NUM})\s*(?P<pct1>[%％])?\s*[-–—~～至到]\s*(?P<hi>{_NUM})\s*(?P<pct2>[%％])?\s*(?P<unit>.*?)\s*$")


def _multiplier(unit: str, rubric: Rubric) -> float:
    for m in rubric.target_met["multipliers"]:
        if unit.startswith(m["suffix"]):
            return m["factor"]
    return 1.0


def _quantity(text: str, rubric: Rubric) -> tuple[str | None, float] | None:
    """(comparison or None, value) of a figure such as ``≥90%`` (0.9) or ``282.68 万``."""
    match = _QUANTITY.match(text)
    if not match:
        return None
    value = float(match["num"].replace(",", "")) * _multiplier(match["unit"], rubric)
    if match["pct"]:
        value /= 100
    return (SIGNS[match["sign"]] if match["sign"] else None), value


def _actual_number(actual: object, rubric: Rubric) -> float | None:
    """The actual value as a number (77% → 0.77), or None if it is words."""
    if isinstance(actual, numbers.Real) and not isinstance(actual, bool):
        return float(actual)
    if isinstance(actual, str):
        parsed = _quantity(actual, rubric)
        if parsed and parsed[0] is None:
            return parsed[1]
    return None


def _negated(actual: object, rubric: Rubric) -> bool:
    return isinstance(actual, str) and any(w in actual for w in rubric.target_met["negations"])


def _number_text(value: numbers.Real) -> str:
    """A number typed as a target, written out in full (1234567, not 1.23457e+06)."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _compare(op: str, actual: float, target: float) -> bool:
    return {">=": actual >= target, ">": actual > target, "<=": actual <= target,
            "<": actual < target, "==": actual == target}[op]


def target_met(target: object, actual: object, rubric: Rubric | None = None) -> bool:
    """TRUE when the actual value reaches the target, by the readings above."""
    rubric = rubric or load_rubric()
    try:
        return _target_met_cached(target, actual, rubric.id)
    except TypeError:  # an unhashable argument (a range): no caching
        return _target_met(target, actual, rubric)


@functools.lru_cache(maxsize=8192, typed=True)  # typed: TRUE must not hit the entry of 1
def _target_met_cached(target: object, actual: object, edition: str) -> bool:
    # The same few targets ("及时", "有效保障", "100%") fill most rows of every workbook.
    return _target_met(target, actual, load_rubric(edition))


def _target_met(target: object, actual: object, rubric: Rubric) -> bool:
    _reject_blank_and_errors(target, "预期指标值")
    _reject_blank_and_errors(actual, "实际完成值")
    if isinstance(target, bool) or isinstance(actual, bool):
        raise JXInputError("预期指标值和实际完成值不能是逻辑值")
    target_text = str(target).strip() if not isinstance(target, numbers.Real) else _number_text(target)
    for word in rubric.target_met["approximate"]:
        target_text = target_text.replace(word, "")

    ranged = _RANGE.match(target_text)
    quantity = None if ranged else _quantity(target_text, rubric)
    if ranged or quantity:
        if _negated(actual, rubric):
            return False
        number = _actual_number(actual, rubric)
        if number is None:
            raise JXInputError(f"实际完成值“{str(actual)[:20]}”无法与数值目标“{target_text}”比较")
        if ranged:
            lo, hi = float(ranged["lo"].replace(",", "")), float(ranged["hi"].replace(",", ""))
            if ranged["pct1"] or ranged["pct2"]:
                lo, hi = lo / 100, hi / 100
            return lo <= number <= hi
        op, goal = quantity
        if op is None:
            op = "<=" if goal == 0 else ">="
        return _compare(op, number, goal)

    # a worded target: met unless the actual says otherwise
    if _actual_number(actual, rubric) is not None and not isinstance(actual, str):
        raise JXInputError(f"文字目标“{target_text}”的实际完成值应为文字，不能是数字")
    return not _negated(actual, rubric)
