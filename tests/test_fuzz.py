"""Ten thousand Excel-like calls per worksheet function, for every edition installed in the tests.

What Excel (through xlwings), a formula engine or a careless user can hand a
function: numbers across the whole float range (denormals, 1e308, -0.0,
NaN, infinity), numeric and other text, booleans, dates, error values as
text and as xlwings' integer COM codes, ranges (nested lists), blanks. Each
argument is drawn either from the values its input kind accepts (so that many
calls succeed and their results are checked) or from that hostile pool.

Every call must either return a result of the function's kind, or raise the
input error with a short Chinese message. A score is a finite number within
[0, max] with at most two decimals; a measure is finite; JX_GRADE is one of
the edition's grade words; JX_TARGET_MET is TRUE or FALSE. Nothing else:
no other exception, no NaN, no infinity.

Plain seeded ``random`` rather than hypothesis: 10,000 draws per function must
stay fast, and a failure prints the seed and the call to replay.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re

import pytest

import udfs
from conftest import FIXTURE, SHENZHEN
from jx.errors import JXInputError
from jx.functions import OMITTED, functions
from jx.rubric import load_rubric
from jx.values import COM_ERROR_CODES, ERROR_NAMES

CALLS = 10_000
EDITIONS = (SHENZHEN, FIXTURE)

FLOATS = (0.0, -0.0, 1.0, -1.0, 0.5, 1e-320, 5e-324, 2.2250738585072014e-308, 1e15, 1e16, 1e27, 1e308,
          1.7976931348623157e308, -1e308, math.inf, -math.inf, math.nan, 0.1 + 0.2, 0.049999999999999996,
          0.9999999999999999, 100.0, 1e-9, 2**53 + 1.0)
TEXTS = ("", " ", "　", "0", "1", "-1", "1e308", "1e400", "nan", "inf", "99%", "５", "１，０００", "是", "否",
         "√", "×", "TRUE", "FALSE", "有效", "十次", "≥", "≥90%", "=1+1", "'1", "\u0000", "\n", "是否", "x" * 300,
         "#N/A", "#DIV/0!", "#SPILL!", "#CALC!", "Err:502", "#REF!", "#VALUE!", "#GETTING_DATA")
OTHERS = (None, True, False, dt.datetime(2020, 12, 31), dt.date(2020, 1, 1), dt.time(12, 0), dt.timedelta(days=1),
          [[1.0, 2.0]], [[1.0]], [[None]], [], [["是"]], [[0.5], [0.6]], OMITTED, 0, 1, -5, 10**20,
          *COM_ERROR_CODES)


def _hostile(rng: random.Random):
    pool = rng.choice((FLOATS, TEXTS, OTHERS))
    value = rng.choice(pool)
    if value is math.nan or (isinstance(value, float) and rng.random() < 0.3):
        return rng.choice((value, rng.uniform(-1e6, 1e6), 10.0 ** rng.uniform(-330, 308)))
    return value


def _plausible(kind: str, slot, rubric, rng: random.Random):
    """A value an input of this kind accepts (mostly), around its boundaries."""
    vocab = rubric.vocabulary
    if kind == "check":
        return rng.choice((*vocab.yes, *vocab.no, True, False, 1.0, 0.0))
    if kind == "status":
        return rng.choice(slot.options) if slot.options else "是"
    if kind == "count":
        return float(rng.choice((0, 1, 2, 3, 5, 10, 100, rng.randint(0, 10**6))))
    if kind in ("rate", "partial", "score", "points"):
        upper = slot.upper if slot.upper is not None else 1.0
        return rng.choice((0.0, upper, upper / 2, rng.uniform(0, upper), rng.uniform(0, upper) * (1 + 1e-12)))
    if kind == "choice":
        return rng.choice(slot.options) if slot.options else 1.0
    # amounts and other numbers: across realistic budgets and the edges of the limit
    return rng.choice((0.0, 1.0, rng.uniform(0, 1e3), rng.uniform(0, 1e9), 10.0 ** rng.uniform(-3, 15), 1e15))


def _kinds(rubric, function) -> dict[str, object]:
    """The slot behind each argument of ``function`` (by argument name), where one is known."""
    slots = {}
    for ind in rubric.indicators:
        if ind.function == function.name or function.indicator == ind.id:
            for slot in ind.slots():
                if slot.arg:
                    slots.setdefault(slot.arg, slot)
    for measure in rubric.measure_functions:
        if measure.name == function.name:
            for slot in measure.measure.slots:
                if slot.arg:
                    slots.setdefault(slot.arg, slot)
    return slots


def _target_value(rng: random.Random):
    return rng.choice(("10 次", "≥90%", ">95%", "2-3 小时", "10个左右", "不超过5次", "100万元以内", "十次", "有效保障",
                       "及时", "0", 0.0, 85.0, "１，０００人次", "低于5%", "无违规", "", "≥"))


def _actual_value(rng: random.Random):
    return rng.choice(("9次", "10", "11", "85", 85.0, 0.85, "85%", "有效保障", "无保障", "不及时", "违规", "十二次",
                       "1,000人次", 1.0, 0.0, "", "4.99%", "是"))


def _draw(rubric, function, slots, rng: random.Random) -> list:
    if function.name == "JX_TARGET_MET":
        return [_target_value(rng) if rng.random() < 0.7 else _hostile(rng),
                _actual_value(rng) if rng.random() < 0.7 else _hostile(rng)]
    if function.name == "JX_GRADE":
        return [rng.choice((rng.uniform(0, 100), 59.99, 60.0, 79.99, 80.0, 89.99, 90.0, 100.0, 0.0)
                           if rng.random() < 0.7 else (_hostile(rng),))]
    args = []
    hostile = rng.random() < 0.5  # half the calls are all plausible: their results are checked
    for arg in function.args:
        slot = slots.get(arg.name)
        if hostile and rng.random() < 0.4:
            args.append(_hostile(rng))
        elif slot is not None:
            args.append(_plausible(slot.kind, slot, rubric, rng))
        else:
            args.append(rng.choice((0.0, 0.25, 0.5, 0.75, 1.0, 2.0, 4.0)))
    while args and args[-1] is OMITTED:
        args.pop()
    return args


def _check_result(rubric, function, result, maximum) -> None:
    if function.role == "target":
        assert result is True or result is False, result
    elif function.role == "grade":
        assert result in {b.label for b in rubric.grade.bands}, result
    else:
        assert isinstance(result, float), result
        assert math.isfinite(result), result
        if function.role == "score":
            assert 0 <= result <= maximum, result
            assert abs(result * 100 - round(result * 100)) < 1e-6, result


CASES = [(e, name) for e in EDITIONS for name in sorted(functions(load_rubric(e)))]


@pytest.mark.parametrize("edition, name", CASES, ids=[f"{e}:{n}" for e, n in CASES])
def test_ten_thousand_excel_like_calls(edition, name):
    rubric = load_rubric(edition)
    function = functions(rubric)[name]
    maximum = next((ind.max for ind in rubric.indicators if ind.function == name), None)
    slots = _kinds(rubric, function)
    seed = f"{edition}:{name}"
    rng = random.Random(seed)
    python = getattr(udfs, name)
    succeeded = 0
    for i in range(CALLS):
        args = _draw(rubric, function, slots, rng)
        try:
            result = python(*args, edition=edition)
        except JXInputError as error:
            text = str(error)
            assert text and len(text) <= 120, (seed, i, args, text)
            own = re.sub(r"“[^”]*”", "", text)  # the message's own words, not the input it quotes
            assert not any(w in own for w in ("Traceback", "Error", "nan", "inf", "None")), (seed, i, args, text)
            continue
        except Exception as error:  # noqa: BLE001 - the point of the test
            raise AssertionError(f"seed {seed!r}, call {i}: {name}{tuple(args)!r} raised {error!r}") from error
        try:
            _check_result(rubric, function, result, maximum)
        except AssertionError as error:
            raise AssertionError(f"seed {seed!r}, call {i}: {name}{tuple(args)!r} returned {result!r}") from error
        succeeded += 1
    assert succeeded >= CALLS // 50, f"only {succeeded} of {CALLS} calls succeeded: the draws test nothing"


def _outcome(call, args):
    try:
        return ("value", call(*args))
    except JXInputError as error:
        return ("error", error.message)


@pytest.mark.parametrize("edition, name", CASES, ids=[f"{e}:{n}" for e, n in CASES])
def test_values_kept_across_calls_change_no_result(edition, name):
    """A step's value is kept across evaluations (by the values it reads): each call must still give
    exactly what a tree compiled afresh for that one call gives, whatever came before it."""
    rubric = load_rubric(edition)
    function = functions(rubric)[name]
    slots = _kinds(rubric, function)
    rng = random.Random(f"memo:{edition}:{name}")
    shared = function.tree.compile()
    draws = [_draw(rubric, function, slots, rng) for _ in range(300)]
    for args in draws + draws[::-1]:  # every draw twice: the second time its steps come from the memo
        try:
            env = function.values(args)
        except JXInputError:
            continue
        kept, fresh = _outcome(shared, [dict(env)]), _outcome(function.tree.compile(), [dict(env)])
        assert kept == fresh, (name, args)  # locals only: a tree's repr is exponential in its sharing
