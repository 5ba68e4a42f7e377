"""The Excel face: what xlwings' own generator makes of udfs, proved on Linux."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import udfs
from addin.xlwings_meta import udf_meta
from conftest import SHENZHEN
from jx import load_rubric
from jx.functions import functions

RUBRIC = load_rubric(SHENZHEN)
META = udf_meta(RUBRIC)
BY_NAME = {f.name: f for f in META.functions}

# The contract users and auditors see: names and argument orders.
SIGNATURES = {
    "JX_BUDGET_FIT_SCORE": "c1, c2, c3, c4, c5",
    "JX_BUDGET_NORM_SCORE": "nonconformities",
    "JX_GOAL_COMPLETE_SCORE": "missing",
    "JX_GOAL_CLEAR_SCORE": "c1, c2, c3, c4, c5",
    "JX_PROCUREMENT_SCORE": "actual, planned, policy",
    "JX_COMPLIANCE_SCORE": "spending_ok, adjusted, budget_total, accounting_ok, Optional violation",
    "JX_DISCLOSURE_SCORE": "budget_status, final_status, Optional classified",
    "JX_PROJECT_PROCESS_SCORE": "c1, c2",
    "JX_PROJECT_SUPERVISION_SCORE": "c1, c2",
    "JX_ASSET_SAFETY_SCORE": "c1, c2",
    "JX_ASSET_USE_SCORE": "in_use, total",
    "JX_FUNDED_STAFF_SCORE": "on_staff, authorized",
    "JX_STAFF_RATIO": "Optional outside, Optional on_staff",
    "JX_STAFF_SCORE": "ratio",
    "JX_RULES_SCORE": "defined, followed, performance",
    "JX_PUBLIC_FUNDS_RATE": "actual, budget",
    "JX_PUBLIC_FUNDS_SCORE": "sangong_actual, sangong_budget, daily_actual, daily_budget",
    "JX_EXEC_RATE": "spent, total, Optional frozen",
    "JX_QUARTER_SCORE": "rate, quarter",
    "JX_EXEC_AVERAGE": "q1, q2, q3, q4",
    "JX_EXEC_SCORE": "q1, q2, q3, q4",
    "JX_KEY_TASK_SCORE": "total, unfinished",
    "JX_TIMELY_SCORE": "finished, planned",
    "JX_EFFECT_SCORE": "score",
    "JX_PETITION_SCORE": "c1, c2, c3",
    "JX_SATISFACTION_SCORE": "rate",
    "JX_GRADE": "total",
    "JX_TARGET_MET": "target, actual",
}


def test_the_shenzhen_functions_keep_their_names():
    assert set(BY_NAME) == set(functions(RUBRIC)) == set(SIGNATURES)


def test_every_public_function_is_an_excel_function():
    every = {f.name for f in udf_meta().functions}
    assert every == {n for n in udfs.__all__ if n.startswith("JX_")} >= set(SIGNATURES)


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_vba_signature(name):
    assert f"Function {name}({SIGNATURES[name]})" in META.wrapper_source


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_wrapper_calls_xlpy_with_the_caller(name):
    body = META.wrapper_source.split(f"Function {name}(")[1].split("End Function")[0]
    assert f'{name} = XLPy.CallUDF("udfs", "{name}", Array(' in body
    assert "JxEdition())" in body  # the workbook's edition, hidden from Excel
    assert "ThisWorkbook, Application.Caller)" in body
    assert f"{name} = Err.Description" in body  # the cell shows the short message
    assert "Py.CallUDF" not in body.replace("XLPy.CallUDF", "")


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_chinese_description_and_argument_docs(name):
    meta = BY_NAME[name]
    assert meta.category == "JX 绩效自评"
    assert re.search(r"[\u4e00-\u9fff]", meta.description)
    assert len(meta.description) <= 255 and "\n" not in meta.description.strip()
    for arg, doc, _optional in meta.args:
        assert re.search(r"[\u4e00-\u9fff]", doc), (name, arg)
        assert not doc.startswith("Positional argument"), (name, arg)
        assert len(doc) <= 255


@pytest.mark.parametrize("ind", RUBRIC.indicators, ids=lambda i: i.id)
def test_description_states_indicator_rule_and_max(ind):
    description = BY_NAME[ind.function].description
    assert description.startswith(f"{ind.name}（满分{ind.max:g}分）：")
    assert ind.summary in description


def test_staff_ratio_takes_the_caller_and_recalculates():
    meta = BY_NAME["JX_STAFF_RATIO"]
    assert meta.volatile
    assert [a[0] for a in meta.args] == ["outside", "on_staff"]  # caller is hidden from Excel
    assert "Array(outside, on_staff, Nothing, JxEdition())" in META.wrapper_source
    assert "Application.Volatile" in META.wrapper_source.split("Function JX_STAFF_RATIO(")[1].split("End Function")[0]


def test_staff_ratio_without_arguments_reads_the_named_inputs():
    class Cell:
        def __init__(self, value):
            self.refers_to_range = type("R", (), {"value": value})()

    class Caller:  # what xlwings hands to a parameter named caller
        def __init__(self, names):
            self.sheet = type("S", (), {"book": type("B", (), {"names": names})()})()

    caller = Caller({"编外人数": Cell(4.0), "在编人数": Cell(13.0)})
    assert udfs.JX_STAFF_RATIO(caller=caller) == pytest.approx(4 / 17)
    with pytest.raises(udfs.JXInputError, match="工作簿中没有名为“编外人数”的单元格"):
        udfs.JX_STAFF_RATIO(caller=Caller({}))
    with pytest.raises(udfs.JXInputError, match="编外人数不能为空"):
        udfs.JX_STAFF_RATIO(caller=Caller({"编外人数": Cell(None), "在编人数": Cell(13.0)}))


def test_wrapper_generation_leaves_the_plain_module_plain():
    assert not hasattr(udfs.JX_EXEC_SCORE, "__xlfunc__")
    assert udfs.JX_EXEC_SCORE(0.25, 0.5, 0.75, 1) == 6


def test_import_udfs_stays_light():
    """Excel's first formula imports udfs: no pandas, openpyxl or xlwings pulled in."""
    code = "import sys, udfs; print(sorted(m for m in ('pandas','openpyxl','xlwings','numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
