"""Every jx subcommand, in-process, with the exit codes and Chinese output users see."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from addin.layout import score_name
from addin.template import Filled, build
from conftest import SHENZHEN
from jx.rubric import load_rubric
from jxtools.build import EXAMPLE, example_filled
from jxtools.cli import main
from jxtools.reading import read_workbook

RUBRIC = load_rubric(SHENZHEN)


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def shown(path: Path, name: str):
    """What a reader without Python (calamine) sees in a named cell."""
    return read_workbook(path).value(name)


@pytest.fixture()
def agreeing(tmp_path) -> Path:
    """A filled, recalculated workbook with nothing to flag (效果性 docked for the missed targets)."""
    base = example_filled()
    values = dict(base.values, 效果性评分=22)
    plain = tmp_path / "agreeing.xlsm"
    build(plain, Filled(values, base.tasks, base.targets), rubric=RUBRIC)
    scored = tmp_path / "agreeing-scored.xlsm"
    assert run("recalc", plain, "-o", scored).exit_code == 0
    return scored


@pytest.fixture()
def as_reported(tmp_path) -> Path:
    """The report as published: scores typed by hand, and the text's 33 finished projects."""
    copy = tmp_path / "as-reported.xlsm"
    shutil.copy(EXAMPLE, copy)
    wb = openpyxl.load_workbook(copy, keep_vba=True)
    report_scores = {"budget_fit": 5, "budget_norm": 5, "goal_complete": 3, "goal_clear": 7, "procurement": 1.89,
                     "compliance": 3, "disclosure": 3, "project_process": 2, "project_supervision": 2,
                     "asset_safety": 2, "asset_use": 1, "funded_staff": 1, "staff": 0, "rules": 3,
                     "public_funds": 6, "exec": 4.64, "key_task": 8, "timely": 4.98, "effect": 25,
                     "petition": 3, "satisfaction": 6}
    for indicator, score in report_scores.items():
        sheet, ref = wb.defined_names[score_name(indicator)].attr_text.split("!")
        wb[sheet.strip("'")][ref.replace("$", "")] = score
    for name, value in (("综合评分", 96.51), ("评分等级", "优"), ("已完成项目数", 33)):
        sheet, ref = wb.defined_names[name].attr_text.split("!")
        wb[sheet.strip("'")][ref.replace("$", "")] = value
    wb.save(copy)
    return copy


def test_demo_prints_the_score_table_and_writes_a_scored_copy(tmp_path):
    out = tmp_path / "demo.xlsm"
    result = run("demo", "-o", out)
    assert result.exit_code == 0, result.output
    assert "综合评分：填报 96.51，复核 96.51" in result.output
    assert "评分等级：填报 优，复核 优" in result.output
    assert "编外人员控制率（扣1分）：编外人员控制率 23.53%>10%，扣1分" in result.output
    assert "预算执行率（扣1.36分）" in result.output
    assert shown(out, "综合评分") == 96.51


def test_recalc_writes_formulas_with_values_and_leaves_the_input_alone(tmp_path, agreeing):
    base = example_filled()
    plain = tmp_path / "plain.xlsm"
    build(plain, Filled(dict(base.values), base.tasks, base.targets), rubric=RUBRIC)
    before = digest(plain)
    out = tmp_path / "out.xlsm"
    result = run("recalc", plain, "-o", out)
    assert result.exit_code == 1, result.output  # the reference report's own contradiction is listed
    assert "需要注意" in result.output and "效果性得满分" in result.output
    assert "综合评分：96.51    评分等级：优" in result.output
    assert digest(plain) == before
    assert shown(plain, "综合评分") is None  # never calculated
    assert shown(out, "综合评分") == 96.51
    assert shown(out, score_name("staff")) == 0
    assert shown(out, "评分等级") == "优"
    wb = openpyxl.load_workbook(out, keep_vba=True)
    sheet, ref = wb.defined_names[score_name("staff")].attr_text.split("!")
    assert wb["评分表"][ref.replace("$", "")].value == "=JX_STAFF_SCORE(JX_STAFF_RATIO(编外人数,在编人数))"
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" in z.namelist()


def test_recalc_default_output_name_and_refusal_to_overwrite(tmp_path):
    copy = tmp_path / "book.xlsm"
    shutil.copy(EXAMPLE, copy)
    assert run("recalc", copy).exit_code == 1
    assert (tmp_path / "book-recalc.xlsm").exists()
    before = digest(copy)
    result = run("recalc", copy, "-o", copy)
    assert result.exit_code == 2 and "不能覆盖输入文件" in result.output
    assert digest(copy) == before


def test_recalc_shows_input_errors(tmp_path):
    values = dict(example_filled().values, 编外人数=-1)
    path = tmp_path / "bad.xlsm"
    build(path, Filled(values), rubric=RUBRIC)
    result = run("recalc", path, "-o", tmp_path / "bad-out.xlsm")
    assert result.exit_code == 1
    assert "综合评分：#VALUE!" in result.output
    assert "错误：编外人数不能为负数" in result.output
    assert "填报说明" not in result.output  # help text that starts with # is not a formula in error


def test_audit_agrees_with_a_recalculated_workbook(agreeing):
    result = run("audit", agreeing)
    assert result.exit_code == 0, result.output
    assert "不一致" not in result.output.split("综合评分")[0]


def test_audit_flags_the_reference_reports_contradictions(as_reported):
    result = run("audit", as_reported)
    assert result.exit_code == 1
    out = result.output
    timely = next(line for line in out.splitlines() if "项目完成及时性" in line and "不一致" in line)
    assert "4.98" in timely and "4.83" in timely and "+0.15" in timely
    assert "项目完成及时性（扣1.17分）：项目完成率 33/41（80.49%），扣1.17分" in out
    assert "效果性得满分 25 分，但年度绩效指标有 12 项未达成" in out
    assert "工作会议次数（2→0）" in out
    assert "综合评分：填报 96.51，复核 96.36" in out


def test_audit_json_and_xlsx(tmp_path, as_reported, agreeing):
    result = run("audit", as_reported, agreeing, "--format", "json", "-o", tmp_path / "audit.json")
    assert result.exit_code == 1
    data = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert [d["ok"] for d in data] == [False, True]
    timely = next(f for f in data[0]["findings"] if f["indicator"] == "timely")
    assert (timely["claimed"], timely["recomputed"], timely["difference"]) == (4.98, 4.83, 0.15)
    assert any("效果性得满分" in flag for flag in data[0]["flags"])

    result = run("audit", as_reported, "--format", "xlsx", "-o", tmp_path / "audit.xlsx")
    assert result.exit_code == 1
    wb = openpyxl.load_workbook(tmp_path / "audit.xlsx")
    rows = list(wb["复核结果"].iter_rows(values_only=True))
    assert rows[0][:5] == ("文件", "部门", "一级指标", "三级指标", "分值")
    assert any(r[3] == "项目完成及时性" and r[8] == "不一致" for r in rows)
    assert wb["需要注意"].max_row >= 2


def test_audit_streams_its_reports(tmp_path, monkeypatch, as_reported, agreeing):
    """Many files: the xlsx is built from the reports as they arrive (memory flat in the number of files);
    the JSON is the whole list's json.dumps, written one report at a time."""
    import collections.abc

    import jxtools.report_xlsx as report_xlsx

    seen = []
    real = report_xlsx.audit_workbook

    def recording(reports):
        seen.append(reports)
        return real(reports)

    monkeypatch.setattr(report_xlsx, "audit_workbook", recording)
    result = run("audit", as_reported, agreeing, "-o", tmp_path / "audit.xlsx")
    assert result.exit_code == 1
    assert len(seen) == 1 and isinstance(seen[0], collections.abc.Iterator)
    assert "共 2 个文件" in result.output

    result = run("audit", as_reported, agreeing, "--format", "json")
    text = result.stdout
    assert text.startswith("[\n  {")
    data = json.loads(text)
    assert text == json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def test_audit_names_the_cell_of_text_in_a_number_cell(tmp_path):
    copy = tmp_path / "text.xlsm"
    shutil.copy(EXAMPLE, copy)
    wb = openpyxl.load_workbook(copy, keep_vba=True)
    sheet, ref = wb.defined_names["编外人数"].attr_text.split("!")
    wb[sheet.strip("'")][ref.replace("$", "")] = "四"
    wb.save(copy)
    result = run("audit", copy)
    assert result.exit_code == 1
    assert f"编外人数应为数字，不能是文本“四”（基础数据!{ref.replace('$', '')}）" in result.output
    assert "，复核 —\n" in result.output.split("综合评分：")[1][:30]  # no plausible total


def test_batch_scores_a_directory_and_keeps_going_past_broken_files(tmp_path, agreeing):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        shutil.copy(agreeing, folder / f"dept{i}.xlsm")
    (folder / "broken.xlsx").write_bytes(b"not a workbook")
    (folder / "~$dept0.xlsm").write_bytes(b"excel lock file")
    out = tmp_path / "summary.xlsx"
    result = run("batch", folder, "-o", out, "--jobs", "2")
    assert result.exit_code == 2
    assert "共 4 个文件：一致 3，无法读取 1；" in result.output
    rows = list(openpyxl.load_workbook(out)["汇总"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:3] == ("文件", "部门", "年度") and "综合评分（复核）" in header
    by_file = {r[0]: dict(zip(header, r)) for r in body}
    assert by_file["broken.xlsx"]["错误"].startswith("broken.xlsx：不是 Excel 工作簿")
    assert by_file["dept1.xlsm"]["综合评分（复核）"] == 93.51
    assert by_file["dept1.xlsm"]["编外人员控制率"] == 0


def test_batch_with_no_room_for_its_temporary_files_says_so_and_writes_nothing(tmp_path, agreeing, monkeypatch):
    import jxtools.report_xlsx as report_xlsx

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_xlsx.tempfile, "TemporaryFile", full)
    out = tmp_path / "summary.xlsx"
    result = CliRunner().invoke(main, ["batch", str(agreeing), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 2, result.output
    assert "错误：临时文件：无法读写（No space left on device）；未写出输出文件。" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_batch_refuses_to_overwrite_an_input(tmp_path, agreeing):
    result = run("batch", agreeing, "-o", agreeing)
    assert result.exit_code == 2 and "不能覆盖输入文件" in result.output


def test_template_check_passes_on_the_committed_files():
    result = run("template", "--check")
    assert result.exit_code == 0, result.output


def test_audit_reads_a_cached_error_total(tmp_path):
    """calamine reads cached error cells as blank; the audit still shows #VALUE!."""
    values = dict(example_filled().values, 编外人数=-1)
    plain = tmp_path / "bad.xlsm"
    build(plain, Filled(values), rubric=RUBRIC)
    scored = tmp_path / "bad-scored.xlsm"
    assert run("recalc", plain, "-o", scored).exit_code == 1
    result = run("audit", scored)
    assert result.exit_code == 1
    assert "综合评分：填报 #VALUE!，复核 —" in result.output
    staff = next(line for line in result.output.splitlines() if "编外人员控制率" in line)
    assert "一致（输入错误）" in staff and "编外人数不能为负数（基础数据!" in staff
