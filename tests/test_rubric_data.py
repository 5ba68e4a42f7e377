"""The rubric data is tested itself: it parses, adds up, tiles, and a broken file says where."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import pytest

import udfs
from conftest import EDITIONS, FIXTURE, SHENZHEN
from jx.functions import functions
from jx.rubric import RubricError, check_file, editions, load_file, load_rubric, parse

RUBRIC = load_rubric(SHENZHEN)
SHIPPED = Path(str(resources.files("jx.rubrics").joinpath("shenzhen-2020.toml")))


def test_installed_editions_are_the_shipped_one_and_the_fixture():
    assert editions() == [SHENZHEN, FIXTURE]  # oldest first
    assert load_rubric(FIXTURE).fixture and not RUBRIC.fixture


@pytest.mark.parametrize("path", [SHIPPED, *sorted(p for p in EDITIONS.glob("*.toml") if not p.name.endswith(".inputs.toml"))],
                         ids=lambda p: p.name)
def test_every_edition_file_checks_clean(path):
    assert check_file(path) == []


def test_maxima_add_up_to_20_20_60_100():
    assert dict(RUBRIC.level1) == {"部门决策": 20, "部门管理": 20, "部门绩效": 60}
    for level1, expected in RUBRIC.level1:
        assert math.isclose(sum(i.max for i in RUBRIC.indicators if i.level1 == level1), expected)
    assert math.isclose(sum(i.max for i in RUBRIC.indicators), 100)
    assert len(RUBRIC.indicators) == 21
    for ind in RUBRIC.indicators:
        assert math.isclose(sum(p.max for p in ind.parts), ind.max), ind.name


@pytest.mark.parametrize("edition", [SHENZHEN, FIXTURE])
def test_every_indicator_has_rule_text_reference_and_a_function(edition):
    rubric = load_rubric(edition)
    for ind in rubric.indicators:
        assert ind.rule_text.strip() and ind.reference.strip() and ind.summary.strip()
        assert ind.function in functions(rubric), ind.name
    assert set(functions(rubric)) <= set(udfs.__all__)


def test_the_excel_functions_are_every_editions_functions():
    every = set().union(*(functions(load_rubric(e)) for e in editions()))
    assert {n for n in udfs.__all__ if n.startswith("JX_")} == every


def test_rule_text_is_the_reports_verbatim_text():
    """Each 评分标准 line appears in the reference report (modulo its spacing)."""
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


def test_every_bound_says_whether_it_is_inclusive():
    text = SHIPPED.read_text(encoding="utf-8")
    for before, after in (("upper = 0.10, upper_inclusive = true", "upper = 0.10"),):
        broken = text.replace(before, after, 1)
        _rubric, problems = parse(broken)
        assert any("upper_inclusive" in p for p in problems)


# ------------------------------------------------------------------ a broken file, every problem with its line


def _line(text: str, needle: str) -> int:
    """The line holding ``needle`` (the whole line when one line is exactly it)."""
    lines = text.splitlines()
    exact = [i + 1 for i, line in enumerate(lines) if line.strip() == needle]
    return exact[0] if exact else next(i + 1 for i, line in enumerate(lines) if needle in line)


def _header(text: str, needle: str) -> int:
    """The line of the [[indicator]] header above ``needle``."""
    lines = text.splitlines()
    at = _line(text, needle) - 1
    return next(i + 1 for i in range(at, -1, -1) if lines[i].strip() == "[[indicator]]")


@pytest.fixture()
def broken(tmp_path) -> tuple[Path, str]:
    text = (EDITIONS / "test-county-2024.toml").read_text(encoding="utf-8")
    text = text.replace('id = "test-county-2024"', 'id = "broken-county-2025"').replace("year = 2024", "year = 2025")
    # a band gap: 0.05 → 0.06
    text = text.replace("{ points = 0, lower = 0.05, lower_inclusive = false },",
                        "{ points = 0, lower = 0.06, lower_inclusive = false },")
    # an unknown shape
    text = text.replace('shape = "per_item"', 'shape = "per_items"')
    # the 部门决策 indicators no longer add up (6 + 9 ≠ 15)
    text = text.replace("max = 6\nfunction = \"JX_TC_GOAL_SCORE\"", "max = 7\nfunction = \"JX_TC_GOAL_SCORE\"")
    # an empty rule text
    text = text.replace('rule_text = "5分，发现一个问题扣2分，最低得1分。"', 'rule_text = ""')
    # a used input that nobody declares
    text = text.replace('"年度预算",\n] }', '"年度总预算",\n] }')
    # a missing field
    text = text.replace('rate_label = "满意度"\n', "", 1).replace('level2 = "效果"\nname = "服务对象满意度"', 'name = "服务对象满意度"')
    # a typo, and a function name that another edition uses with other arguments
    text = text.replace("steps = \"started\"", "steps = \"started\"\nflor = 0")
    text = text.replace('function = "JX_TC_BENEFIT_SCORE"', 'function = "JX_STAFF_SCORE"')
    path = tmp_path / "broken-county-2025.toml"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_check_reports_every_problem_at_once_with_its_line(broken):
    path, text = broken
    problems = check_file(path)
    joined = "\n".join(problems)
    expected = [
        (_line(text, "lower = 0.06"), "分档边界不相接"),
        (_line(text, 'shape = "per_items"'), "未知的 shape“per_items”"),
        (_line(text, "max = 15"), "“部门决策”下各指标分值合计 16 ≠ 15"),
        (_line(text, 'rule_text = ""'), "“rule_text”不能为空"),
        (_line(text, '"年度总预算",'), "输入项“年度总预算”被使用但没有声明"),
        (_header(text, 'name = "服务对象满意度"'), "缺少“level2”"),
        (_line(text, "flor = 0"), "未知的键“flor”"),
        (_line(text, 'function = "JX_STAFF_SCORE"'), "函数 JX_STAFF_SCORE 在版本“shenzhen-2020”中的参数为（ratio），本文件为（score）"),
    ]
    for line, message in expected:
        assert any(p.startswith(f"第 {line} 行：") and message in p for p in problems), (line, message, joined)
    assert len(problems) >= len(expected)
    with pytest.raises(RubricError, match="处问题"):
        load_file(path)


@pytest.mark.parametrize("edition", [SHENZHEN, FIXTURE])
def test_signatures_from_the_data_are_the_functions(edition):
    from jx.rubric import signatures

    rubric = load_rubric(edition)
    assert signatures(rubric) == {name: f.signature for name, f in functions(rubric).items()}


def test_a_toml_syntax_error_names_its_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[edition]\nid = "x"\ntitle = \n', encoding="utf-8")
    problems = check_file(path)
    assert len(problems) == 1 and "TOML 格式错误" in problems[0] and "第 3 行" in problems[0]


def test_a_new_edition_is_a_data_change(tmp_path):
    """Another year's rubric loads from data alone; last year's scores still recompute."""
    text = SHIPPED.read_text(encoding="utf-8")
    text = text.replace('id = "shenzhen-2020"', 'id = "shenzhen-2021"').replace("year = 2020", "year = 2021")
    text = text.replace("{ points = 0.5, lower = 0.05, lower_inclusive = true, upper = 0.10, upper_inclusive = true }",
                        "{ points = 0.5, lower = 0.05, lower_inclusive = true, upper = 0.08, upper_inclusive = true }")
    text = text.replace("{ points = 0, lower = 0.10, lower_inclusive = false }",
                        "{ points = 0, lower = 0.08, lower_inclusive = false }")
    path = tmp_path / "shenzhen-2021.toml"
    path.write_text(text, encoding="utf-8")
    assert check_file(path) == []
    edition_2021 = load_file(path)
    assert functions(edition_2021)["JX_STAFF_SCORE"](0.09) == 0
    assert functions(RUBRIC)["JX_STAFF_SCORE"](0.09) == 0.5


def test_unknown_edition_is_a_clear_error():
    with pytest.raises(RubricError, match="本机没有评分标准版本“nowhere-1999”"):
        load_rubric("nowhere-1999")
