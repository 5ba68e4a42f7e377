"""The reference report's inputs give the golden figures of rubric-notes.md, by the edition's data."""

from __future__ import annotations

import pytest

from addin.layout import arguments, evaluate, layout
from conftest import SHENZHEN, shenzhen
from jx.excel import excel_round
from jx.functions import explain
from jx.rubric import load_rubric

RUBRIC = load_rubric(SHENZHEN)
LAYOUT = layout(RUBRIC)
QUARTERS = ("一季度", "二季度", "三季度", "四季度")


def scores(values: dict) -> dict[str, float]:
    return {row.indicator: evaluate(row.call, values, LAYOUT) for row in LAYOUT.scores}


def test_every_indicator_has_a_golden_figure(golden):
    assert set(golden["scores"]) == {i.id for i in RUBRIC.indicators}


@pytest.mark.parametrize("indicator", [i.id for i in RUBRIC.indicators])
def test_indicator_score(indicator, golden, reference_inputs):
    assert scores(reference_inputs)[indicator] == golden["scores"][indicator]


def test_subtotals_total_and_grade(golden, reference_inputs):
    got = scores(reference_inputs)
    for level1, expected in golden["subtotals"].items():
        assert excel_round(sum(got[i.id] for i in RUBRIC.indicators if i.level1 == level1), 2) == expected
    total = excel_round(sum(got.values()), 2)
    assert total == golden["total"]
    assert shenzhen("JX_GRADE")(total) == golden["grade"]


def test_intermediate_rates(golden, reference_inputs):
    v = reference_inputs
    rates = {name: evaluate(name, v, LAYOUT) for name in LAYOUT.derived}
    rates["全年平均执行率"] = shenzhen("JX_EXEC_AVERAGE")(*[rates[f"{q}执行率"] for q in QUARTERS])
    rates["编外人员控制率"] = shenzhen("JX_STAFF_RATIO")(v["编外人数"], v["在编人数"])
    rates["政府采购执行率"] = v["实际采购金额"] / v["采购计划金额"]
    rates["三公经费控制率"] = shenzhen("JX_PUBLIC_FUNDS_RATE")(v["三公经费支出"], v["三公经费预算"])
    rates["日常公用经费控制率"] = shenzhen("JX_PUBLIC_FUNDS_RATE")(v["日常公用经费支出"], v["日常公用经费预算"])
    for name, expected in golden["rates"].items():
        assert excel_round(rates[name], 4) == expected, name


def test_exec_rounds_once_not_per_quarter(reference_inputs):
    """The report prints 0.59+0.79+0.78+0.94+1.55 = 4.65 but scores 4.64."""
    rates = [evaluate(f"{q}执行率", reference_inputs, LAYOUT) for q in QUARTERS]
    parts = [shenzhen("JX_QUARTER_SCORE")(r, i + 1) for i, r in enumerate(rates)]
    per_part = sum(excel_round(p, 2) for p in parts) + excel_round(2 * shenzhen("JX_EXEC_AVERAGE")(*rates), 2)
    assert excel_round(per_part, 2) == 4.65
    assert shenzhen("JX_EXEC_SCORE")(*rates) == 4.64


def _explained(indicator: str, values: dict):
    row = next(r for r in LAYOUT.scores if r.indicator == indicator)
    return explain(RUBRIC, indicator, arguments(row.call, values, LAYOUT))


def test_deduction_reasons_in_the_reports_style(reference_inputs):
    v = reference_inputs
    assert _explained("staff", v).notes == ("编外人员控制率 23.53%>10%，扣1分",)
    assert _explained("procurement", v).notes == ("政府采购执行率 89.47%，扣0.11分",)
    assert _explained("timely", v).deduction == 1.02
    assert _explained("timely", v).notes == ("项目完成率 34/41（82.93%），扣1.02分",)
    full = _explained("public_funds", v)
    assert full.notes == () and full.deduction == 0
    exec_notes = _explained("exec", v).notes
    assert exec_notes == ("季度执行率未达序时进度（一季度 14.67%/25%，二季度 39.44%/50%，三季度 58.30%/75%，"
                          "四季度 93.99%/100%），全年平均执行率 77.32%，扣1.36分",)


def test_the_score_cells_and_explain_agree(reference_inputs):
    """The Excel function of a score cell and the audit's explanation are one computation."""
    for row in LAYOUT.scores:
        assert _explained(row.indicator, reference_inputs).points == evaluate(row.call, reference_inputs, LAYOUT)
