"""The rules of the 部门整体支出绩效评分表, one function per 三级指标.

Pure Python: no Excel, no I/O. Every threshold, point value and schedule is
read from the rubric's data (``jx/rubrics/*.toml``); this module holds only the
shape of each rule. Each indicator is computed unrounded and rounded once, like
Excel's ``ROUND`` (rubric-notes reading 1). Each function returns a
:class:`Score` whose ``notes`` give the reason for every deduction, in the
report's own style (``编外人员控制率 23.53%>10%，扣1分``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import inputs
from .errors import JXInputError
from .excel import excel_round
from .rubric import Band, Indicator, Rubric, load_rubric


@dataclass(frozen=True)
class Score:
    indicator: str
    points: float
    max: float
    notes: tuple[str, ...] = ()

    @property
    def deduction(self) -> float:
        return excel_round(self.max - self.points, 2)


def pct(value: float) -> str:
    """A rate as the report prints it: 23.53%."""
    return f"{excel_round(value * 100, 2):.2f}%"


def pts(value: float) -> str:
    return f"{excel_round(value, 2):g}"


def _ind(rubric: Rubric | None, indicator_id: str) -> tuple[Rubric, Indicator]:
    rubric = rubric or load_rubric()
    return rubric, rubric.indicator(indicator_id)


def _score(rubric: Rubric, ind: Indicator, raw: float, notes: list[str]) -> Score:
    points = excel_round(raw, rubric.decimals)
    if not 0 <= points <= ind.max:  # a rule bug, never an input problem
        raise AssertionError(f"{ind.name} scored {points} outside 0..{ind.max}")
    return Score(ind.id, points, ind.max, tuple(notes))


def band_for(value: float, bands: Sequence[Band]) -> Band:
    for band in bands:
        if band.contains(value):
            return band
    raise AssertionError(f"no band holds {value}")  # the data test rules this out


# ------------------------------------------------------------------ rule shapes


def _checks(indicator_id: str, values: Sequence[object], rubric: Rubric | None) -> Score:
    """Yes/no items, each worth its own points."""
    rubric, ind = _ind(rubric, indicator_id)
    checks = ind.params["checks"]
    if len(values) != len(checks):
        raise JXInputError(f"{ind.name}应有 {len(checks)} 项检查，收到 {len(values)} 项")
    raw, notes = 0.0, []
    for item, value in zip(checks, values):
        if inputs.check(value, item["input"], rubric):
            raw += item["points"]
        else:
            notes.append(f"未满足“{item['label']}”，扣{pts(item['points'])}分")
    return _score(rubric, ind, raw, notes)


def _deduction(indicator_id: str, value: object, rubric: Rubric | None) -> Score:
    """Full marks less a fixed deduction per item found, never below 0."""
    rubric, ind = _ind(rubric, indicator_id)
    p = ind.params
    n = inputs.count(value, p["count_input"])
    raw = max(ind.max - n * p["per_item"], 0.0)
    notes = [f"{p['count_label']} {n} 项，扣{pts(ind.max - raw)}分"] if n else []
    return _score(rubric, ind, raw, notes)


def _banded(indicator_id: str, value: float, rubric: Rubric) -> Score:
    """The band that holds the rate decides the points."""
    ind = rubric.indicator(indicator_id)
    band = band_for(value, ind.bands())
    notes = []
    if band.points < ind.max:
        notes.append(f"{ind.params['rate_label']} {band.condition(pct(value), _pct_bound)}，"
                     f"扣{pts(ind.max - band.points)}分")
    return _score(rubric, ind, band.points, notes)


def _pct_bound(value: float) -> str:
    return f"{value * 100:g}%"


# ------------------------------------------------------------------ 部门决策


def budget_fit(*checks: object, rubric: Rubric | None = None) -> Score:
    """预算编制合理性: five checks."""
    return _checks("budget_fit", checks, rubric)


def budget_norm(nonconformities: object, rubric: Rubric | None = None) -> Score:
    """预算编制规范性: 5, minus 1 per non-conformity, floor 0."""
    return _deduction("budget_norm", nonconformities, rubric)


def goal_complete(missing: object, rubric: Rubric | None = None) -> Score:
    """绩效目标完整性: 3, minus 1 per missing target, floor 0."""
    return _deduction("goal_complete", missing, rubric)


def goal_clear(*checks: object, rubric: Rubric | None = None) -> Score:
    """绩效指标明确性: five weighted checks."""
    return _checks("goal_clear", checks, rubric)


# ------------------------------------------------------------------ 部门管理


def procurement(actual: object, planned: object, policy: object,
                rubric: Rubric | None = None) -> Score:
    """政府采购执行情况: execution rate × points (0 above plan) + policy part."""
    rubric, ind = _ind(rubric, "procurement")
    p = ind.params
    actual_v = inputs.amount(actual, "实际采购金额")
    planned_v = inputs.amount(planned, "采购计划金额")
    policy_v = inputs.partial(policy, "政府采购政策功能落实", p["policy_points"], rubric)
    notes = []
    if planned_v == 0:
        # rubric-notes reading 4: nothing planned and nothing bought is full marks
        rate_part = p["none_planned_none_spent_points"] if actual_v == 0 else 0.0
        if actual_v > 0:
            notes.append(f"无采购计划却有实际采购，执行率部分扣{pts(p['rate_points'])}分")
    elif actual_v > planned_v:
        rate_part = 0.0
        notes.append(f"实际采购金额大于采购计划金额，执行率部分扣{pts(p['rate_points'])}分")
    else:
        rate = actual_v / planned_v
        rate_part = rate * p["rate_points"]
        if rate < 1:
            notes.append(f"政府采购执行率 {pct(rate)}，扣{pts(p['rate_points'] - rate_part)}分")
    if policy_v < p["policy_points"]:
        notes.append(f"政府采购政策功能落实不到位，扣{pts(p['policy_points'] - policy_v)}分")
    return _score(rubric, ind, rate_part + policy_v, notes)


def adjustment_points(adjusted: float, budget_total: float, ind: Indicator) -> float:
    """资金调整、调剂规范性: full within the limit, pro-rata deduction above it."""
    p = ind.params
    share = inputs.ratio(adjusted, budget_total, "部门预算总规模")
    if share <= p["adjustment_limit"]:
        return p["adjustment_points"]
    over_steps = (share - p["adjustment_limit"]) / p["adjustment_step"]
    return max(p["adjustment_points"] - over_steps * p["adjustment_step_deduction"], 0.0)


def compliance(spending_ok: object, adjusted: object, budget_total: object,
               accounting_ok: object, violation: object = None,
               rubric: Rubric | None = None) -> Score:
    """财务合规性: spending + adjustment + accounting; any violation → 0."""
    rubric, ind = _ind(rubric, "compliance")
    p = ind.params
    spending = inputs.partial(spending_ok, "资金支出规范性", p["spending_points"], rubric)
    adjusted_v = inputs.amount(adjusted, "年中调整调剂资金")
    total_v = inputs.amount(budget_total, "部门预算总规模")
    accounting = inputs.partial(accounting_ok, "会计核算规范性", p["accounting_points"], rubric)
    adjustment = adjustment_points(adjusted_v, total_v, ind)
    violated = not inputs.optional(violation) and inputs.check(violation, "存在违规支出", rubric)
    if violated:
        return _score(rubric, ind, 0.0, ["存在超范围、超标准、虚列、截留、挤占或挪用等违规支出，本项指标得0分"])
    notes = []
    if spending < p["spending_points"]:
        notes.append(f"资金支出规范性扣{pts(p['spending_points'] - spending)}分")
    if adjustment < p["adjustment_points"]:
        share = adjusted_v / total_v
        notes.append(f"调整、调剂资金占预算总规模 {pct(share)}>{_pct_bound(p['adjustment_limit'])}，"
                     f"扣{pts(p['adjustment_points'] - adjustment)}分")
    if accounting < p["accounting_points"]:
        notes.append(f"会计核算规范性扣{pts(p['accounting_points'] - accounting)}分")
    return _score(rubric, ind, spending + adjustment + accounting, notes)


def disclosure(budget_status: object, final_status: object, classified: object = None,
               rubric: Rubric | None = None) -> Score:
    """预决算信息公开: budget and final-accounts disclosure by status; classified → full."""
    rubric, ind = _ind(rubric, "disclosure")
    if not inputs.optional(classified) and inputs.check(classified, "涉密单位", rubric):
        return _score(rubric, ind, ind.max, [])
    points = {s["status"]: s["points"] for s in ind.params["statuses"]}
    full = max(points.values())
    raw, notes = 0.0, []
    for label, value in (("部门预算公开", budget_status), ("部门决算公开", final_status)):
        status = inputs.choice(value, label, points)
        raw += points[status]
        if points[status] < full:
            notes.append(f"{label}：{status}，扣{pts(full - points[status])}分")
    return _score(rubric, ind, raw, notes)


def project_process(c1: object, c2: object, rubric: Rubric | None = None) -> Score:
    """项目实施程序: two checks."""
    return _checks("project_process", [c1, c2], rubric)


def project_supervision(c1: object, c2: object, rubric: Rubric | None = None) -> Score:
    """项目监管: two checks."""
    return _checks("project_supervision", [c1, c2], rubric)


def asset_safety(c1: object, c2: object, rubric: Rubric | None = None) -> Score:
    """资产管理安全性: two checks."""
    return _checks("asset_safety", [c1, c2], rubric)


def asset_use_rate(in_use: object, total: object) -> float:
    """固定资产利用率 = 在用 / 全部固定资产."""
    in_use_v = inputs.amount(in_use, "在用固定资产总额")
    total_v = inputs.amount(total, "固定资产总额")
    rate = inputs.ratio(in_use_v, total_v, "固定资产总额")
    inputs.not_above(in_use_v, "在用固定资产总额", total_v, "固定资产总额")
    return rate


def asset_use(in_use: object, total: object, rubric: Rubric | None = None) -> Score:
    """固定资产利用率: banded on in-use / total."""
    return _banded("asset_use", asset_use_rate(in_use, total), rubric or load_rubric())


def funded_staff_rate(on_staff: object, authorized: object) -> float:
    """财政供养人员控制率 = 在编人数 / 核定编制数."""
    on_staff_v = inputs.count(on_staff, "在编人数")
    authorized_v = inputs.count(authorized, "核定编制数")
    return inputs.ratio(on_staff_v, authorized_v, "核定编制数")


def funded_staff(on_staff: object, authorized: object, rubric: Rubric | None = None) -> Score:
    """财政供养人员控制率: banded on 在编 / 核定编制."""
    return _banded("funded_staff", funded_staff_rate(on_staff, authorized), rubric or load_rubric())


def staff_ratio(outside: object, on_staff: object) -> float:
    """编外人员控制率 = 编外 / (在编 + 编外)."""
    outside_v = inputs.count(outside, "编外人数")
    on_staff_v = inputs.count(on_staff, "在编人数")
    return inputs.ratio(outside_v, outside_v + on_staff_v, "在编人数与编外人数之和")


def staff(ratio: object, rubric: Rubric | None = None) -> Score:
    """编外人员控制率: banded."""
    rubric, ind = _ind(rubric, "staff")
    return _banded("staff", inputs.rate(ratio, ind.params["rate_label"], ind.params["rate_max"]), rubric)


def management_rules(defined: object, followed: object, performance: object,
                     rubric: Rubric | None = None) -> Score:
    """管理制度健全性: three weighted checks."""
    return _checks("rules", [defined, followed, performance], rubric)


# ------------------------------------------------------------------ 部门绩效


def public_funds_rate(actual: object, budget: object, label: str = "公用经费") -> float:
    """A control rate: actual spending / budget."""
    actual_v = inputs.amount(actual, f"{label}实际支出数")
    budget_v = inputs.amount(budget, f"{label}预算数")
    return inputs.ratio(actual_v, budget_v, f"{label}预算数")


def public_funds(sangong_actual: object, sangong_budget: object, daily_actual: object,
                 daily_budget: object, rubric: Rubric | None = None) -> Score:
    """公用经费控制率: 三公 rate and 日常公用 rate, each banded."""
    rubric, ind = _ind(rubric, "public_funds")
    bands = ind.bands()
    rates = (public_funds_rate(sangong_actual, sangong_budget, "“三公”经费"),
             public_funds_rate(daily_actual, daily_budget, "日常公用经费"))
    part_max = max(b.points for b in bands)
    raw, notes = 0.0, []
    for label, rate in zip(ind.params["parts"], rates):
        band = band_for(rate, bands)
        raw += band.points
        if band.points < part_max:
            notes.append(f"{label} {band.condition(pct(rate), _pct_bound)}，扣{pts(part_max - band.points)}分")
    return _score(rubric, ind, raw, notes)


def exec_rate(spent: object, total: object, frozen: object = None) -> float:
    """季度预算执行率 = 季度末累计支出 / (预算总指标 − 冻结资金)."""
    spent_v = inputs.amount(spent, "累计支出数")
    total_v = inputs.amount(total, "预算总指标")
    frozen_v = 0.0 if inputs.optional(frozen) else inputs.amount(frozen, "冻结资金")
    inputs.not_above(frozen_v, "冻结资金", total_v, "预算总指标")
    available = total_v - frozen_v
    rate = inputs.ratio(spent_v, available, "预算总指标减冻结资金")
    inputs.not_above(spent_v, "累计支出数", available, "预算总指标减冻结资金")
    return rate


def _quarter_rates(rates: Sequence[object], ind: Indicator) -> list[float]:
    names = ind.params["quarters"]
    if len(rates) != len(names):
        raise JXInputError(f"应有 {len(names)} 个季度执行率，收到 {len(rates)} 个")
    return [inputs.rate(r, f"{n}执行率", 1) for n, r in zip(names, rates)]


def quarter_score(rate: object, quarter: object, rubric: Rubric | None = None) -> float:
    """One quarter's score: min(rate / schedule, cap) × points, unrounded."""
    rubric, ind = _ind(rubric, "exec")
    p = ind.params
    q = inputs.count(quarter, "季度")
    if not 1 <= q <= len(p["schedule"]):
        raise JXInputError(f"季度应为 1 到 {len(p['schedule'])}")
    r = inputs.rate(rate, f"{p['quarters'][q - 1]}执行率", 1)
    return min(r / p["schedule"][q - 1], p["quarter_cap"]) * p["quarter_points"]


def exec_average(*rates: object, rubric: Rubric | None = None) -> float:
    """全年平均执行率: the average of the four quarter scores (reading 2: 77.32%)."""
    rubric, ind = _ind(rubric, "exec")
    values = _quarter_rates(rates, ind)
    scores = [quarter_score(r, i + 1, rubric) for i, r in enumerate(values)]
    return sum(scores) / len(scores) / ind.params["quarter_points"]


def exec_score(*rates: object, rubric: Rubric | None = None) -> Score:
    """预算执行率: Σ quarter scores + average × points, rounded once."""
    rubric, ind = _ind(rubric, "exec")
    p = ind.params
    values = _quarter_rates(rates, ind)
    scores = [quarter_score(r, i + 1, rubric) for i, r in enumerate(values)]
    average = exec_average(*values, rubric=rubric)
    raw = sum(scores) + average * p["average_points"]
    notes = []
    behind = [f"{n} {pct(r)}/{_pct_bound(s)}" for n, r, s in zip(p["quarters"], values, p["schedule"])
              if r < s]
    if behind:
        notes.append(f"季度执行率未达序时进度（{'，'.join(behind)}），全年平均执行率 {pct(average)}，"
                     f"扣{pts(ind.max - excel_round(raw, rubric.decimals))}分")
    return _score(rubric, ind, raw, notes)


def key_task(total: object, unfinished: object, rubric: Rubric | None = None) -> Score:
    """重点工作完成情况: full, minus a fixed deduction per unfinished task."""
    total_v = inputs.count(total, "重点工作总数")
    unfinished_v = inputs.count(unfinished, "未完成重点工作数")
    inputs.not_above(unfinished_v, "未完成重点工作数", total_v, "重点工作总数")
    return _deduction("key_task", unfinished_v, rubric)


def timely(finished: object, planned: object, rubric: Rubric | None = None) -> Score:
    """项目完成及时性: finished / planned × max; no planned projects → full (reading 5)."""
    rubric, ind = _ind(rubric, "timely")
    finished_v = inputs.count(finished, "已完成项目数")
    planned_v = inputs.count(planned, "计划完成项目数")
    inputs.not_above(finished_v, "已完成项目数", planned_v, "计划完成项目数")
    if planned_v == 0:
        return _score(rubric, ind, ind.params["no_plan_points"], [])
    raw = finished_v / planned_v * ind.max
    notes = []
    if finished_v < planned_v:
        notes.append(f"已完成项目 {finished_v}/{planned_v}（支出进度达 "
                     f"{_pct_bound(ind.params['finished_threshold'])} 视为完成），"
                     f"扣{pts(ind.max - excel_round(raw, rubric.decimals))}分")
    return _score(rubric, ind, raw, notes)


def effect(score: object, rubric: Rubric | None = None) -> Score:
    """效果性: the evaluator's judgement, checked to lie within 0..max."""
    rubric, ind = _ind(rubric, "effect")
    value = inputs.number(score, ind.params["input"])
    if not 0 <= value <= ind.max:
        raise JXInputError(f"{ind.params['input']}应在 0 到 {ind.max:g} 分之间")
    notes = [f"评价人对照绩效目标完成情况扣{pts(ind.max - value)}分"] if value < ind.max else []
    return _score(rubric, ind, value, notes)


def petition(c1: object, c2: object, c3: object, rubric: Rubric | None = None) -> Score:
    """群众信访办理情况: three checks."""
    return _checks("petition", [c1, c2, c3], rubric)


def satisfaction(rate: object, rubric: Rubric | None = None) -> Score:
    """公众或服务对象满意度: banded."""
    rubric, ind = _ind(rubric, "satisfaction")
    return _banded("satisfaction", inputs.rate(rate, ind.params["rate_label"], ind.params["rate_max"]), rubric)


def grade(total: object, rubric: Rubric | None = None) -> str:
    """评分等级 for a total as displayed (2 decimals)."""
    rubric = rubric or load_rubric()
    value = excel_round(inputs.number(total, "综合评分"), rubric.decimals)
    if not 0 <= value <= rubric.total:
        raise JXInputError(f"综合评分应在 0 到 {rubric.total:g} 之间")
    return band_for(value, rubric.grade_bands).label
