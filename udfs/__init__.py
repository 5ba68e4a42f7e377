"""The JX worksheet functions: one per rule of the 部门整体支出绩效评分表.

Excel calls these through xlwings (``=JX_EXEC_SCORE(q1,q2,q3,q4)``); Python
calls them as plain functions. Each one converts what Excel sends, calls the
pure rule in :mod:`jx.rules`, and returns the number: no thresholds here.
A bad input raises :class:`jx.JXInputError` (a ``ValueError``) whose message is
short Chinese naming the input; in a cell that message is what shows.
"""

from __future__ import annotations

from jx import rules
from jx.errors import JXInputError
from jx.targets import target_met

from ._excel import CATEGORY, OMITTED, arg, excel_errors, func, indicator_doc

__all__ = [
    "JXInputError",
    "JX_BUDGET_FIT_SCORE", "JX_BUDGET_NORM_SCORE", "JX_GOAL_COMPLETE_SCORE",
    "JX_GOAL_CLEAR_SCORE", "JX_PROCUREMENT_SCORE", "JX_COMPLIANCE_SCORE",
    "JX_DISCLOSURE_SCORE", "JX_PROJECT_PROCESS_SCORE", "JX_PROJECT_SUPERVISION_SCORE",
    "JX_ASSET_SAFETY_SCORE", "JX_ASSET_USE_SCORE", "JX_FUNDED_STAFF_SCORE",
    "JX_STAFF_RATIO", "JX_STAFF_SCORE", "JX_RULES_SCORE", "JX_PUBLIC_FUNDS_RATE",
    "JX_PUBLIC_FUNDS_SCORE", "JX_EXEC_RATE", "JX_QUARTER_SCORE", "JX_EXEC_AVERAGE",
    "JX_EXEC_SCORE", "JX_KEY_TASK_SCORE", "JX_TIMELY_SCORE", "JX_EFFECT_SCORE",
    "JX_PETITION_SCORE", "JX_SATISFACTION_SCORE", "JX_GRADE", "JX_TARGET_MET",
]

CHECK = "是/否、TRUE/FALSE、1/0 或 √/×"

# ------------------------------------------------------------------ 部门决策


@func(category=CATEGORY)
@arg("c1", f"预算编制、分配符合本部门职责和市委市政府要求（{CHECK}）")
@arg("c2", f"资金在不同项目、不同用途之间合理分配（{CHECK}）")
@arg("c3", f"专项资金预算编制细化程度合理（{CHECK}）")
@arg("c4", f"功能分类和经济分类编制准确，无大量、频繁调剂（{CHECK}）")
@arg("c5", f"预算分配不固化，能根据实际合理调整（{CHECK}）")
@excel_errors
@indicator_doc("budget_fit")
def JX_BUDGET_FIT_SCORE(c1, c2, c3, c4, c5):
    return rules.budget_fit(c1, c2, c3, c4, c5).points


@func(category=CATEGORY)
@arg("nonconformities", "发现的不符合项数（整数）")
@excel_errors
@indicator_doc("budget_norm")
def JX_BUDGET_NORM_SCORE(nonconformities):
    return rules.budget_norm(nonconformities).points


@func(category=CATEGORY)
@arg("missing", "未按要求编报或不符合要求的绩效目标数（整数）")
@excel_errors
@indicator_doc("goal_complete")
def JX_GOAL_COMPLETE_SCORE(missing):
    return rules.goal_complete(missing).points


@func(category=CATEGORY)
@arg("c1", f"绩效指标细化分解为具体工作任务，2 分（{CHECK}）")
@arg("c2", f"包含体现履职效果的效益指标，2 分（{CHECK}）")
@arg("c3", f"绩效指标具有清晰、可衡量的指标值，1 分（{CHECK}）")
@arg("c4", f"绩效指标包含可量化的指标，1 分（{CHECK}）")
@arg("c5", f"目标值测算有依据或符合客观实际，1 分（{CHECK}）")
@excel_errors
@indicator_doc("goal_clear")
def JX_GOAL_CLEAR_SCORE(c1, c2, c3, c4, c5):
    return rules.goal_clear(c1, c2, c3, c4, c5).points


# ------------------------------------------------------------------ 部门管理


@func(category=CATEGORY)
@arg("actual", "实际采购金额合计数（元）")
@arg("planned", "采购计划金额合计数（元）")
@arg("policy", f"政府采购政策功能落实得分，0–1 分（或{CHECK}）")
@excel_errors
@indicator_doc("procurement")
def JX_PROCUREMENT_SCORE(actual, planned, policy):
    return rules.procurement(actual, planned, policy).points


@func(category=CATEGORY)
@arg("spending_ok", f"资金支出规范性得分，0–1 分（或{CHECK}）")
@arg("adjusted", "本部门年中调整、调剂资金累计数（元，不含上级追加下达）")
@arg("budget_total", "部门预算总规模（元）")
@arg("accounting_ok", f"会计核算规范性得分，0–1 分（或{CHECK}）")
@arg("violation", f"可选：存在超范围、超标准、虚列、截留、挤占、挪用等违规支出（{CHECK}），默认否")
@excel_errors
@indicator_doc("compliance")
def JX_COMPLIANCE_SCORE(spending_ok, adjusted, budget_total, accounting_ok, violation=None):
    return rules.compliance(spending_ok, adjusted, budget_total, accounting_ok, violation).points


@func(category=CATEGORY)
@arg("budget_status", "部门预算公开情况：按规定公开 / 公开但不符合要求 / 未公开")
@arg("final_status", "部门决算公开情况：按规定公开 / 公开但不符合要求 / 未公开")
@arg("classified", f"可选：涉密单位按规定不需公开（{CHECK}），默认否")
@excel_errors
@indicator_doc("disclosure")
def JX_DISCLOSURE_SCORE(budget_status, final_status, classified=None):
    return rules.disclosure(budget_status, final_status, classified).points


@func(category=CATEGORY)
@arg("c1", f"项目的设立、调整按规定履行报批程序（{CHECK}）")
@arg("c2", f"项目招投标、建设、验收及方案实施严格执行制度（{CHECK}）")
@excel_errors
@indicator_doc("project_process")
def JX_PROJECT_PROCESS_SCORE(c1, c2):
    return rules.project_process(c1, c2).points


@func(category=CATEGORY)
@arg("c1", f"建立有效资金管理和绩效运行监控机制且执行良好（{CHECK}）")
@arg("c2", f"对主管财政资金开展有效检查、监控、督促整改（{CHECK}）")
@excel_errors
@indicator_doc("project_supervision")
def JX_PROJECT_SUPERVISION_SCORE(c1, c2):
    return rules.project_supervision(c1, c2).points


@func(category=CATEGORY)
@arg("c1", f"资产配置合理、保管完整，账实相符（{CHECK}）")
@arg("c2", f"资产处置规范，收入及时足额上缴（{CHECK}）")
@excel_errors
@indicator_doc("asset_safety")
def JX_ASSET_SAFETY_SCORE(c1, c2):
    return rules.asset_safety(c1, c2).points


@func(category=CATEGORY)
@arg("in_use", "实际在用固定资产总额（元）")
@arg("total", "所有固定资产总额（元）")
@excel_errors
@indicator_doc("asset_use")
def JX_ASSET_USE_SCORE(in_use, total):
    return rules.asset_use(in_use, total).points


@func(category=CATEGORY)
@arg("on_staff", "本年度在编人数（含工勤人员）")
@arg("authorized", "核定编制数（含工勤人员）")
@excel_errors
@indicator_doc("funded_staff")
def JX_FUNDED_STAFF_SCORE(on_staff, authorized):
    return rules.funded_staff(on_staff, authorized).points


def _named_value(caller, name: str):
    """The value of the calling workbook's defined name ``name``."""
    if caller is None:
        raise JXInputError(f"无法读取工作簿中的“{name}”，请在公式中直接填写参数")
    try:
        target = caller.sheet.book.names[name].refers_to_range
    except Exception:  # xlwings raises KeyError or a COM error for a missing name
        raise JXInputError(f"工作簿中没有名为“{name}”的单元格") from None
    return target.value


@func(category=CATEGORY, volatile=True)
@arg("outside", "可选：编外人数（劳务派遣及直接聘用的编外人员）；与在编人数都省略时读取工作簿的“编外人数”")
@arg("on_staff", "可选：在编人数；与编外人数都省略时读取工作簿的“在编人数”")
@excel_errors
def JX_STAFF_RATIO(outside=OMITTED, on_staff=OMITTED, caller=None):
    """编外人员控制率＝编外人数/(在编人数+编外人数)；不带参数时读取工作簿的“编外人数”“在编人数”"""
    if outside is OMITTED and on_staff is OMITTED:
        outside, on_staff = _named_value(caller, "编外人数"), _named_value(caller, "在编人数")
    elif outside is OMITTED or on_staff is OMITTED:
        raise JXInputError("JX_STAFF_RATIO 需同时填写编外人数和在编人数，或两者都不填")
    return rules.staff_ratio(outside, on_staff)


@func(category=CATEGORY)
@arg("ratio", "编外人员控制率（小数，如 23.53% 填 0.2353，通常为 JX_STAFF_RATIO 的结果）")
@excel_errors
@indicator_doc("staff")
def JX_STAFF_SCORE(ratio):
    return rules.staff(ratio).points


@func(category=CATEGORY)
@arg("defined", f"制定了财政资金管理、财务管理、内部控制等制度，0.5 分（{CHECK}）")
@arg("followed", f"上述制度得到有效执行，1.5 分（{CHECK}）")
@arg("performance", f"制定全面实施预算绩效管理的制度或工作方案，1 分（{CHECK}）")
@excel_errors
@indicator_doc("rules")
def JX_RULES_SCORE(defined, followed, performance):
    return rules.management_rules(defined, followed, performance).points


# ------------------------------------------------------------------ 部门绩效


@func(category=CATEGORY)
@arg("actual", "实际支出数（元）")
@arg("budget", "预算数（元）")
@excel_errors
def JX_PUBLIC_FUNDS_RATE(actual, budget):
    """经费控制率＝实际支出数/预算数（“三公”经费或日常公用经费）"""
    return rules.public_funds_rate(actual, budget)


@func(category=CATEGORY)
@arg("sangong_actual", "“三公”经费实际支出数（元）")
@arg("sangong_budget", "“三公”经费预算安排数（元）")
@arg("daily_actual", "日常公用经费决算数（元）")
@arg("daily_budget", "日常公用经费调整预算数（元）")
@excel_errors
@indicator_doc("public_funds")
def JX_PUBLIC_FUNDS_SCORE(sangong_actual, sangong_budget, daily_actual, daily_budget):
    return rules.public_funds(sangong_actual, sangong_budget, daily_actual, daily_budget).points


@func(category=CATEGORY)
@arg("spent", "季度末累计支出数（元）")
@arg("total", "预算总指标（元）")
@arg("frozen", "可选：冻结资金（元），默认 0；从分母中扣除")
@excel_errors
def JX_EXEC_RATE(spent, total, frozen=None):
    """季度预算执行率＝季度末累计支出/(预算总指标−冻结资金)"""
    return rules.exec_rate(spent, total, frozen)


@func(category=CATEGORY)
@arg("rate", "该季度执行率（小数，通常为 JX_EXEC_RATE 的结果）")
@arg("quarter", "季度：1、2、3 或 4")
@excel_errors
def JX_QUARTER_SCORE(rate, quarter):
    """季度预算执行率得分＝执行率/序时进度（25%、50%、75%、100%），最高 1 分"""
    return rules.quarter_score(rate, quarter)


@func(category=CATEGORY)
@arg("q1", "一季度执行率（小数）")
@arg("q2", "二季度执行率（小数）")
@arg("q3", "三季度执行率（小数）")
@arg("q4", "四季度执行率（小数）")
@excel_errors
def JX_EXEC_AVERAGE(q1, q2, q3, q4):
    """全年平均执行率＝四个季度得分（执行率/序时进度，最高 100%）的平均"""
    return rules.exec_average(q1, q2, q3, q4)


@func(category=CATEGORY)
@arg("q1", "一季度执行率（小数，通常为 JX_EXEC_RATE 的结果）")
@arg("q2", "二季度执行率（小数）")
@arg("q3", "三季度执行率（小数）")
@arg("q4", "四季度执行率（小数）")
@excel_errors
@indicator_doc("exec")
def JX_EXEC_SCORE(q1, q2, q3, q4):
    return rules.exec_score(q1, q2, q3, q4).points


@func(category=CATEGORY)
@arg("total", "重点工作总数")
@arg("unfinished", "未完成的重点工作数")
@excel_errors
@indicator_doc("key_task")
def JX_KEY_TASK_SCORE(total, unfinished):
    return rules.key_task(total, unfinished).points


@func(category=CATEGORY)
@arg("finished", "已完成项目数（支出进度达到 90% 的项目）")
@arg("planned", "计划完成项目总数")
@excel_errors
@indicator_doc("timely")
def JX_TIMELY_SCORE(finished, planned):
    return rules.timely(finished, planned).points


@func(category=CATEGORY)
@arg("score", "评价人对照绩效指标完成情况给出的效果性得分（0–25）")
@excel_errors
@indicator_doc("effect")
def JX_EFFECT_SCORE(score):
    return rules.effect(score).points


@func(category=CATEGORY)
@arg("c1", f"建立了便利的群众意见反映渠道和办理回复机制（{CHECK}）")
@arg("c2", f"当年度群众信访办理回复率达 100%（{CHECK}）")
@arg("c3", f"当年度群众信访及时办理回复率达 100%（{CHECK}）")
@excel_errors
@indicator_doc("petition")
def JX_PETITION_SCORE(c1, c2, c3):
    return rules.petition(c1, c2, c3).points


@func(category=CATEGORY)
@arg("rate", "满意度（小数，如 99% 填 0.99）")
@excel_errors
@indicator_doc("satisfaction")
def JX_SATISFACTION_SCORE(rate):
    return rules.satisfaction(rate).points


@func(category=CATEGORY)
@arg("total", "综合评分（0–100）")
@excel_errors
def JX_GRADE(total):
    """评分等级：90（含）以上优，80（含）–90 良，60（含）–80 中，60 以下差"""
    return rules.grade(total)


@func(category=CATEGORY)
@arg("target", "预期指标值，如 10 次、≥90%、>95%、2-3 小时、有效保障、及时")
@arg("actual", "实际完成值，如 7、77%、未保障、未开展")
@excel_errors
def JX_TARGET_MET(target, actual):
    """绩效指标是否达成：按预期指标值（数量、比较、区间或文字）判断实际完成值，返回 TRUE/FALSE"""
    return target_met(target, actual)


# The rule behind each score function, returning a jx.rules.Score with the
# reasons for any deduction: what the headless auditor calls.
SCORE_RULES = {
    "JX_BUDGET_FIT_SCORE": rules.budget_fit,
    "JX_BUDGET_NORM_SCORE": rules.budget_norm,
    "JX_GOAL_COMPLETE_SCORE": rules.goal_complete,
    "JX_GOAL_CLEAR_SCORE": rules.goal_clear,
    "JX_PROCUREMENT_SCORE": rules.procurement,
    "JX_COMPLIANCE_SCORE": rules.compliance,
    "JX_DISCLOSURE_SCORE": rules.disclosure,
    "JX_PROJECT_PROCESS_SCORE": rules.project_process,
    "JX_PROJECT_SUPERVISION_SCORE": rules.project_supervision,
    "JX_ASSET_SAFETY_SCORE": rules.asset_safety,
    "JX_ASSET_USE_SCORE": rules.asset_use,
    "JX_FUNDED_STAFF_SCORE": rules.funded_staff,
    "JX_STAFF_SCORE": rules.staff,
    "JX_RULES_SCORE": rules.management_rules,
    "JX_PUBLIC_FUNDS_SCORE": rules.public_funds,
    "JX_EXEC_SCORE": rules.exec_score,
    "JX_KEY_TASK_SCORE": rules.key_task,
    "JX_TIMELY_SCORE": rules.timely,
    "JX_EFFECT_SCORE": rules.effect,
    "JX_PETITION_SCORE": rules.petition,
    "JX_SATISFACTION_SCORE": rules.satisfaction,
}
