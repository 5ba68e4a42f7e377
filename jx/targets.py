"""年度绩效指标完成情况: is one row's target met by its actual value — or can it not be judged?

Targets are written by people: ``10 次``, ``≥90%``, ``>95%``, ``2-3 小时``,
``10个左右``, ``不超过5次``, ``100万元以内``, ``十次``, ``１，０００人次``,
``有效保障``, ``及时``. The readings, with every word in the edition's data
(``[target_met]``):

* digits and punctuation written full-width read as ASCII; a Chinese numeral
  that makes up the whole figure (``十次``, ``二十五个``, ``两场``) reads as
  its number;
* a plain number is a floor (actual ≥ target), except 0, which is a ceiling;
  comparison signs, the words for them (``不超过`` ≤, ``以内`` ≤, ``低于`` <,
  ``不少于`` ≥, ``超过`` >…) and ranges (``2-3 小时``) mean what they say;
* a worded target is met when the actual value is the target itself, or says
  nothing against it (no negation such as 未, 不, 无保障, 违规);
* what cannot be judged is said, never counted as met: a percentage target
  against a bare number above 1 (``85`` against ``≥90%``: 85% or 0.85?), a
  sign with no figure, an actual value that is no number against a figure.

The reading is one expression tree (:mod:`jx.expr`): Python evaluates it for
the add-in and the audit, and the Python-free copy computes the same steps
in helper cells on the target's row, so both faces read a target alike.
"""

from __future__ import annotations

from . import read
from .expr import (Check, DigitRun, Expr, Fail, Guard, If, InList, Lit, Op, Step, all_of, any_of, fn, lit, not_)
from .rubric import Rubric, load_rubric

# Comparison signs and what they mean.
SIGNS = {"≥": ">=", ">=": ">=", "＞": ">", ">": ">", "≤": "<=", "<=": "<=", "＜": "<", "<": "<", "=": "=", "＝": "="}
RANGE_SEPARATORS = "-–—~～至到"
PERCENT_SIGNS = "%％"
NUMBER_SIGNS = "+-"
DIGITS = "0123456789"
# Full-width forms read as ASCII (digits, comma, point).
FULL_WIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {"，": ",", "．": "."}
CHINESE_DIGITS = "〇一二三四五六七八九"
CHINESE_ALIASES = {"零": "〇", "两": "二"}
CHINESE_TEN = "十"
SPACES = (" ", "\u3000", "\t", "\n", "\r")
DIGITS_READ = DigitRun.span - 1  # the longest run of digits a reading step sees to its end
SENTINEL = "@"  # ends parsed text, so that MID never returns "" (FIND("",…) differs between applications)
REST = 999  # "the rest of the text" for MID
TARGET_LABEL, ACTUAL_LABEL = "预期指标值", "实际完成值"


def _in(char: Expr, chars: str) -> Expr:
    """TRUE when the one-character text ``char`` is one of ``chars``."""
    return fn("ISNUMBER", fn("FIND", char, chars))


def _substituted(x: Expr, pairs) -> Expr:
    for old, new in pairs:
        x = fn("SUBSTITUTE", x, fn("CHAR", ord(old)) if old in "\t\n\r" else old, new)
    return x


def _no_spaces(x: Expr) -> Expr:
    return _substituted(x, [(s, "") for s in SPACES])


def _ascii(x: Expr) -> Expr:
    """Full-width digits and punctuation as ASCII."""
    return _substituted(x, FULL_WIDTH.items())


def _chinese_figure(text: Expr, prefix: str, units: tuple[str, ...]) -> Expr:
    """``text`` (ending in the sentinel) with a leading Chinese numeral written in digits.

    十, 十五, 二十, 二十五 and digit runs such as 二〇二〇 — only when the numeral
    is the whole figure, followed by nothing or by one of the edition's units
    (``十次``, ``两场``), so ``一致`` and ``一次性完成`` stay words.
    """
    text = Step(f"{prefix}（数字写法统一）", _substituted(text, CHINESE_ALIASES.items()))
    c1, c2, c3 = (fn("MID", text, i, 1) for i in (1, 2, 3))
    digit = lambda c: _in(c, CHINESE_DIGITS)  # noqa: E731
    value = lambda c: fn("FIND", c, CHINESE_DIGITS) - 1  # noqa: E731
    run = DigitRun(text, Lit(1.0), CHINESE_DIGITS)
    length = Step(f"{prefix}中文数字长度",
                  If(c1.eq(CHINESE_TEN), If(digit(c2), Lit(2.0), Lit(1.0)),
                     If(all_of(digit(c1), c2.eq(CHINESE_TEN)), If(digit(c3), Lit(3.0), Lit(2.0)),
                        If(digit(c1), run, Lit(0.0)))))
    spelled = fn("LEFT", text, length)
    for i, ch in enumerate(CHINESE_DIGITS):
        spelled = fn("SUBSTITUTE", spelled, ch, str(i))
    figure = If(c1.eq(CHINESE_TEN), If(digit(c2), Lit("1").concat(value(c2)), Lit("10")),
                If(c2.eq(CHINESE_TEN), value(c1).concat(If(digit(c3), value(c3), Lit("0"))), spelled))
    rest = fn("MID", text, length + 1, REST)
    unit = fn("LEFT", rest, fn("LEN", rest) - len(SENTINEL))
    whole = all_of(length > 0, any_of(unit.eq(""), InList(unit, units)) if units else unit.eq(""))
    return Step(f"{prefix}（中文数字换算）", If(whole, figure.concat(rest), text))


def _number(text: Expr, prefix: str) -> tuple[Expr, Expr]:
    """Steps reading the number at the start of ``text``: its length (0: none) and its value ("" if none)."""
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


def _words(text: Expr, tm: dict) -> tuple[Expr, Expr]:
    """The target without its comparison words, and the sign they stand for ("" if none).

    A word before the figure (不超过) or after it (以内) becomes the sign; an
    explicit sign (≤) in the text wins over both.
    """
    suffix_sign: Expr = Lit("")
    stripped: Expr = text
    for w in reversed(tm.get("suffixes", [])):
        ends = fn("RIGHT", text, len(w["word"])).eq(w["word"])
        suffix_sign = If(ends, Lit(w["sign"]), suffix_sign)
        stripped = If(ends, fn("LEFT", text, fn("LEN", text) - len(w["word"])), stripped)
    stripped = Step("预期指标值（去掉后置比较词）", stripped)
    prefix_sign: Expr = Lit("")
    body: Expr = stripped
    for w in reversed(tm.get("prefixes", [])):
        starts = fn("LEFT", stripped, len(w["word"])).eq(w["word"])
        prefix_sign = If(starts, Lit(w["sign"]), prefix_sign)
        body = If(starts, fn("MID", stripped, len(w["word"]) + 1, REST), body)
    word_sign = Step("比较词", If(prefix_sign.eq(""), suffix_sign, prefix_sign))
    return Step("预期指标值（去掉比较词）", body), word_sign


def tree(rubric: Rubric, target: Expr, actual: Expr) -> Expr:
    """JX_TARGET_MET(target, actual) as a tree: TRUE, FALSE, or an input error saying why it cannot judge."""
    tm = rubric.target_met
    shown = fn("TRIM", target)
    for word in tm["approximate"]:
        shown = fn("SUBSTITUTE", shown, word, "")
    target_text = Step("预期指标值（去掉约数词）", shown)
    quoted = fn("LEFT", target_text, read.CLIP)  # how messages quote it
    cleaned = Step("预期指标值（统一写法）", _ascii(_no_spaces(target_text)))
    body_words, word_sign = _words(cleaned, tm)
    two = tuple(s for s in SIGNS if len(s) == 2)
    one = "".join(s for s in SIGNS if len(s) == 1)
    units = tuple(tm.get("units", ()))
    parsed = Step("预期指标值（解析用）", _chinese_figure(body_words.concat(SENTINEL), "预期指标值", units))
    written = Step("比较符", If(InList(fn("LEFT", parsed, 2), two), fn("LEFT", parsed, 2),
                               If(_in(fn("LEFT", parsed, 1), one), fn("LEFT", parsed, 1), Lit(""))))
    body = Step("比较符之后", fn("MID", parsed, fn("LEN", written) + 1, REST))
    sign = Step("比较方式", If(written.eq(""), word_sign, written))
    first_len, first = _number(body, "第一个数")
    first_pct = Step("第一个数带%", _in(fn("MID", body, first_len + 1, 1), PERCENT_SIGNS))
    after = Step("第一个数之后", fn("MID", body, first_len + 1 + first_pct, REST))
    upper_text = Step("区间上限文本", fn("MID", after, 2, REST).concat(SENTINEL))
    second_len, second = _number(upper_text, "第二个数")
    second_pct = Step("第二个数带%", _in(fn("MID", upper_text, second_len + 1, 1), PERCENT_SIGNS))
    kind = Step("目标类型", If(first_len.eq(0), Lit("文字"),
                             If(all_of(sign.eq(""), _in(fn("LEFT", after, 1), RANGE_SEPARATORS), second_len > 0),
                                Lit("区间"), Lit("数值"))))
    percent = Step("目标为百分比", any_of(first_pct, second_pct))
    per_cent = If(percent, Lit(100.0), Lit(1.0))  # a % on either bound applies to both
    low = Step("目标值或区间下限", If(kind.eq("区间"), first / per_cent,
                                     If(kind.eq("数值"), first * _multiplier(after, tm["multipliers"])
                                        / If(first_pct, Lit(100.0), Lit(1.0)), Lit(""))))
    high = Step("区间上限", If(kind.eq("区间"), second / per_cent, Lit("")))

    actual_text = Step("实际完成值（解析用）",
                       _chinese_figure(_ascii(_no_spaces(actual)).concat(SENTINEL), "实际完成值", units))
    actual_len, actual_number = _number(actual_text, "实际值数字")
    actual_pct = Step("实际值带%", _in(fn("MID", actual_text, actual_len + 1, 1), PERCENT_SIGNS))
    unit = fn("MID", actual_text, actual_len + 1 + actual_pct, REST)
    actual_value = Step("实际值", If(fn("ISNUMBER", actual), actual,
                                    If(actual_len.eq(0), Lit(""),
                                       actual_number * _multiplier(unit, tm["multipliers"])
                                       / If(actual_pct, Lit(100.0), Lit(1.0)))))
    # a bare number above 1 against a percentage target: 85 could be 85% or 8500%
    ambiguous = Step("实际值是否含糊", all_of(percent, not_(actual_pct), any_of(fn("ISNUMBER", actual), actual_len > 0),
                                              If(actual_value.eq(""), Lit(False), actual_value > 1)))
    negated = Step("实际值含否定词", any_of(*[fn("ISNUMBER", fn("FIND", n, actual)) for n in tm["negations"]]))
    same = Step("实际值与目标相同", fn("TRIM", actual).eq(fn("TRIM", target)))

    checks = (read.present(target, TARGET_LABEL, "target") + read.present(actual, ACTUAL_LABEL, "actual")
              + [Check(any_of(fn("ISLOGICAL", target), fn("ISLOGICAL", actual)),
                       read.message(f"{TARGET_LABEL}和{ACTUAL_LABEL}不能是逻辑值")),
                 # a run of more digits than a reading step looks at: say so rather than guess
                 Check(any_of(*[fn("ISERROR", x) for x in (kind, low, high, actual_value)]),
                       read.message(f"{TARGET_LABEL}或{ACTUAL_LABEL}中的数字过长（最多 {DIGITS_READ} 位），无法判定"))])
    worded = If(sign.ne(""),
                Fail(read.message(f"{TARGET_LABEL}“", quoted, "”只有比较符，没有数值"), "target"),
                If(fn("ISNUMBER", actual),
                   Fail(read.message("文字目标“", quoted, f"”的{ACTUAL_LABEL}应为文字，不能是数字"), "actual"),
                   If(same, Lit(True), not_(negated))))
    not_comparable = Fail(read.message(f"{ACTUAL_LABEL}“", fn("LEFT", actual, read.CLIP), "”无法与数值目标“",
                                       quoted, "”比较"), "actual")
    unclear = Fail(read.message(f"{ACTUAL_LABEL}“", fn("LEFT", actual, read.CLIP), "”与百分比目标“", quoted,
                                "”无法比较：请写成百分数（如 85%）或小数（如 0.85）"), "actual")
    compare: Expr = If(low.eq(0), actual_value <= low, actual_value >= low)  # a bare 0 is a ceiling
    groups: dict[str, list[str]] = {}
    for s, op in SIGNS.items():
        groups.setdefault(op, []).append(s)
    for op in reversed(list(groups)):
        compare = If(any_of(*[sign.eq(s) for s in groups[op]]), Op(op, actual_value, low), compare)
    numeric = If(same, Lit(True),
                 If(negated, Lit(False),
                    If(actual_value.eq(""), not_comparable,
                       If(ambiguous, unclear,
                          If(kind.eq("区间"), all_of(actual_value >= low, actual_value <= high), compare)))))
    return Guard(tuple(checks), If(kind.eq("文字"), worded, numeric))


def target_met(target: object, actual: object, rubric: Rubric | None = None) -> bool:
    """TRUE when the actual value reaches the target (raises JXInputError when it cannot be judged)."""
    from .functions import functions

    return functions(rubric or load_rubric())["JX_TARGET_MET"](target, actual)
