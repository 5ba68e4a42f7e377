"""The reference report's inputs give the golden figures of rubric-notes.md."""

from __future__ import annotations

import pytest

import udfs
from addin.model import derived, evaluate, score_calls
from jx import load_rubric, rules
from jx.excel import excel_round

RUBRIC = load_rubric("shenzhen-2020")


def test_every_indicator_has_a_golden_figure(golden):
    assert set(golden["scores"]) == {i.id for i in RUBRIC.indicators}


@pytest.mark.parametrize("indicator", [i.id for i in RUBRIC.indicators])
def test_indicator_score(indicator, golden, reference_inputs):
    call = score_calls(RUBRIC)[indicator]
    assert evaluate(call, reference_inputs) == golden["scores"][indicator]


def test_subtotals_total_and_grade(golden, reference_inputs):
    calls = score_calls(RUBRIC)
    scores = {i.id: evaluate(calls[i.id], reference_inputs) for i in RUBRIC.indicators}
    for level1, expected in golden["subtotals"].items():
        got = sum(scores[i.id] for i in RUBRIC.indicators if i.level1 == level1)
        assert excel_round(got, 2) == expected
    total = excel_round(sum(scores.values()), 2)
    assert total == golden["total"]
    assert udfs.JX_GRADE(total) == golden["grade"]


def test_intermediate_rates(golden, reference_inputs):
    v = reference_inputs
    links = derived(RUBRIC)
    rates = {name: evaluate(call, v) for name, call in links.items()}
    rates["全年平均执行率"] = udfs.JX_EXEC_AVERAGE(*[rates[f"{q}执行率"] for q in ("一季度", "二季度", "三季度", "四季度")])
    rates["编外人员控制率"] = udfs.JX_STAFF_RATIO(v["编外人数"], v["在编人数"])
    rates["政府采购执行率"] = v["实际采购金额"] / v["采购计划金额"]
    rates["三公经费控制率"] = udfs.JX_PUBLIC_FUNDS_RATE(v["三公经费支出"], v["三公经费预算"])
    rates["日常公用经费控制率"] = udfs.JX_PUBLIC_FUNDS_RATE(v["日常公用经费支出"], v["日常公用经费预算"])
    for name, expected in golden["rates"].items():
        assert excel_round(rates[name], 4) == expected, name


def test_exec_rounds_once_not_per_quarter(reference_inputs):
    """The report prints 0.59+0.79+0.78+0.94+1.55 = 4.65 but scores 4.64."""
    rates = [evaluate(c, reference_inputs) for c in derived(RUBRIC).values()]
    parts = [udfs.JX_QUARTER_SCORE(r, i + 1) for i, r in enumerate(rates)]
    per_part = sum(excel_round(p, 2) for p in parts) + excel_round(2 * udfs.JX_EXEC_AVERAGE(*rates), 2)
    assert excel_round(per_part, 2) == 4.65
    assert udfs.JX_EXEC_SCORE(*rates) == 4.64


def test_deduction_reasons_in_the_reports_style(reference_inputs):
    v = reference_inputs
    assert rules.staff(rules.staff_ratio(v["编外人数"], v["在编人数"])).notes == ("编外人员控制率 23.53%>10%，扣1分",)
    assert rules.procurement(v["实际采购金额"], v["采购计划金额"], 1).notes == ("政府采购执行率 89.47%，扣0.11分",)
    assert rules.timely(34, 41).deduction == 1.02
    full = rules.public_funds(v["三公经费支出"], v["三公经费预算"], v["日常公用经费支出"], v["日常公用经费预算"])
    assert full.notes == () and full.deduction == 0


def test_score_rules_agree_with_the_excel_functions(reference_inputs):
    """SCORE_RULES (what the auditor calls) and the UDFs are the same rule."""
    calls = score_calls(RUBRIC)
    rule_functions = {name: (lambda f: lambda *a: f(*a).points)(f) for name, f in udfs.SCORE_RULES.items()}
    functions = {name: getattr(udfs, name) for name in udfs.__all__ if name.startswith("JX_")}
    functions.update(rule_functions)
    for call in calls.values():
        assert evaluate(call, reference_inputs, functions) == evaluate(call, reference_inputs)
