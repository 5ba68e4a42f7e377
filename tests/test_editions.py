"""A workbook is scored by the edition it records; editions come from data, installed or not.

The fixture edition (tests/editions/test-county-2024.toml, newer than
Shenzhen 2020) is installed for every test: the 2020 example must still
audit to 96.51, a fixture workbook must score by its own rules, and a
workbook naming an edition this installation lacks must be refused by every
command (exit 2, a Chinese message naming file and edition, no output).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import udfs
from addin.layout import EDITION_NAME, score_name
from addin.template import Filled, build
from conftest import EDITIONS, FIXTURE, ROOT, SHENZHEN, load_toml
from jx.rubric import load_rubric
from jxtools.build import EXAMPLE
from jxtools.cli import main

CASE = load_toml(EDITIONS / f"{FIXTURE}.inputs.toml")


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    """A filled workbook of the fixture edition, recalculated."""
    work = tmp_path_factory.mktemp("county")
    plain = build(work / "county.xlsm", Filled(CASE["inputs"]), rubric=load_rubric(FIXTURE))
    scored = work / "county-scored.xlsm"
    assert run("recalc", plain, "-o", scored).exit_code == 0
    return scored


def _with_edition(src: Path, dst: Path, edition: str) -> Path:
    shutil.copy(src, dst)
    wb = openpyxl.load_workbook(dst, keep_vba=True)
    sheet, ref = wb.defined_names[EDITION_NAME].attr_text.split("!")
    wb[sheet.strip("'")][ref.replace("$", "")] = edition
    wb.save(dst)
    return dst


def test_the_2020_example_still_audits_to_96_51_with_a_newer_edition_installed():
    assert load_rubric(FIXTURE).year > load_rubric(SHENZHEN).year
    result = run("audit", EXAMPLE, "--format", "json")
    report = json.loads(result.output.split("\n共 ")[0])[0]
    assert report["edition"] == SHENZHEN and report["total"] == 96.51 and report["grade"] == "优"


def test_a_fixture_workbook_scores_by_its_own_rules(county):
    result = run("audit", county, "--format", "json")
    report = json.loads(result.output.split("\n共 ")[0])[0]
    expected = CASE["expected"]
    assert report["edition"] == FIXTURE
    assert report["total"] == expected["total"] and report["grade"] == expected["grade"]
    for finding in report["findings"]:
        assert finding["recomputed"] == expected[finding["indicator"]], finding["indicator"]
        assert finding["status"] == "一致"
    notes = {f["indicator"]: f["notes"] for f in report["findings"]}
    assert notes["adjust"] == ["预算调整率 7.20%>5%，扣2分"]
    assert notes["progress"] == ["支出进度 93.00%<95%，扣2分"]
    assert notes["output"] == ["产出完成率 46/50（92.00%），扣1.6分"]


def test_batch_takes_each_workbook_by_its_edition(county, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / "shenzhen.xlsm")
    shutil.copy(county, folder / "county.xlsm")
    out = tmp_path / "summary.xlsx"
    result = run("batch", folder, "-o", out, "-j", "1")
    assert result.exit_code in (0, 1), result.output
    rows = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))
    header = rows[0]
    totals = {r[header.index("文件")]: r[header.index("综合评分（复核）")] for r in rows[1:]}
    assert totals == {"county.xlsm": CASE["expected"]["total"], "shenzhen.xlsm": 96.51}


@pytest.mark.parametrize("command", ["recalc", "audit", "batch", "export"])
def test_an_edition_this_installation_lacks_is_refused_by_every_command(command, tmp_path):
    workbook = _with_edition(EXAMPLE, tmp_path / "future.xlsm", "guangdong-2031")
    outputs = {"recalc": tmp_path / "out.xlsm", "audit": tmp_path / "out.json", "batch": tmp_path / "out.xlsx",
               "export": tmp_path / "out.xlsx"}
    args = {"recalc": ["recalc", workbook, "-o", outputs["recalc"]],
            "audit": ["audit", workbook, "--format", "json", "-o", outputs["audit"]],
            "batch": ["batch", workbook, "-o", outputs["batch"]],
            "export": ["export", workbook, "-o", outputs["export"]]}[command]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "future.xlsm" in result.output and "guangdong-2031" in result.output
    assert "本机没有评分标准版本" in result.output
    assert not outputs[command].exists()


def test_the_functions_learn_the_edition_from_the_workbook():
    """What the VBA passes (the workbook's 评分标准版本) decides the rule; a missing edition is a message."""
    assert udfs.JX_GRADE(85, edition=SHENZHEN) == "良"
    assert udfs.JX_GRADE(85, edition=FIXTURE) == "优"
    assert udfs.JX_GRADE(85, edition="") == "优"  # no edition cell: the newest installed edition with the function
    with pytest.raises(udfs.JXInputError, match="本机没有评分标准版本“guangdong-2031”"):
        udfs.JX_GRADE(85, edition="guangdong-2031")
    with pytest.raises(udfs.JXInputError, match="评分标准“test-county-2024”中没有函数 JX_STAFF_SCORE"):
        udfs.JX_STAFF_SCORE(0.2, edition=FIXTURE)
    assert udfs.JX_STAFF_SCORE(0.2) == 0  # only Shenzhen has it


def test_jx_rubric_path_adds_editions_and_rubric_list_shows_them():
    result = run("rubric", "list")
    assert result.exit_code == 0
    assert SHENZHEN in result.output and "随安装提供" in result.output
    assert FIXTURE in result.output and str(EDITIONS / f"{FIXTURE}.toml") in result.output


def test_without_jx_rubric_path_only_the_shipped_edition_is_installed():
    env = {k: v for k, v in os.environ.items() if k != "JX_RUBRIC_PATH"}
    code = "from jx.rubric import editions; print(editions())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert out.stdout.strip() == "['shenzhen-2020']"


def test_rubric_check_exit_codes(tmp_path):
    assert run("rubric", "check", EDITIONS / f"{FIXTURE}.toml").exit_code == 0
    broken = tmp_path / "broken.toml"
    broken.write_text((EDITIONS / f"{FIXTURE}.toml").read_text(encoding="utf-8").replace('shape = "bands"', 'shape = "band"', 1),
                      encoding="utf-8")
    result = run("rubric", "check", broken)
    assert result.exit_code == 1 and "未知的 shape“band”" in result.output and "第 " in result.output
    assert run("rubric", "check", tmp_path / "missing.toml").exit_code == 2


def test_template_for_any_edition_file(tmp_path):
    text = (EDITIONS / f"{FIXTURE}.toml").read_text(encoding="utf-8").replace(f'id = "{FIXTURE}"', 'id = "county-draft"')
    draft = tmp_path / "county-draft.toml"
    draft.write_text(text, encoding="utf-8")
    out = tmp_path / "draft.xlsm"
    result = run("template", "--rubric", draft, "-o", out)
    assert result.exit_code == 0, result.output
    assert "本机未安装版本“county-draft”" in result.output  # built, but scoring it needs JX_RUBRIC_PATH
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" in z.namelist()
    wb = openpyxl.load_workbook(out, keep_vba=True)
    sheet, ref = wb.defined_names[EDITION_NAME].attr_text.split("!")
    assert wb[sheet.strip("'")][ref.replace("$", "")].value == "county-draft"
    assert wb[sheet.strip("'")][wb.defined_names[score_name("half")].attr_text.split("!")[1].replace("$", "")].value \
        == "=JX_TC_HALF_SCORE(上半年执行率,全年执行率)"
    assert run("template", "--rubric", draft).exit_code == 3  # no -o: a usage error
    assert run("template", "--rubric", draft, "-o", tmp_path / "draft.xlsx").exit_code == 3  # .xlsx cannot hold the macros
    assert run("template", "--rubric", "nowhere-1999", "-o", out).exit_code == 2
