"""Bad input gives one error type with a short Chinese message naming the input."""

from __future__ import annotations

import pytest

import udfs
from conftest import SHENZHEN, shenzhen
from jx.errors import CELL_PREFIX, JXInputError
from jx.functions import functions
from jx.rubric import load_rubric

GOOD = {
    "JX_BUDGET_FIT_SCORE": ["是"] * 5,
    "JX_BUDGET_NORM_SCORE": [0],
    "JX_GOAL_COMPLETE_SCORE": [0],
    "JX_GOAL_CLEAR_SCORE": ["是"] * 5,
    "JX_PROCUREMENT_SCORE": [90, 100, 1],
    "JX_COMPLIANCE_SCORE": [1, 0, 100, 1],
    "JX_DISCLOSURE_SCORE": ["按规定公开", "按规定公开"],
    "JX_PROJECT_PROCESS_SCORE": ["是", "是"],
    "JX_PROJECT_SUPERVISION_SCORE": ["是", "是"],
    "JX_ASSET_SAFETY_SCORE": ["是", "是"],
    "JX_ASSET_USE_SCORE": [90, 100],
    "JX_FUNDED_STAFF_SCORE": [13, 14],
    "JX_STAFF_RATIO": [4, 13],
    "JX_STAFF_SCORE": [0.2],
    "JX_RULES_SCORE": ["是", "是", "是"],
    "JX_PUBLIC_FUNDS_RATE": [80, 100],
    "JX_PUBLIC_FUNDS_SCORE": [80, 100, 80, 100],
    "JX_EXEC_RATE": [50, 200, 100],
    "JX_QUARTER_SCORE": [0.2, 1],
    "JX_EXEC_AVERAGE": [0.2, 0.4, 0.6, 0.9],
    "JX_EXEC_SCORE": [0.2, 0.4, 0.6, 0.9],
    "JX_KEY_TASK_SCORE": [2, 0],
    "JX_TIMELY_SCORE": [34, 41],
    "JX_EFFECT_SCORE": [25],
    "JX_PETITION_SCORE": ["是", "是", "是"],
    "JX_SATISFACTION_SCORE": [0.99],
    "JX_GRADE": [96.51],
    "JX_TARGET_MET": ["10 次", "7"],
}


def test_every_function_has_a_good_call():
    assert set(GOOD) == set(functions(load_rubric(SHENZHEN)))
    for name, args in GOOD.items():
        shenzhen(name)(*args)


# Optional arguments take a blank as "left out": frozen funds default to 0.
OPTIONAL = {("JX_EXEC_RATE", 2)}
BLANK_CASES = [(name, i) for name, args in GOOD.items() for i in range(len(args)) if (name, i) not in OPTIONAL]


@pytest.mark.parametrize("name, position", BLANK_CASES, ids=[f"{n}-arg{i + 1}" for n, i in BLANK_CASES])
@pytest.mark.parametrize("bad", [None, "", "  "], ids=["none", "empty", "spaces"])
def test_blank_required_input_is_an_error_not_zero(name, position, bad):
    args = list(GOOD[name])
    args[position] = bad
    with pytest.raises(JXInputError) as info:
        shenzhen(name)(*args)
    message = str(info.value)
    assert "不能为空" in message
    assert len(message) < 60 and "Traceback" not in message


NUMERIC = [(n, i) for n, args in GOOD.items() for i, a in enumerate(args)
           if isinstance(a, (int, float)) and not isinstance(a, bool) and n != "JX_TARGET_MET"]


@pytest.mark.parametrize("name, position", NUMERIC, ids=[f"{n}-arg{i + 1}" for n, i in NUMERIC])
def test_text_for_a_number(name, position):
    args = list(GOOD[name])
    args[position] = "十三"
    with pytest.raises(JXInputError) as info:
        shenzhen(name)(*args)
    assert "十三" in str(info.value) or "应填写" in str(info.value)


@pytest.mark.parametrize("name, position", NUMERIC, ids=[f"{n}-arg{i + 1}" for n, i in NUMERIC])
def test_negative_number(name, position):
    args = list(GOOD[name])
    args[position] = -1
    with pytest.raises(JXInputError):
        shenzhen(name)(*args)


class _Shenzhen:
    def __getattr__(self, name):
        return shenzhen(name)


sz = _Shenzhen()


@pytest.mark.parametrize("call, message", [
    (lambda: sz.JX_STAFF_RATIO(-1, 13), "编外人数不能为负数"),
    (lambda: sz.JX_STAFF_RATIO(0, 0), "在编人数与编外人数之和为 0，无法计算比率"),
    (lambda: sz.JX_STAFF_RATIO(4.5, 13), "编外人数应为整数"),
    (lambda: sz.JX_STAFF_RATIO(4), "JX_STAFF_RATIO 需同时填写编外人数和在编人数，或都不填"),
    (lambda: sz.JX_ASSET_USE_SCORE(1, -5), "固定资产总额不能为负数"),
    (lambda: sz.JX_ASSET_USE_SCORE(0, 0), "固定资产总额为 0，无法计算比率"),
    (lambda: sz.JX_ASSET_USE_SCORE(2, 1), "在用固定资产不能大于固定资产总额"),
    (lambda: sz.JX_FUNDED_STAFF_SCORE(13, 0), "核定编制数为 0，无法计算比率"),
    (lambda: sz.JX_PUBLIC_FUNDS_SCORE(1, 0, 1, 1), "三公经费预算为 0，无法计算比率"),
    (lambda: sz.JX_COMPLIANCE_SCORE(1, 0, 0, 1), "预算总指标为 0，无法计算比率"),
    (lambda: sz.JX_EXEC_RATE(1, 100, 100), "预算总指标减冻结资金为 0，无法计算比率"),
    (lambda: sz.JX_EXEC_RATE(1, 100, 101), "冻结资金不能大于预算总指标"),
    (lambda: sz.JX_EXEC_RATE(60, 100, 50), "累计支出数不能大于预算总指标减冻结资金"),
    (lambda: sz.JX_EXEC_SCORE(0.2, 0.4, 0.6, 93.99), "四季度执行率应在 0 到 100% 之间（以小数填写，如 93.99% 填 0.9399）"),
    (lambda: sz.JX_QUARTER_SCORE(0.2, 5), "季度应为 1 到 4"),
    (lambda: sz.JX_SATISFACTION_SCORE(99), "满意度应在 0 到 100% 之间（以小数填写，如 93.99% 填 0.9399）"),
    (lambda: sz.JX_SATISFACTION_SCORE(True), "满意度应为数字，不能是逻辑值 TRUE"),
    (lambda: sz.JX_SATISFACTION_SCORE("#DIV/0!"), "满意度引用的单元格有错误（#DIV/0!）"),
    (lambda: sz.JX_BUDGET_FIT_SCORE("是", "是", "也许", "是", "是"), "专项资金细化合理应填写是/否、TRUE/FALSE、1/0 或 √/×，不能是“也许”"),
    (lambda: sz.JX_DISCLOSURE_SCORE("公开", "按规定公开"), "预算公开情况应为以下之一：按规定公开、公开但不符合要求、未公开"),
    (lambda: sz.JX_EFFECT_SCORE(26), "效果性评分应在 0 到 25 分之间"),
    (lambda: sz.JX_BUDGET_NORM_SCORE(1.5), "预算编制不符合项数应为整数"),
    (lambda: sz.JX_TARGET_MET("10 次", "有效"), "实际完成值“有效”无法与数值目标“10 次”比较"),
    (lambda: sz.JX_GRADE(float("nan")), "综合评分不是有效数字"),
])
def test_message_names_the_input(call, message):
    with pytest.raises(JXInputError) as info:
        call()
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_error_in_an_upstream_cell_passes_its_message_on():
    """A cell showing 错误：… handed to the next JX function keeps the root cause."""
    with pytest.raises(JXInputError) as first:
        sz.JX_STAFF_RATIO(-1, 13)
    cell = first.value.cell_text
    assert cell == CELL_PREFIX + "编外人数不能为负数"
    with pytest.raises(JXInputError) as second:
        sz.JX_STAFF_SCORE(cell)
    assert str(second.value) == "编外人数不能为负数"
    with pytest.raises(JXInputError):
        sz.JX_GRADE(cell)


def test_excel_error_class_on_windows(monkeypatch):
    """Under Windows, errors reach Excel as COMException(description=cell text)."""
    import sys
    import types

    from udfs import _excel

    class COMException(Exception):  # pywin32's signature
        def __init__(self, description=None, scode=None, source=None, helpfile=None,
                     helpContext=None, desc=None, hresult=None):
            self.description, self.scode = description, scode
            super().__init__(scode, description, None, -1)

    fake = types.ModuleType("win32com.server.exception")
    fake.COMException = COMException
    monkeypatch.setitem(sys.modules, "win32com.server.exception", fake)
    monkeypatch.setattr(sys, "platform", "win32")
    error_class = _excel._windows_error_class()
    monkeypatch.setattr(_excel, "_EXCEL_ERROR", error_class)
    wrapped = _excel.excel_errors(lambda: sz.JX_STAFF_RATIO(-1, 13))
    with pytest.raises(JXInputError) as info:
        wrapped()
    assert isinstance(info.value, COMException) and isinstance(info.value, ValueError)
    assert info.value.description == "错误：编外人数不能为负数"
    assert info.value.scode == 0x80020009
    assert str(info.value) == "编外人数不能为负数"


def test_target_met_reads_large_numeric_targets_in_full():
    assert udfs.JX_TARGET_MET(1234567, 1234567) is True
    assert udfs.JX_TARGET_MET(1234567, 1234566) is False


def test_target_met_cache_does_not_confuse_true_with_one():
    assert udfs.JX_TARGET_MET(1, "1") is True
    with pytest.raises(JXInputError, match="不能是逻辑值"):
        udfs.JX_TARGET_MET(True, "1")
