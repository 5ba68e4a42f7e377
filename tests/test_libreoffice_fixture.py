"""Differential proof for the fixture edition: its Python-free copy, in LibreOffice, scores as Python does.

``test-county-2024`` (tests/editions/) is built from the shapes Shenzhen does
not use: a deduction per whole step above a limit with a floor, a deduction
per started step below a limit, the change of 三公经费 against last year
(negative changes included), a rate × points with a cap and a both-zero
reading, a schedule of two half-years, a per-item deduction with a floor
above 0, other grade lines and another vocabulary (有/无). Its exported copy
is recalculated by LibreOffice for more than 200 input sets, generated from
the edition's data as for Shenzhen (tests/support/differential.py): every
bound just below, at and just above, the vocabulary, bad inputs of every
kind, totals around every grade line, seeded random sets. Every converted JX
cell of 评分表 and 预算执行, the sub-totals, 综合评分 and 评分等级 must be
what Python computes, error texts included.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from conftest import EDITIONS, FIXTURE, load_toml, needs_libreoffice
from jx.rubric import load_rubric
from jx.shapes import (BandsPart, CheckPart, EvaluatorPart, LinearPart, PartialPart, PerItemPart, SchedulePart,
                       StatusesPart, StepPart)
from support.differential import (Case, Edition, boundary_cases, check_boundaries_crossed, grade_cases, invalid_cases,
                                  null_error_case, recalculate, unique, vocabulary_cases)

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow, needs_libreoffice()]

RUBRIC = load_rubric(FIXTURE)
DATA = load_toml(EDITIONS / f"{FIXTURE}.inputs.toml")
ED = Edition(RUBRIC, DATA["inputs"])
EXPECTED = DATA["expected"]


def _parts(kind: type) -> list[tuple[Any, Any]]:
    return ED.indicators_of(kind)


def full_marks() -> dict[str, Any]:
    """Inputs that earn every point, read off the edition's data."""
    v = dict(ED.reference)
    for _ind, p in _parts(CheckPart):
        v[p.input.name] = ED.yes
    for _ind, p in _parts(PartialPart) + _parts(EvaluatorPart):
        v[p.input.name] = p.points
    for _ind, p in _parts(StatusesPart):
        v[p.input.name] = max(p.statuses, key=lambda s: s[1])[0]
    for _ind, p in _parts(PerItemPart):
        v[p.count.name] = 0
    for _ind, p in _parts(BandsPart):
        best = max(p.bands, key=lambda b: b.points)
        names = [s.name for s in p.measure.slots]
        if p.measure.shape == "rate":
            v[names[0]] = best.lower if best.lower is not None else 0
        elif p.measure.shape == "change":  # no change at all: within the best band (≤ 0) of the fixture
            v[names[0]] = v[names[1]]
    for _ind, p in _parts(LinearPart):
        names = [s.name for s in p.measure.slots]
        v[names[0]] = v[names[1]]
    for _ind, p in _parts(SchedulePart):  # every period on schedule; the last at 100%
        for period in p.periods:
            spent, total = period.rate.source.inputs[:2]
            v[spent] = round(v[total] * period.schedule, 2)
    for _ind, p in _parts(StepPart):
        names = [s.name for s in p.measure.slots]
        if p.direction == "above":
            v[names[0]] = round(v[names[1]] * p.limit, 2)
        else:
            assert v[names[0]] >= round(v[names[1]] * p.limit, 2), names
    return v


FULL = full_marks()


def extra_cases() -> list[Case]:
    cases = [ED.case("测试夹具的参考输入"), Case("满分", FULL)]
    # 有/无, the fixture's own words, in every check
    for _ind, p in _parts(CheckPart):
        for word in ("有", "无"):
            cases.append(ED.case(f"{p.input.name} {word}", **{p.input.name: word}))
    return cases


def random_cases(count: int, seed: int = 2024) -> list[Case]:
    """Seeded random inputs across the range of every rule (mostly valid)."""
    rng = random.Random(seed)
    vocab = RUBRIC.vocabulary
    statuses = [s for _i, p in _parts(StatusesPart) for s, _p in p.statuses]
    cases = []
    for i in range(count):
        v: dict[str, Any] = {"部门名称": f"随机单位{i}", "预算年度": 2024, "填报人": None}
        for name, f in ED.fields.items():
            if f.kind == "check":
                v[name] = rng.choice(list(vocab.yes) + list(vocab.no) + [True, False, 1, 0])
            elif f.kind == "partial":
                v[name] = rng.choice([round(rng.uniform(0, f.upper), 2)] * 3 + [ED.yes, ED.no, 0, f.upper])
            elif f.kind == "status":
                v[name] = rng.choice(statuses)
            elif f.kind == "score":
                v[name] = round(rng.uniform(0, f.upper), 2)
            elif f.kind == "rate":
                v[name] = round(rng.uniform(0.6, 1.0), 4)
        budget = round(rng.uniform(1e5, 1e8), 2)
        v["年初预算"], v["年中调整金额"] = budget, round(budget * rng.uniform(0, 0.15), 2)
        previous = round(rng.uniform(1e4, 1e6), 2)
        v["上年三公经费"], v["本年三公经费"] = previous, round(previous * rng.uniform(0.5, 1.15), 2)
        annual = round(rng.uniform(1e5, 1e8), 2)
        v["年度预算"] = annual
        v["全年支出"] = round(annual * rng.uniform(0.5, 1.0), 2)
        v["上半年支出"] = round(v["全年支出"] * rng.uniform(0.2, 0.8), 2)
        v["资产问题数"] = rng.randint(0, 4)
        planned = rng.choice([0, rng.randint(1, 80), rng.randint(1, 80)])
        v["计划产出数"] = planned
        v["完成产出数"] = rng.randint(0, int(planned * 1.2)) if planned else rng.choice([0, 0, 3])
        assert set(v) == set(ED.fields), set(v) ^ set(ED.fields)
        cases.append(Case(f"随机 {i:03d}", v))
    return cases


def all_cases() -> list[Case]:
    cases = extra_cases() + boundary_cases(ED) + grade_cases(ED, [ED.reference, FULL])
    cases = unique(cases + vocabulary_cases(ED) + invalid_cases(ED))
    return cases + random_cases(max(25, 225 - len(cases)))


CASES = all_cases()
KNOWN = [null_error_case(ED)]  # known LibreOffice differences, checked as such


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("libreoffice-fixture")
    result = recalculate(work, {"fixture": (ED, CASES + KNOWN)}, every=100)
    print(f"\nLibreOffice: {result.files} files in {result.seconds:.1f} s (two runs side by side)")
    return result


# ------------------------------------------------------------------ the proof


def test_at_least_200_input_sets():
    assert len(CASES) >= 200
    assert len({c.name for c in CASES}) == len(CASES)
    assert sum(1 for c in CASES if c.name.startswith("随机")) >= 25


def test_the_input_sets_reach_every_shape():
    """Every bound of the data has its input sets: the steps (whole and started, down to and past their
    floors), the change bands with falls, the cap and the both-zero case, both half-years, the per-item
    floor, every status, the partial score, the satisfaction bands and the grade lines."""
    names = {c.name for c in CASES}
    scores = {c.name: ED.scores(c.values) for c in CASES}
    for ind in RUBRIC.indicators:
        for part in ind.parts:
            if isinstance(part, StepPart):
                floor_steps = int((part.points - part.floor) / part.per_step)
                assert any(s[ind.id] == part.floor for s in scores.values()), ind.id  # the floor is reached
                assert sum("限值" in n and ind.name in n for n in names) == 3, ind.id
                assert sum(f"第 {floor_steps + 1} 档" in n and ind.name in n for n in names) == 3, ind.id
                reached = {s[ind.id] for n, s in scores.items() if ind.name in n and ("档" in n or "限值" in n)}
                assert len(reached) == floor_steps + 1, (ind.id, reached)  # full points, one per step, the floor
            if isinstance(part, BandsPart):
                got = {s[ind.id] for s in scores.values()}
                assert {b.points for b in part.bands} <= got, (ind.id, got)
            if isinstance(part, PerItemPart):
                assert any(s[ind.id] == part.floor for s in scores.values()), ind.id
            if isinstance(part, LinearPart):
                assert any("两项均为 0" in n and scores[n][ind.id] == part.measure.both_zero for n in names)
                assert any(f"{part.cap * 120:g}%" in n and scores[n][ind.id] == part.max for n in names)
            if isinstance(part, SchedulePart):
                for period in part.periods:
                    assert sum(n.startswith(f"{period.rate.label} ") for n in names) == 3
            if isinstance(part, StatusesPart):
                assert {s for s, _p in part.statuses} <= {c.values[part.input.name] for c in CASES}, ind.id
    change = next(p for _i, p in _parts(BandsPart) if p.measure.shape == "change")
    assert sum("下降" in n for n in names) >= 2 and change
    for band in RUBRIC.grade_bands[1:]:
        assert sum(n.startswith("综合评分 ") and f" {band.lower:g}（" in n for n in names) == 3
    assert {ED.totals(scores[n])["评分等级"] for n in names} >= {b.label for b in RUBRIC.grade_bands}
    for word in ("有", "无"):
        assert word in RUBRIC.vocabulary.yes + RUBRIC.vocabulary.no
        for _ind, p in _parts(CheckPart):
            assert any(c.values[p.input.name] == word for c in CASES), (p.input.name, word)


def test_every_boundary_is_crossed():
    check_boundaries_crossed(ED, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_libreoffice_scores_as_python(case: Case, run):
    run.groups["fixture"].check_case(case)


def test_the_reference_inputs_score_as_the_rule_texts_say(run):
    """The fixture's inputs, read off its rule texts ([expected]): LibreOffice and Python both give them."""
    group = run.groups["fixture"]
    got = group.results["测试夹具的参考输入"]
    python = ED.scores(ED.reference)
    for indicator_id, expected in EXPECTED.items():
        if indicator_id in python:
            assert got[group.names[f"分数_{indicator_id}"]] == python[indicator_id] == expected, indicator_id
    assert got[group.names["综合评分"]] == EXPECTED["total"]
    assert got[group.names["评分等级"]] == EXPECTED["grade"]
    full = group.results["满分"]
    assert full[group.names["综合评分"]] == RUBRIC.total
    assert full[group.names["评分等级"]] == max(RUBRIC.grade_bands, key=lambda b: b.lower or 0).label


def test_bad_inputs_reach_the_total(run):
    group = run.groups["fixture"]
    bad = [c for c in CASES if any(isinstance(s, str) for s in ED.scores(ED.libreoffice_reads(c.values)).values())]
    assert len(bad) >= 60
    for case in bad:
        got = group.results[case.name]
        assert str(got[group.names["综合评分"]]).startswith("#"), case.name
        assert str(got[group.names["评分等级"]]).startswith("错误："), case.name


def test_logicals_in_number_cells_are_a_libreoffice_difference(run):
    """LibreOffice has no logical type: TRUE typed in a number-formatted cell is 1 there.

    For an amount, a count, a rate or a score Python (and Excel, WPS) say
    "应为数字，不能是逻辑值 TRUE" and LibreOffice scores 1. For a partial score
    the difference is in the points: Python reads TRUE as 是 (all the points),
    LibreOffice as 1 point. The comparisons above read such inputs as
    LibreOffice does; here the difference itself is checked.
    """
    group = run.groups["fixture"]
    logicals = [c for c in CASES if c.name.endswith(" 逻辑值")]
    assert len(logicals) >= 10
    for case in logicals:
        assert any(isinstance(s, str) and "逻辑值" in s for s in ED.scores(case.values).values()), case.name
        assert not any("逻辑值" in str(v) for v in group.results[case.name].values()), case.name
    partial = next(p for _i, p in _parts(PartialPart) if p.points != 1)
    indicator = next(i for i, p in _parts(PartialPart) if p is partial)
    case = next(c for c in CASES if c.name == f"酌情项 {partial.input.name}=True")
    python = ED.scores(case.values)[indicator.id]
    shown = group.results[case.name][group.names[f"分数_{indicator.id}"]]
    assert python - shown == partial.points - 1
    assert shown == ED.scores({**case.values, partial.input.name: 1})[indicator.id]


def test_known_libreoffice_differences(run):
    run.groups["fixture"].check_known(KNOWN)


def test_every_indicator_is_compared(run):
    run.groups["fixture"].check_every_indicator_compared()


def test_patched_copies_equal_full_exports(run):
    group = run.groups["fixture"]
    full = [c.name for c in group.cases if c.full_export]
    assert len(full) >= 3 and set(group.twins) == set(full)
    for name in full:
        assert group.twins[name] == group.results[name], name
    assert run.files == len(CASES) + len(KNOWN) + len(group.twins)
