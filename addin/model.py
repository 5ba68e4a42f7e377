"""The template's model: its named inputs and the JX formula behind every score.

One source for both faces of a score: the Excel formula written into the
template (``render``) and the canonical recomputation the auditor runs from
the inputs alone (``evaluate``). They cannot drift apart because both walk the
same :class:`Call` tree.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from jx.rubric import Rubric, load_rubric

QUARTERS = ("一季度", "二季度", "三季度", "四季度")


@dataclass(frozen=True)
class Field:
    """One named input cell on 基础数据."""

    name: str  # the defined name, e.g. 编外人数
    group: str
    kind: str  # check | partial | count | amount | rate | status | score | text
    unit: str
    help: str
    required: bool = True
    upper: float | None = None  # for partial and score kinds: the most it may hold


@dataclass(frozen=True)
class Call:
    """A JX function applied to named cells or to other calls."""

    function: str
    args: tuple["Call | str | int", ...]

    def render(self) -> str:
        return f"{self.function}({','.join(_render(a) for a in self.args)})"


def _render(arg: "Call | str | int") -> str:
    return arg.render() if isinstance(arg, Call) else str(arg)


def fields(rubric: Rubric | None = None) -> tuple[Field, ...]:
    """Every input of the rubric, in the order 基础数据 lists them."""
    return _fields((rubric or load_rubric()).id)


@functools.cache
def _fields(edition: str) -> tuple[Field, ...]:
    rubric = load_rubric(edition)

    def points(indicator_id: str, key: str) -> float:
        return rubric.indicator(indicator_id).params[key]

    def checks(indicator_id: str) -> list[Field]:
        ind = rubric.indicator(indicator_id)
        return [Field(c["input"], ind.name, "check", "是/否", f"{c['label']}（{c['points']:g} 分）")
                for c in ind.params["checks"]]

    out: list[Field] = [
        Field("部门名称", "基本信息", "text", "", "部门（单位）名称"),
        Field("预算年度", "基本信息", "count", "年", "被评价的预算年度"),
        Field("填报人", "基本信息", "text", "", "填表人", required=False),
        *checks("budget_fit"),
        Field("预算编制不符合项数", "预算编制规范性", "count", "项", "对照当年预算编制方案发现的不符合项数"),
        Field("绩效目标缺失项数", "绩效目标完整性", "count", "项", "未按要求编报或不符合要求的绩效目标数"),
        *checks("goal_clear"),
        Field("实际采购金额", "政府采购执行情况", "amount", "元", "实际采购金额合计数"),
        Field("采购计划金额", "政府采购执行情况", "amount", "元", "采购计划金额合计数（年度政府采购预算）"),
        Field("采购政策落实", "政府采购执行情况", "partial", "分", "政府采购政策功能执行落实得分（0–1，或是/否）",
              upper=points("procurement", "policy_points")),
        Field("支出规范得分", "财务合规性", "partial", "分", "资金支出规范性得分（0–1，或是/否）",
              upper=points("compliance", "spending_points")),
        Field("调整调剂资金", "财务合规性", "amount", "元", "本部门年中自行调整、调剂资金累计数（不含上级追加下达）"),
        Field("核算规范得分", "财务合规性", "partial", "分", "会计核算规范性得分（0–1，或是/否）",
              upper=points("compliance", "accounting_points")),
        Field("违规支出", "财务合规性", "check", "是/否", "发生超范围、超标准、虚列、截留、挤占、挪用等违规支出"),
        Field("预算公开情况", "预决算信息公开", "status", "", "部门预算公开情况"),
        Field("决算公开情况", "预决算信息公开", "status", "", "部门决算公开情况"),
        Field("涉密单位", "预决算信息公开", "check", "是/否", "涉密部门（单位）按规定不需公开预决算信息"),
        *checks("project_process"),
        *checks("project_supervision"),
        *checks("asset_safety"),
        Field("在用固定资产", "固定资产利用率", "amount", "元", "实际在用固定资产总额"),
        Field("固定资产总额", "固定资产利用率", "amount", "元", "所有固定资产总额"),
        Field("在编人数", "人员管理", "count", "人", "本年度在编人数（含工勤人员）"),
        Field("核定编制数", "人员管理", "count", "人", "核定编制数（含工勤人员）"),
        Field("编外人数", "人员管理", "count", "人", "本年度使用劳务派遣人员数量（含直接聘用的编外人员）"),
        *checks("rules"),
        Field("三公经费支出", "公用经费控制率", "amount", "元", "“三公”经费实际支出数"),
        Field("三公经费预算", "公用经费控制率", "amount", "元", "“三公”经费预算安排数"),
        Field("日常公用经费支出", "公用经费控制率", "amount", "元", "日常公用经费决算数"),
        Field("日常公用经费预算", "公用经费控制率", "amount", "元", "日常公用经费调整预算数"),
        Field("预算总指标", "预算执行率", "amount", "元", "部门预算总指标（即部门预算总规模）"),
        Field("冻结资金", "预算执行率", "amount", "元", "已冻结资金，从执行率分母中扣除（无则填 0）"),
        *[Field(f"{q}累计支出", "预算执行率", "amount", "元", f"{q}末累计支出数") for q in QUARTERS],
        Field("重点工作总数", "重点工作完成情况", "count", "项", "上级下达或交办的重点工作数"),
        Field("未完成重点工作数", "重点工作完成情况", "count", "项", "未按期保质保量完成的重点工作数"),
        Field("计划项目数", "项目完成及时性", "count", "个", "计划完成项目总数"),
        Field("已完成项目数", "项目完成及时性", "count", "个", "支出进度达到 90% 的项目数"),
        Field("效果性评分", "效果性", "score", "分", "评价人对照绩效指标完成情况给出的得分（0–25）",
              upper=rubric.indicator("effect").max),
        *checks("petition"),
        Field("满意度", "公众或服务对象满意度", "rate", "%", "公众或服务对象满意度（如 99%）",
              upper=points("satisfaction", "rate_max")),
    ]
    return tuple(out)


def _check_names(rubric: Rubric, indicator_id: str) -> tuple[str, ...]:
    return tuple(c["input"] for c in rubric.indicator(indicator_id).params["checks"])


def exec_rate_name(quarter: str) -> str:
    return f"{quarter}执行率"


@functools.cache
def _derived() -> dict[str, Call]:
    return {exec_rate_name(q): Call("JX_EXEC_RATE", (f"{q}累计支出", "预算总指标", "冻结资金"))
            for q in QUARTERS}


def derived(rubric: Rubric | None = None) -> dict[str, Call]:
    """Named formula cells between inputs and scores (the 预算执行 sheet)."""
    return dict(_derived())


def score_calls(rubric: Rubric | None = None) -> dict[str, Call]:
    """The formula behind each 三级指标's 分数, keyed by indicator id."""
    return dict(_score_calls((rubric or load_rubric()).id))


@functools.cache
def _score_calls(edition: str) -> dict[str, Call]:
    rubric = load_rubric(edition)
    return {
        "budget_fit": Call("JX_BUDGET_FIT_SCORE", _check_names(rubric, "budget_fit")),
        "budget_norm": Call("JX_BUDGET_NORM_SCORE", ("预算编制不符合项数",)),
        "goal_complete": Call("JX_GOAL_COMPLETE_SCORE", ("绩效目标缺失项数",)),
        "goal_clear": Call("JX_GOAL_CLEAR_SCORE", _check_names(rubric, "goal_clear")),
        "procurement": Call("JX_PROCUREMENT_SCORE", ("实际采购金额", "采购计划金额", "采购政策落实")),
        "compliance": Call("JX_COMPLIANCE_SCORE",
                           ("支出规范得分", "调整调剂资金", "预算总指标", "核算规范得分", "违规支出")),
        "disclosure": Call("JX_DISCLOSURE_SCORE", ("预算公开情况", "决算公开情况", "涉密单位")),
        "project_process": Call("JX_PROJECT_PROCESS_SCORE", _check_names(rubric, "project_process")),
        "project_supervision": Call("JX_PROJECT_SUPERVISION_SCORE", _check_names(rubric, "project_supervision")),
        "asset_safety": Call("JX_ASSET_SAFETY_SCORE", _check_names(rubric, "asset_safety")),
        "asset_use": Call("JX_ASSET_USE_SCORE", ("在用固定资产", "固定资产总额")),
        "funded_staff": Call("JX_FUNDED_STAFF_SCORE", ("在编人数", "核定编制数")),
        "staff": Call("JX_STAFF_SCORE", (Call("JX_STAFF_RATIO", ("编外人数", "在编人数")),)),
        "rules": Call("JX_RULES_SCORE", _check_names(rubric, "rules")),
        "public_funds": Call("JX_PUBLIC_FUNDS_SCORE",
                             ("三公经费支出", "三公经费预算", "日常公用经费支出", "日常公用经费预算")),
        "exec": Call("JX_EXEC_SCORE", tuple(exec_rate_name(q) for q in QUARTERS)),
        "key_task": Call("JX_KEY_TASK_SCORE", ("重点工作总数", "未完成重点工作数")),
        "timely": Call("JX_TIMELY_SCORE", ("已完成项目数", "计划项目数")),
        "effect": Call("JX_EFFECT_SCORE", ("效果性评分",)),
        "petition": Call("JX_PETITION_SCORE", _check_names(rubric, "petition")),
        "satisfaction": Call("JX_SATISFACTION_SCORE", ("满意度",)),
    }


def jx_functions() -> dict[str, object]:
    """Every JX worksheet function by name."""
    import udfs

    return {name: getattr(udfs, name) for name in udfs.__all__ if name.startswith("JX_")}


def evaluate_arg(arg: "Call | str | int", values: Mapping[str, object], functions: Mapping[str, object]):
    """One argument's value: a nested call, a derived cell, a named input or a literal."""
    if isinstance(arg, Call):
        return evaluate(arg, values, functions)
    if isinstance(arg, int):
        return arg
    links = _derived()
    if arg in links:
        return evaluate(links[arg], values, functions)
    return values.get(arg)


def evaluate(call: Call, values: Mapping[str, object], functions: Mapping[str, object] | None = None):
    """Compute ``call`` from input values with the JX functions (raises JXInputError)."""
    functions = functions if functions is not None else jx_functions()
    return functions[call.function](*[evaluate_arg(a, values, functions) for a in call.args])
