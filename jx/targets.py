"""年度绩效指标完成情况: is one row's target met by its actual value?

Targets are written by people: ``10 次``, ``≥90%``, ``>95%``, ``2-3 小时``,
``10个左右``, ``有效保障``, ``及时``. The readings, with the words in the
edition's data (``[target_met]``): a plain number is a floor (actual ≥ target)
except 0, which is a ceiling; comparison signs and ranges mean what they
say; a worded target is met unless the actual value says it was not (未开展,
不及时, 未保障…).

The reading is one expression tree (:mod:`jx.expr`): Python evaluates it for
the add-in and the audit, and the Python-free copy computes the same steps in
helper cells on the target's row (:class:`~jx.expr.Step`), so both faces read
a target the same way, character by character.
"""

from __future__ import annotations

from . import read
from .expr import Check, DigitRun, Expr, Fail, Guard, If, InList, Lit, Op, Step, all_of, any_of, fn, lit, not_
from .rubric import Rubric, load_rubric

# Comparison signs and what they mean.
SIGNS = {"≥": ">=", ">=": ">=", "＞": ">", ">": ">", "≤": "<=", "<=": "<=", "＜": "<", "<": "<", "=": "=", "＝": "="}
RANGE_SEPARATORS = "-–—~～至到"
PERCENT_SIGNS = "%％"
NUMBER_SIGNS = "+-"
DIGITS = "0123456789"
SPACES = (" ", "\u3000", "\t", "\n", "\r")
SENTINEL = "@"  # ends parsed text, so that MID never returns "" (FIND("",…) differs between applications)
REST = 999  # "the rest of the text" for MID
TARGET_LABEL, ACTUAL_LABEL = "预期指标值", "实际完成值"


def _in(char: Expr, chars: str) -> Expr:
    """TRUE when the one-character text ``char`` is one of ``chars``."""
    return fn("ISNUMBER", fn("FIND", char, chars))


def _no_spaces(x: Expr) -> Expr:
    for space in SPACES:
        x = fn("SUBSTITUTE", x, fn("CHAR", ord(space)) if space in "\t\n\r" else space, "")
    return x


def _number(text: Expr, prefix: str) -> tuple[Expr, Expr]:
    """Steps reading the number at the start of ``text``: its length (0: none) and its value ("" if none).

    A number is an optional sign, digits (with thousands commas) and an
    optional fraction.
    """
    sign = _in(fn("LEFT", text, 1), NUMBER_SIGNS)  # TRUE counts as 1 in arithmetic
    digit_after_sign = _in(fn("MID", text, Lit(1.0) + sign, 1), DIGITS)
    whole = Step(f"{prefix}整数部分长度", If(digit_after_sign, sign + DigitRun(text, Lit(1.0) + sign, DIGITS + ","),
                                             Lit(0.0)))
    fraction = If(all_of(fn("MID", text, whole + 1, 1).eq("."), _in(fn("MID", text, whole + 2, 1), DIGITS)),
                  DigitRun(text, whole + 2, DIGITS) + 1, Lit(0.0))
    length = Step(f"{prefix}长度", If(whole.eq(0), Lit(0.0), whole + fraction))
    value = Step(prefix, If(length.eq(0), Lit(""), fn("VALUE", fn("SUBSTITUTE", fn("LEFT", text, length), ",", ""))))
    return length, value


def _multiplier(unit: Expr, multipliers: list[dict]) -> Expr:
    """The factor of a written-out unit such as 万 at the start of ``unit``."""
    out: Expr = Lit(1.0)
    for m in reversed(multipliers):
        suffix = m["suffix"]
        out = If(fn("LEFT", unit, len(suffix)).eq(suffix), lit(float(m["factor"])), out)
    return out


def tree(rubric: Rubric, target: Expr, actual: Expr) -> Expr:
    """JX_TARGET_MET(target, actual) as a tree: TRUE, FALSE, or an input error."""
    tm = rubric.target_met
    shown = fn("TRIM", target)
    for word in tm["approximate"]:
        shown = fn("SUBSTITUTE", shown, word, "")
    target_text = Step("预期指标值（去掉约数词）", shown)
    parsed = Step("预期指标值（解析用）", _no_spaces(target_text).concat(SENTINEL))
    two = tuple(s for s in SIGNS if len(s) == 2)
    one = "".join(s for s in SIGNS if len(s) == 1)

    sign = Step("比较符", If(InList(fn("LEFT", parsed, 2), two), fn("LEFT", parsed, 2),
                            If(_in(fn("LEFT", parsed, 1), one), fn("LEFT", parsed, 1), Lit(""))))
    body = Step("比较符之后", fn("MID", parsed, fn("LEN", sign) + 1, REST))
    first_len, first = _number(body, "第一个数")
    first_pct = Step("第一个数带%", _in(fn("MID", body, first_len + 1, 1), PERCENT_SIGNS))
    after = Step("第一个数之后", fn("MID", body, first_len + 1 + first_pct, REST))
    upper_text = Step("区间上限文本", fn("MID", after, 2, REST).concat(SENTINEL))
    second_len, second = _number(upper_text, "第二个数")
    second_pct = Step("第二个数带%", _in(fn("MID", upper_text, second_len + 1, 1), PERCENT_SIGNS))
    kind = Step("目标类型", If(first_len.eq(0), Lit("文字"),
                             If(all_of(sign.eq(""), _in(fn("LEFT", after, 1), RANGE_SEPARATORS), second_len > 0),
                                Lit("区间"), Lit("数值"))))
    per_cent = If(any_of(first_pct, second_pct), Lit(100.0), Lit(1.0))  # a % on either bound applies to both
    low = Step("目标值或区间下限", If(kind.eq("区间"), first / per_cent,
                                     If(kind.eq("数值"), first * _multiplier(after, tm["multipliers"])
                                        / If(first_pct, Lit(100.0), Lit(1.0)), Lit(""))))
    high = Step("区间上限", If(kind.eq("区间"), second / per_cent, Lit("")))

    actual_text = Step("实际完成值（解析用）", _no_spaces(actual).concat(SENTINEL))
    actual_len, actual_number = _number(actual_text, "实际值数字")
    actual_pct = Step("实际值带%", _in(fn("MID", actual_text, actual_len + 1, 1), PERCENT_SIGNS))
    unit = fn("MID", actual_text, actual_len + 1 + actual_pct, REST)
    actual_value = Step("实际值", If(fn("ISNUMBER", actual), actual,
                                    If(actual_len.eq(0), Lit(""),
                                       actual_number * _multiplier(unit, tm["multipliers"])
                                       / If(actual_pct, Lit(100.0), Lit(1.0)))))
    negated = Step("实际值含否定词", any_of(*[fn("ISNUMBER", fn("FIND", n, actual)) for n in tm["negations"]]))

    checks = (read.present(target, TARGET_LABEL, "target") + read.present(actual, ACTUAL_LABEL, "actual")
              + [Check(any_of(fn("ISLOGICAL", target), fn("ISLOGICAL", actual)),
                       read.message(f"{TARGET_LABEL}和{ACTUAL_LABEL}不能是逻辑值"))])
    worded = If(fn("ISNUMBER", actual),
                Fail(read.message("文字目标“", target_text, f"”的{ACTUAL_LABEL}应为文字，不能是数字"), "actual"),
                not_(negated))
    not_comparable = Fail(read.message(f"{ACTUAL_LABEL}“", fn("LEFT", actual, read.CLIP), "”无法与数值目标“",
                                       target_text, "”比较"), "actual")
    compare: Expr = If(low.eq(0), actual_value <= low, actual_value >= low)  # a bare 0 is a ceiling
    groups: dict[str, list[str]] = {}
    for s, op in SIGNS.items():
        groups.setdefault(op, []).append(s)
    for op in reversed(list(groups)):
        compare = If(any_of(*[sign.eq(s) for s in groups[op]]), Op(op, actual_value, low), compare)
    numeric = If(negated, Lit(False), If(actual_value.eq(""), not_comparable,
                                         If(kind.eq("区间"), all_of(actual_value >= low, actual_value <= high), compare)))
    return Guard(tuple(checks), If(kind.eq("文字"), worded, numeric))


def target_met(target: object, actual: object, rubric: Rubric | None = None) -> bool:
    """TRUE when the actual value reaches the target, by the readings above (raises JXInputError)."""
    from .functions import functions

    return functions(rubric or load_rubric())["JX_TARGET_MET"](target, actual)
