"""Property tests: scores stay in [0, max], never NaN, monotone where the rule is."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHENZHEN, shenzhen
from jx import load_rubric
from jx.errors import JXInputError

RUBRIC = load_rubric(SHENZHEN)
MAX = {ind.function: ind.max for ind in RUBRIC.indicators}


class _Shenzhen:
    def __getattr__(self, name):
        return shenzhen(name)


udfs = _Shenzhen()

rates = st.floats(min_value=0, max_value=1, allow_nan=False)
money = st.floats(min_value=0, max_value=1e10, allow_nan=False)
positive = st.floats(min_value=0.01, max_value=1e10, allow_nan=False)
counts = st.integers(min_value=0, max_value=1000)
checks = st.sampled_from(["是", "否", True, False, 1, 0, "√", "×", "TRUE", "FALSE"])
partial = st.one_of(st.floats(min_value=0, max_value=1), checks)
status = st.sampled_from(["按规定公开", "公开但不符合要求", "未公开"])

ARGS = {
    "JX_BUDGET_FIT_SCORE": st.tuples(*[checks] * 5),
    "JX_BUDGET_NORM_SCORE": st.tuples(counts),
    "JX_GOAL_COMPLETE_SCORE": st.tuples(counts),
    "JX_GOAL_CLEAR_SCORE": st.tuples(*[checks] * 5),
    "JX_PROCUREMENT_SCORE": st.tuples(money, money, partial),
    "JX_COMPLIANCE_SCORE": st.tuples(partial, money, positive, partial, checks),
    "JX_DISCLOSURE_SCORE": st.tuples(status, status, checks),
    "JX_PROJECT_PROCESS_SCORE": st.tuples(checks, checks),
    "JX_PROJECT_SUPERVISION_SCORE": st.tuples(checks, checks),
    "JX_ASSET_SAFETY_SCORE": st.tuples(checks, checks),
    "JX_ASSET_USE_SCORE": st.tuples(money, positive).map(lambda t: (min(t), max(t))),
    "JX_FUNDED_STAFF_SCORE": st.tuples(counts, counts.map(lambda n: n + 1)),
    "JX_STAFF_SCORE": st.tuples(rates),
    "JX_RULES_SCORE": st.tuples(checks, checks, checks),
    "JX_PUBLIC_FUNDS_SCORE": st.tuples(money, positive, money, positive),
    "JX_EXEC_SCORE": st.tuples(rates, rates, rates, rates).map(sorted).map(tuple),
    "JX_KEY_TASK_SCORE": st.tuples(counts, counts).map(lambda t: (max(t), min(t))),
    "JX_TIMELY_SCORE": st.tuples(counts, counts).map(lambda t: (min(t), max(t))),
    "JX_EFFECT_SCORE": st.tuples(st.floats(min_value=0, max_value=25)),
    "JX_PETITION_SCORE": st.tuples(checks, checks, checks),
    "JX_SATISFACTION_SCORE": st.tuples(rates),
}


def test_every_score_function_is_covered():
    assert set(ARGS) == set(MAX)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_scores_within_range_and_two_decimals(data):
    for name, strategy in ARGS.items():
        args = data.draw(strategy, label=name)
        score = getattr(udfs, name)(*args)
        assert not math.isnan(score)
        assert 0 <= score <= MAX[name], (name, args, score)
        assert round(score * 100) == score * 100 or abs(round(score * 100) - score * 100) < 1e-6


@settings(deadline=None)
@given(rates, rates)
def test_staff_score_falls_as_the_ratio_rises(a, b):
    lo, hi = sorted((a, b))
    assert udfs.JX_STAFF_SCORE(lo) >= udfs.JX_STAFF_SCORE(hi)


@settings(deadline=None)
@given(rates, rates)
def test_satisfaction_rises_with_the_rate(a, b):
    lo, hi = sorted((a, b))
    assert udfs.JX_SATISFACTION_SCORE(lo) <= udfs.JX_SATISFACTION_SCORE(hi)


@settings(deadline=None)
@given(money, money, positive)
def test_asset_use_rises_with_assets_in_use(a, b, extra):
    lo, hi = sorted((a, b))
    total = hi + extra
    assert udfs.JX_ASSET_USE_SCORE(lo, total) <= udfs.JX_ASSET_USE_SCORE(hi, total)


@settings(deadline=None)
@given(st.tuples(rates, rates, rates, rates).map(sorted), st.integers(0, 3), rates)
def test_exec_score_rises_with_any_quarter(quarters, which, other):
    # Rates are cumulative: raising one quarter raises every later one that fell below it.
    raised = list(quarters)
    raised[which] = max(quarters[which], other)
    raised[which:] = [max(q, raised[which]) for q in raised[which:]]
    assert udfs.JX_EXEC_SCORE(*quarters) <= udfs.JX_EXEC_SCORE(*raised)


@settings(deadline=None)
@given(money, money, positive, money, positive)
def test_public_funds_fall_as_spending_rises(a, b, budget, daily, daily_budget):
    lo, hi = sorted((a, b))
    assert (udfs.JX_PUBLIC_FUNDS_SCORE(lo, budget, daily, daily_budget)
            >= udfs.JX_PUBLIC_FUNDS_SCORE(hi, budget, daily, daily_budget))


@settings(deadline=None)
@given(money, money, positive)
def test_compliance_falls_as_adjustments_rise(a, b, total):
    lo, hi = sorted((a, b))
    assert udfs.JX_COMPLIANCE_SCORE(1, lo, total, 1) >= udfs.JX_COMPLIANCE_SCORE(1, hi, total, 1)


@settings(deadline=None)
@given(counts, counts, counts)
def test_timely_rises_with_finished_projects(a, b, extra):
    lo, hi = sorted((a, b))
    planned = hi + extra
    if planned:
        assert udfs.JX_TIMELY_SCORE(lo, planned) <= udfs.JX_TIMELY_SCORE(hi, planned)


@settings(deadline=None)
@given(counts, counts)
def test_deductions_fall_as_findings_rise(a, b):
    lo, hi = sorted((a, b))
    assert udfs.JX_BUDGET_NORM_SCORE(lo) >= udfs.JX_BUDGET_NORM_SCORE(hi)
    assert udfs.JX_GOAL_COMPLETE_SCORE(lo) >= udfs.JX_GOAL_COMPLETE_SCORE(hi)
    assert udfs.JX_KEY_TASK_SCORE(hi, lo) >= udfs.JX_KEY_TASK_SCORE(hi, hi)


bad_values = st.one_of(
    st.none(),
    st.just(""),
    st.text(min_size=1, max_size=8).filter(lambda s: s.strip().upper() not in set(RUBRIC.vocabulary.words)
                                           and s.strip() not in ("按规定公开", "公开但不符合要求", "未公开")),
    st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
    st.just(float("nan")),
)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(ARGS)), st.data(), bad_values)
def test_every_bad_input_raises_the_error_type_with_a_message(name, data, bad):
    args = list(data.draw(ARGS[name]))
    position = data.draw(st.integers(0, len(args) - 1))
    if name in ("JX_COMPLIANCE_SCORE", "JX_DISCLOSURE_SCORE") and position == len(args) - 1 and (bad is None or bad == ""):
        return  # the optional last argument: blank means left out
    if name in ("JX_DISCLOSURE_SCORE", "JX_COMPLIANCE_SCORE"):
        args[-1] = "否"  # an override that holds (classified unit, violation) ignores the parts: keep them in play
    args[position] = bad
    try:
        getattr(udfs, name)(*args)
    except JXInputError as error:
        assert str(error) and len(str(error)) < 80
    else:
        raise AssertionError(f"{name}{tuple(args)} accepted a bad input")
