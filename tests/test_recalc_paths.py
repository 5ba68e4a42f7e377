"""The two ways ``jx recalc`` computes a workbook give the same value in every formula cell.

The fast path evaluates the layout's own expression trees in Python
(:func:`jxtools.recalc.model_values`); the general path hands the workbook to
the independent ``formulas`` engine. Every generated workbook here, of both
editions, with good inputs, input errors of each kind, a blank template and
edited target texts, must agree cell by cell; and a workbook whose formulas
were edited must take the general path and say so.
"""

from __future__ import annotations

import math

import openpyxl
import pytest

from addin.template import Filled, build
from conftest import EDITIONS, FIXTURE, SHENZHEN, load_toml
from jx.rubric import load_rubric
from jxtools.audit import trusted
from jxtools.build import EXAMPLE, example_filled
from jxtools.recalc import ENGINE, MODEL, _general, can_use_model, model_values, recalculate


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b or (a in (None, "") and b in (None, ""))


def _variants():
    base = example_filled()
    fixture = load_toml(EDITIONS / f"{FIXTURE}.inputs.toml")["inputs"]
    targets = [dict(t) for t in base.targets]
    targets[0] = dict(targets[0], 预期指标值="不超过5次", 实际完成值="六次")
    targets[1] = dict(targets[1], 预期指标值="≥90%", 实际完成值=85)
    targets[2] = dict(targets[2], 预期指标值="有效保障", 实际完成值="无保障")
    return {
        "example": (SHENZHEN, base),
        "blank template": (SHENZHEN, None),
        "negative input": (SHENZHEN, Filled(dict(base.values, 编外人数=-1), base.tasks, base.targets)),
        "text for a number": (SHENZHEN, Filled(dict(base.values, 采购计划金额="一百五十万"), base.tasks, base.targets)),
        "blank input": (SHENZHEN, Filled({k: v for k, v in base.values.items() if k != "在编人数"}, base.tasks,
                                         base.targets)),
        "quarters falling": (SHENZHEN, Filled(dict(base.values, 四季度累计支出=1.0), base.tasks, base.targets)),
        "zero budget": (SHENZHEN, Filled(dict(base.values, 三公经费预算=0), base.tasks, base.targets)),
        "targets read and unjudged": (SHENZHEN, Filled(base.values, base.tasks, targets)),
        "fixture edition": (FIXTURE, Filled(fixture)),
        "fixture, blank": (FIXTURE, None),
    }


VARIANTS = _variants()


@pytest.mark.parametrize("name", list(VARIANTS))
def test_the_model_and_the_formula_engine_agree_in_every_cell(name, tmp_path):
    edition, filled = VARIANTS[name]
    path = build(tmp_path / "book.xlsm", filled, rubric=load_rubric(edition))
    data, report = trusted(path)
    assert can_use_model(data)
    fast = model_values(data)
    general = _general(data, report).values
    assert set(fast) == set(data.layout.formulas)  # a value for every formula cell of the layout
    differ = [(key, fast[key], general.get(key)) for key in fast if not _same(fast[key], general.get(key))]
    assert not differ, differ[:10]


def test_the_example_as_committed_agrees_too():
    data, report = trusted(EXAMPLE)
    fast, general = model_values(data), _general(data, report).values
    assert all(_same(v, general.get(k)) for k, v in fast.items())


def test_an_edited_formula_takes_the_general_engine_and_says_so(tmp_path):
    path = tmp_path / "edited.xlsm"
    wb = openpyxl.load_workbook(EXAMPLE, keep_vba=True)
    wb["评分表"]["G17"] = "=JX_STAFF_SCORE(JX_STAFF_RATIO(编外人数,在编人数))+0.5"
    wb.save(path)
    told = []
    result = recalculate(path, status=told.append)
    assert result.engine == ENGINE and told and "通用公式引擎" in told[0]
    assert result.named("分数_staff") == 0.5  # the edited formula, as Excel would compute it
    assert any("公式被改动" in d.text for d in result.data.deviations)


def test_a_formula_of_the_users_own_takes_the_general_engine(tmp_path):
    """A formula in an input cell (在编人数 = 10+3) is computed, not read from a stale cache."""
    path = tmp_path / "own.xlsm"
    wb = openpyxl.load_workbook(EXAMPLE, keep_vba=True)
    sheet, ref = wb.defined_names["在编人数"].attr_text.split("!")
    wb[sheet.strip("'")][ref.replace("$", "")] = "=10+3"
    wb.save(path)
    data, _report = trusted(path)
    assert not can_use_model(data)
    assert recalculate(path).engine == ENGINE


def test_the_template_itself_takes_the_model():
    assert recalculate(EXAMPLE).engine == MODEL
