"""The rubric data is tested itself: it parses, adds up, ascends, and maps to functions."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from importlib import resources

import pytest

import udfs
from jx import rules
from jx.rubric import Band, _from_data, bands_problems, editions, load_rubric, validate

RUBRIC = load_rubric("shenzhen-2020")
HELPERS = {"JX_GRADE", "JX_TARGET_MET"}


def test_every_edition_parses_and_validates():
    assert "shenzhen-2020" in editions()
    for edition in editions():
        assert validate(load_rubric(edition)) == []


def test_maxima_add_up_to_20_20_60_100():
    assert dict(RUBRIC.level1) == {"部门决策": 20, "部门管理": 20, "部门绩效": 60}
    for level1, expected in RUBRIC.level1:
        assert math.isclose(sum(i.max for i in RUBRIC.indicators if i.level1 == level1), expected)
    assert math.isclose(sum(i.max for i in RUBRIC.indicators), 100)
    assert len(RUBRIC.indicators) == 21


def test_every_indicator_has_rule_text_reference_and_a_function():
    names = set(udfs.__all__)
    for ind in RUBRIC.indicators:
        assert ind.rule_text.strip() and ind.reference.strip() and ind.summary.strip()
        assert ind.functions and set(ind.functions) <= names, ind.name
    listed = {f for ind in RUBRIC.indicators for f in ind.functions}
    assert {n for n in udfs.__all__ if n.startswith("JX_")} == listed | HELPERS


def test_rule_text_is_the_reports_verbatim_text():
    """Each 评分标准 line appears in the reference report (modulo its spacing)."""
    from pathlib import Path

    report = Path(__file__).resolve().parents[2] / "shared" / "reference" / "shenzhen-sast-2020-self-evaluation.txt"
    if not report.exists():
        pytest.skip("reference report not beside the checkout")
    squeeze = lambda s: "".join(s.split()).replace("(", "（").replace(")", "）").replace(",", "，").replace(";", "；").replace(":", "：")
    raw = report.read_text(encoding="utf-8")
    raw = raw.replace("$", "").replace("\\geq", "≥").replace("\\leq", "≤")  # the extraction's LaTeX
    text = squeeze(raw)

    def found(line: str) -> bool:  # a line may straddle one of the report's page breaks
        return line in text or any(line[:k] in text and line[k:] in text for k in range(4, len(line) - 3))

    for ind in RUBRIC.indicators:
        for line in ind.rule_text.splitlines():
            assert found(squeeze(line)), f"{ind.name}: {line}"


def test_thresholds_ascend_and_bands_tile():
    for ind in RUBRIC.indicators:
        if "bands" in ind.params:
            bands = ind.bands()
            bounds = [b.lower for b in bands[1:]]
            assert bounds == sorted(bounds)
            assert bands_problems(bands, ind.name) == []
    schedule = RUBRIC.indicator("exec").params["schedule"]
    assert schedule == sorted(schedule) and schedule[-1] == 1


def test_validate_catches_a_gap_an_overlap_and_a_bad_sum():
    gap = (Band(points=1, upper=0.05), Band(points=0, lower=0.06))
    overlap = (Band(points=1, upper=0.05, upper_inclusive=True), Band(points=0, lower=0.05, lower_inclusive=True))
    assert bands_problems(gap, "x") and bands_problems(overlap, "x")
    staff = RUBRIC.indicator("staff")
    broken = dataclasses.replace(staff, max=2)
    indicators = tuple(broken if i.id == "staff" else i for i in RUBRIC.indicators)
    problems = validate(dataclasses.replace(RUBRIC, indicators=indicators))
    assert any("部门管理" in p for p in problems)


def test_a_new_edition_is_a_data_change(tmp_path):
    """Another year's rubric loads from data alone; last year's scores still recompute."""
    text = resources.files("jx.rubrics").joinpath("shenzhen-2020.toml").read_text(encoding="utf-8")
    text = text.replace('id = "shenzhen-2020"', 'id = "shenzhen-2021"').replace("year = 2020", "year = 2021")
    text = text.replace("{ points = 0.5, lower = 0.05, lower_inclusive = true, upper = 0.10, upper_inclusive = true }",
                        "{ points = 0.5, lower = 0.05, lower_inclusive = true, upper = 0.08, upper_inclusive = true }")
    text = text.replace("{ points = 0, lower = 0.10, lower_inclusive = false }",
                        "{ points = 0, lower = 0.08, lower_inclusive = false }")
    edition_2021 = _from_data(tomllib.loads(text))
    assert validate(edition_2021) == []
    assert rules.staff(0.09, rubric=edition_2021).points == 0
    assert rules.staff(0.09, rubric=RUBRIC).points == 0.5


def test_unknown_edition_is_a_clear_error():
    with pytest.raises(KeyError, match="未知的评分标准版本"):
        load_rubric("nowhere-1999")
