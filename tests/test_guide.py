"""The guide for finance bureaus (docs/编写评分标准.md): its worked example is run, not just shown.

The example edition checks clean, gives a template with its VBA, scores the
example department exactly as the guide's table says (read off the rule
texts), and audits by its own rules once installed through JX_RUBRIC_PATH.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from addin.template import Filled, build
from conftest import ROOT, load_toml
from jx.rubric import check_file, load_file
from jxtools.cli import main

GUIDE = ROOT / "docs" / "编写评分标准.md"
EXAMPLE = ROOT / "docs" / "examples" / "example-city-2025.toml"
CASE = load_toml(ROOT / "docs" / "examples" / "example-city-2025.inputs.toml")


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_the_worked_example_checks_clean():
    assert check_file(EXAMPLE) == []
    assert run("rubric", "check", EXAMPLE).exit_code == 0


def test_the_guides_table_is_the_examples_scores():
    text = GUIDE.read_text(encoding="utf-8")
    rubric = load_file(EXAMPLE)
    for ind in rubric.indicators:
        row = next(line for line in text.splitlines() if line.startswith(f"| {ind.name} |"))
        assert f"| {CASE['expected'][ind.id]:g} |" in row, row
    assert f"**{CASE['expected']['total']:g}**" in text and f"评分等级：{CASE['expected']['grade']}" in text


def test_every_file_the_guide_names_exists():
    text = GUIDE.read_text(encoding="utf-8")
    for path in re.findall(r"`((?:docs|jx|tests)/[\w./-]+)`", text):
        assert (ROOT / path).exists(), path


@pytest.fixture()
def installed(tmp_path, monkeypatch):
    """The example installed as a bureau would: its folder on JX_RUBRIC_PATH."""
    folder = tmp_path / "editions"
    folder.mkdir()
    (folder / EXAMPLE.name).write_bytes(EXAMPLE.read_bytes())
    import os

    monkeypatch.setenv("JX_RUBRIC_PATH", os.pathsep.join([str(ROOT / "tests" / "editions"), str(folder)]))
    return folder


def test_the_example_scores_the_example_department(installed, tmp_path):
    assert "example-city-2025" in run("rubric", "list").output
    template = tmp_path / "示例市2025模板.xlsm"
    assert run("template", "--rubric", EXAMPLE, "-o", template).exit_code == 0
    filled = build(tmp_path / "示例局.xlsm", Filled(CASE["inputs"]), rubric=load_file(EXAMPLE))
    scored = tmp_path / "示例局-计分.xlsm"
    result = run("recalc", filled, "-o", scored)
    assert result.exit_code == 0, result.output
    assert f"综合评分：{CASE['expected']['total']:.2f}" in result.output
    report = json.loads(run("audit", scored, "--format", "json").output.split("\n共 ")[0])[0]
    assert report["edition"] == "example-city-2025"
    assert report["total"] == CASE["expected"]["total"] and report["grade"] == CASE["expected"]["grade"]
    for finding in report["findings"]:
        assert finding["recomputed"] == CASE["expected"][finding["indicator"]]
        assert finding["status"] == "一致"
    notes = {f["indicator"]: f["notes"] for f in report["findings"]}
    assert notes["adjust"] == ["预算调整率 12.50%>10%，扣2.5分"]
    assert notes["progress"] == ["支出进度 95.00%<98%，扣6分"]
