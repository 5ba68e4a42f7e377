"""The files of issue 11, generated here, each run through every command: the same verdict from all.

A verdict is one of:

* **refused**: the reader will not take the file (not our template, layout
  broken, a value no cell of its kind may hold, too large). Every command
  exits 2 with the same Chinese message naming the file (and cell), on
  stderr, and writes no output.
* **findings**: the file is read and scored, and something needs a look
  (edited formulas, rows below a range, an implausible year, an input the
  rules refuse). Every command exits 1 and says the same thing; ``report``,
  which needs every indicator scored, refuses a file with an input error
  (exit 2) with that same message.
* **accepted**: scored like the untouched example (whose own contradiction,
  效果性 full marks with missed targets, every command lists), total 96.51.

The input file is never modified; no temporary file is left beside any output.
"""

from __future__ import annotations

import datetime as dt
import io
import hashlib
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jxtools.build import EXAMPLE
from jxtools.cli import main

COMMANDS = ("recalc", "audit", "batch", "export", "report")
BASELINE_FLAG = "效果性得满分 25 分"


# ------------------------------------------------------------------ ways to damage a workbook


def _rezip(src: Path, dst: Path, replace: dict[str, bytes] | None = None, drop: tuple[str, ...] = (),
           add: dict[str, bytes] | None = None, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(src) as s, zipfile.ZipFile(dst, "w", compression) as d:
        for info in s.infolist():
            if info.filename in drop:
                continue
            d.writestr(info.filename, (replace or {}).get(info.filename, s.read(info.filename)))
        for name, data in (add or {}).items():
            d.writestr(name, data)
    return dst


def _workbook_xml(src: Path) -> str:
    with zipfile.ZipFile(src) as z:
        return z.read("xl/workbook.xml").decode("utf-8")


def _with_names(tmp: Path, name: str, edit) -> Path:
    """The example with xl/workbook.xml's defined names edited by ``edit(xml) -> xml``."""
    return _rezip(EXAMPLE, tmp / name, replace={"xl/workbook.xml": edit(_workbook_xml(EXAMPLE)).encode("utf-8")})


def _drop_name(xml: str, name: str) -> str:
    out, n = re.subn(rf'<definedName name="{re.escape(name)}"[^>]*>[^<]*</definedName>', "", xml)
    assert n == 1, name
    return out


def _point_name(xml: str, name: str, target: str) -> str:
    out, n = re.subn(rf'(<definedName name="{re.escape(name)}"[^>]*>)[^<]*(</definedName>)',
                     lambda m: m.group(1) + target + m.group(2), xml)
    assert n == 1, name
    return out


def _sheet_part(src: Path, title: str) -> str:
    from jxtools.workbook_io import sheet_paths

    return sheet_paths(src)[title]


def _set_cells(tmp: Path, name: str, cells: dict[tuple[str, str], object], text: bool = True) -> Path:
    """The example with cells replaced (openpyxl keeps the VBA project)."""
    path = tmp / name
    wb = openpyxl.load_workbook(EXAMPLE, keep_vba=True)
    for (sheet, ref), value in cells.items():
        cell = wb[sheet][ref]
        cell.value = value
        if isinstance(value, str) and value.startswith("=") and text:
            cell.data_type = "s"  # text that looks like a formula, as a user may type it after an apostrophe
    wb.save(path)
    return path


def _ref(name: str) -> tuple[str, str]:
    from jxtools.workbook_io import defined_names

    sheet, ref = defined_names(EXAMPLE)[name]
    return sheet, ref.replace("$", "")


# The package itself: not a workbook, damaged, hostile XML, encrypted, too large.

def not_a_workbook(tmp: Path) -> Path:
    path = tmp / "notes.xlsx"
    path.write_text("部门整体支出绩效自评", encoding="utf-8")
    return path


def truncated(tmp: Path) -> Path:
    data = EXAMPLE.read_bytes()
    path = tmp / "truncated.xlsm"
    path.write_bytes(data[: len(data) // 2])
    return path


def zip_bomb(tmp: Path) -> Path:
    return _rezip(EXAMPLE, tmp / "bomb.xlsm", add={"xl/media/padding.bin": b"\0" * (30 * 1024 * 1024)})


def billion_laughs(tmp: Path) -> Path:
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
           b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol2;</workbook>')
    return _rezip(EXAMPLE, tmp / "laughs.xlsm", replace={"xl/workbook.xml": lol})


def external_entity(tmp: Path) -> Path:
    with zipfile.ZipFile(EXAMPLE) as z:
        sheet = z.read("xl/worksheets/sheet2.xml")
    body = sheet.split(b"?>", 1)[1] if sheet.startswith(b"<?xml") else sheet
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + body
    return _rezip(EXAMPLE, tmp / "xxe.xlsm", replace={"xl/worksheets/sheet2.xml": evil})


def missing_part(tmp: Path) -> Path:
    return _rezip(EXAMPLE, tmp / "nopart.xlsm", drop=("xl/workbook.xml",))


def password_protected(tmp: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with EXAMPLE.open("rb") as f:
        OOXMLFile(f).encrypt("密码", out)
    path = tmp / "locked.xlsm"
    path.write_bytes(out.getvalue())
    return path


def oversized(tmp: Path) -> Path:
    path = tmp / "huge.xlsx"
    with path.open("wb") as f:
        f.seek(60 * 1024 * 1024)
        f.write(b"\0")
    return path



# The template's layout: names, sheets, cells.

def deleted_target_name(tmp):
    return _with_names(tmp, "no-targets.xlsm", lambda x: _drop_name(x, "预期指标值"))


def whole_column_target_name(tmp):
    return _with_names(tmp, "column.xlsm", lambda x: _point_name(x, "预期指标值", "'绩效指标'!$D:$D"))


def single_cell_target_name(tmp):
    return _with_names(tmp, "single.xlsm", lambda x: _point_name(x, "预期指标值", "'绩效指标'!$D$5"))


def deleted_task_budget_name(tmp):
    return _with_names(tmp, "no-budget.xlsm", lambda x: _drop_name(x, "任务预算数"))


def redirected_input_name(tmp):
    """编外人数 pointed at an empty cell, the cached score and total set to match (97.51)."""
    path = _with_names(tmp, "redirected-src.xlsm", lambda x: _point_name(x, "编外人数", "'基础数据'!$Z$99"))
    wb = openpyxl.load_workbook(path, keep_vba=True)
    sheet, ref = _ref("分数_staff")
    wb[sheet][ref] = 1
    total_sheet, total = _ref("综合评分")
    wb[total_sheet][total] = 97.51
    wb.save(tmp / "redirected.xlsm")
    return tmp / "redirected.xlsm"


def no_names(tmp):
    return _with_names(tmp, "nameless.xlsm", lambda x: re.sub(r"<definedNames>.*</definedNames>", "", x, flags=re.S))


def missing_sheet(tmp):
    path = tmp / "nosheet.xlsm"
    wb = openpyxl.load_workbook(EXAMPLE, keep_vba=True)
    del wb["评分表"]
    wb.save(path)
    return path


def date_in_number_cell(tmp):
    return _set_cells(tmp, "date.xlsm", {_ref("编外人数"): dt.datetime(2020, 4, 1)})


def lzma_members(tmp):
    return _rezip(EXAMPLE, tmp / "lzma.xlsm", compression=zipfile.ZIP_LZMA)


def huge_shared_strings(tmp):
    strings = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
               b'2006/main">' + b"<si><t>" + b"x" * (20 * 1024 * 1024) + b"</t></si></sst>")
    return _rezip(EXAMPLE, tmp / "strings.xlsm", add={"xl/sharedStrings.xml": strings},
                  compression=zipfile.ZIP_STORED)


def seven_hundred_thousand_rows(tmp):
    part = _sheet_part(EXAMPLE, "绩效指标")
    with zipfile.ZipFile(EXAMPLE) as z:
        xml = z.read(part)
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in range(300, 700_000, 7))
    xml = xml.replace(b"</sheetData>", rows + b"</sheetData>")
    return _rezip(EXAMPLE, tmp / "rows.xlsm", replace={part: xml})


def too_many_cells_on_a_sheet_of_its_own(tmp):
    """110,000 numbers on the hidden xlwings.conf sheet, which no name points to: every sheet counts."""
    part = _sheet_part(EXAMPLE, "xlwings.conf")
    with zipfile.ZipFile(EXAMPLE) as z:
        xml = z.read(part)
    letters = [chr(65 + i) + chr(65 + j) for i in range(4) for j in range(26)][:100]
    rows = b"".join(b'<row r="%d">' % r + b"".join(b'<c r="%s%d"><v>1</v></c>' % (c.encode(), r) for c in letters)
                    + b"</row>" for r in range(10, 1110))
    xml = re.sub(rb"<sheetData\s*/>", b"<sheetData></sheetData>", xml).replace(b"</sheetData>", rows + b"</sheetData>")
    return _rezip(EXAMPLE, tmp / "cells.xlsm", replace={part: xml})


def spill_error_in_an_input(tmp):
    """An input cell holding #SPILL! (calamine cannot read it; the reader must, and name the cell)."""
    sheet, ref = _ref("编外人数")
    part = _sheet_part(EXAMPLE, sheet)
    with zipfile.ZipFile(EXAMPLE) as z:
        xml = z.read(part).decode("utf-8")
    xml, n = re.subn(rf'<c r="{ref}"([^>]*?)(/>|>.*?</c>)', rf'<c r="{ref}" t="e"><v>#SPILL!</v></c>', xml, count=1,
                     flags=re.S)
    assert n == 1
    return _rezip(EXAMPLE, tmp / "spill.xlsm", replace={part: xml.encode("utf-8")})


def calc_error_in_a_score(tmp):
    """A cached #CALC! on a score cell (its formula intact): a stale cache, recomputed by every command."""
    sheet, ref = _ref("分数_staff")
    part = _sheet_part(EXAMPLE, sheet)
    with zipfile.ZipFile(EXAMPLE) as z:
        xml = z.read(part).decode("utf-8")
    xml, n = re.subn(rf'(<c r="{ref}")([^>]*?)>(<f>.*?</f>)<v>[^<]*</v></c>', r'\1 t="e">\3<v>#CALC!</v></c>', xml,
                     count=1, flags=re.S)
    assert n == 1
    return _rezip(EXAMPLE, tmp / "calc.xlsm", replace={part: xml.encode("utf-8")})


def typed_over_scores(tmp):
    sheet, ref = _ref("分数_staff")
    total_sheet, total = _ref("综合评分")
    return _set_cells(tmp, "typed.xlsm", {(sheet, ref): 1, (total_sheet, total): 100.0})


def wrong_argument_count(tmp):
    sheet, ref = _ref("分数_staff")
    return _set_cells(tmp, "arity.xlsm", {(sheet, ref): "=JX_STAFF_SCORE(JX_STAFF_RATIO(编外人数,在编人数),1,2)"},
                      text=False)


def chinese_year(tmp):
    return _set_cells(tmp, "year.xlsm", {_ref("预算年度"): "二〇二〇"})


def rows_below_the_targets(tmp):
    sheet, ref = _ref("预期指标值")
    last = int(ref.split(":")[1][1:])
    return _set_cells(tmp, "below.xlsm", {(sheet, f"C{last + 3}"): "新增指标", (sheet, f"D{last + 3}"): "≥5次",
                                          (sheet, f"E{last + 3}"): "4次"})


def gbk_file_name(tmp):
    import os

    path = tmp / os.fsdecode("部门自评.xlsm".encode("gbk"))  # undecodable as UTF-8: surrogate escapes
    shutil.copy(EXAMPLE, path)
    return path


def formula_department(tmp):
    return _set_cells(tmp, "=1+1.xlsm", {_ref("部门名称"): '=HYPERLINK("http://example.com","点我")'})


def renamed_sheet_in_libreoffice(tmp):
    from support.uno_edit import edit

    return edit(EXAMPLE, tmp / "renamed.xlsm", [{"op": "rename", "sheet": "评分表", "to": "评分表（2020）"}])


def rows_inserted_in_libreoffice(tmp):
    from support.uno_edit import edit

    return edit(EXAMPLE, tmp / "inserted.xlsm", [{"op": "insert_rows", "sheet": "绩效指标", "before": 100, "count": 2}])


# ------------------------------------------------------------------ verdicts


@dataclass(frozen=True)
class Refused:
    message: str


@dataclass(frozen=True)
class Findings:
    says: tuple[str, ...]
    refused_by: tuple[str, ...] = ()  # commands that cannot do their job on it (exit 2, the first message)


INPUT_ERROR = ("report",)  # a report needs every indicator scored
UNCONVERTIBLE = ("export",)  # a formula no native formula can stand for


@dataclass(frozen=True)
class Accepted:
    total: str = "96.51"
    says: tuple[str, ...] = field(default=())


CASES = {
    not_a_workbook: Refused("不是 Excel 工作簿"),
    truncated: Refused("不是 Excel 工作簿（.xlsx/.xlsm）或文件已损坏"),
    zip_bomb: Refused("疑似压缩炸弹"),
    billion_laughs: Refused("含有 DTD 或实体声明（XML 攻击）"),
    external_entity: Refused("含有 DTD 或实体声明（XML 攻击）"),
    missing_part: Refused("缺少 xl/workbook.xml"),
    password_protected: Refused("文件有密码保护"),
    oversized: Refused("文件过大"),
    deleted_target_name: Refused("缺少名称“预期指标值”"),
    whole_column_target_name: Refused("名称“预期指标值”指向整列或整行（'绩效指标'!$D:$D），应为 绩效指标!D5:D254"),
    single_cell_target_name: Refused("应覆盖相同的行"),
    deleted_task_budget_name: Refused("缺少名称“任务预算数”"),
    redirected_input_name: Refused("名称“编外人数”指向 基础数据!Z99，应为 基础数据!D"),
    no_names: Refused("缺少名称“评分标准版本”"),
    missing_sheet: Refused("工作表“评分表”不存在"),
    date_in_number_cell: Refused("（编外人数）填的是日期或时间"),
    lzma_members: Refused("使用了 Excel 不支持的压缩方式"),
    huge_shared_strings: Refused("过大"),
    seven_hundred_thousand_rows: Refused("超出模板的范围"),
    too_many_cells_on_a_sheet_of_its_own: Refused("超出模板的范围（最多 100000 个）"),
    spill_error_in_an_input: Findings(("编外人数引用的单元格有错误（#SPILL!）",), INPUT_ERROR),
    calc_error_in_a_score: Accepted(),
    typed_over_scores: Findings(("不是公式：手工填写了 1", "不是公式：手工填写了 100")),
    wrong_argument_count: Findings(("JX_STAFF_SCORE 应有 1 个参数", "的公式被改动"), UNCONVERTIBLE),
    chinese_year: Findings(("预算年度“二〇二〇”应为四位数字的年份",)),
    rows_below_the_targets: Findings(("在“预期指标值”范围之外，没有计入",)),
    gbk_file_name: Accepted(),
    formula_department: Accepted(),
    renamed_sheet_in_libreoffice: Accepted(),
    rows_inserted_in_libreoffice: Findings(("插入的行需要公式",)),
}
NEEDS_LIBREOFFICE = {renamed_sheet_in_libreoffice, rows_inserted_in_libreoffice}


def _args(command: str, path: Path, out: Path) -> list[str]:
    return {"recalc": ["recalc", path, "-o", out / f"result{path.suffix}"],
            "audit": ["audit", path],
            "batch": ["batch", path, "-o", out / "summary.xlsx"],
            "export": ["export", path, "-o", out / "native.xlsx"],
            "report": ["report", path, "-o", out / "report.docx"]}[command]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Each hostile file once (the LibreOffice edits take seconds), with the digest it must keep."""
    made = {}
    for make in CASES:
        if make in NEEDS_LIBREOFFICE:
            from support.uno_edit import uno_python

            if uno_python() is None:
                continue
        folder = tmp_path_factory.mktemp(make.__name__)
        path = make(folder)
        made[make] = (path, hashlib.sha256(Path(path).read_bytes()).hexdigest())
    return made


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("make", list(CASES), ids=[m.__name__ for m in CASES])
def test_every_command_gives_the_same_verdict(files, make, command, tmp_path):
    if make not in files:
        pytest.skip("LibreOffice with python3-uno is needed to make this file")
    path, digest = files[make]
    verdict = CASES[make]
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [str(a) for a in _args(command, path, out)],
                                catch_exceptions=False)
    said = result.output + result.stderr if result.stderr_bytes is not None else result.output
    assert "Traceback" not in said and "Error" not in said.replace("错误", "")
    refused = isinstance(verdict, Refused) or command in getattr(verdict, "refused_by", ())
    if refused:
        assert result.exit_code == 2, said
        message = verdict.message if isinstance(verdict, Refused) else verdict.says[0]
        assert message in result.stderr, result.stderr
        assert not out.exists() or not any(out.iterdir()), list(out.iterdir())  # no output for a refused file
    elif isinstance(verdict, Findings):
        assert result.exit_code == 1, said
        if command != "batch":  # batch writes what it found into the summary
            for text in verdict.says[1:] if verdict.refused_by else verdict.says:
                assert text in said, (text, said[-800:])
    else:
        assert result.exit_code == 1, said  # the example's own contradiction
        if command not in ("batch", "report"):
            assert BASELINE_FLAG in said, said[-800:]
        if command == "audit":
            assert f"复核 {verdict.total}" in said
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == digest  # never modified
    for folder in {Path(path).parent, out}:
        assert not folder.exists() or not list(folder.glob(".*.tmp"))


def test_text_from_a_workbook_is_never_a_formula_in_what_jx_writes(files, tmp_path):
    """部门名称 '=HYPERLINK(…)' and a file named '=1+1.xlsm' stay text in every workbook JX writes."""
    path, _ = files[formula_department]
    outputs = {"audit": tmp_path / "audit.xlsx", "batch": tmp_path / "summary.xlsx", "export": tmp_path / "native.xlsx",
               "recalc": tmp_path / "recalc.xlsm"}
    runner = CliRunner()
    runner.invoke(main, ["audit", str(path), "--format", "xlsx", "-o", str(outputs["audit"])])
    runner.invoke(main, ["batch", str(path), "-o", str(outputs["batch"])])
    runner.invoke(main, ["export", str(path), "-o", str(outputs["export"])])
    runner.invoke(main, ["recalc", str(path), "-o", str(outputs["recalc"])])
    for command, out in outputs.items():
        assert out.exists(), command
        with zipfile.ZipFile(out) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    xml = z.read(name).decode("utf-8")
                    assert "HYPERLINK" not in "".join(re.findall(r"<f>(.*?)</f>", xml)), (command, name)
                    assert "1+1.xlsm" not in "".join(re.findall(r"<f>(.*?)</f>", xml)), (command, name)


SUFFIX = {"recalc": ".xlsm", "export": ".xlsx", "batch": ".xlsx", "audit": ".xlsx", "report": ".docx"}


def _output_args(command: str, target: Path) -> list[str]:
    return [str(a) for a in {"recalc": ["recalc", EXAMPLE, "-o", target], "export": ["export", EXAMPLE, "-o", target],
                             "batch": ["batch", EXAMPLE, "-o", target],
                             "audit": ["audit", EXAMPLE, "--format", "xlsx", "-o", target],
                             "report": ["report", EXAMPLE, "-o", target]}[command]]


@pytest.mark.parametrize("command", list(SUFFIX))
def test_an_output_that_cannot_be_written_is_a_message(command, tmp_path):
    """An output inside a plain file, or a folder where a file is due: Chinese, exit 2, no traceback."""
    plain = tmp_path / "notes.txt"
    plain.write_text("x")
    result = CliRunner().invoke(main, _output_args(command, plain / f"out{SUFFIX[command]}"), catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "错误：" in result.stderr and "不是文件夹" in result.stderr and "Traceback" not in result.output
    if command != "report":  # a report's -o may name a folder to write into
        folder = tmp_path / f"folder{SUFFIX[command]}"
        folder.mkdir()
        result = CliRunner().invoke(main, _output_args(command, folder), catch_exceptions=False)
        assert result.exit_code == 2 and "是文件夹" in result.stderr, result.output


def test_an_unwritable_folder_is_a_message(tmp_path):
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        result = CliRunner().invoke(main, ["recalc", str(EXAMPLE), "-o", str(locked / "x.xlsm")])
        assert result.exit_code == 2 and "无法写入" in result.stderr
    finally:
        locked.chmod(0o700)


def test_an_unexpected_failure_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    import jxtools.recalc

    def explode(path, status=None):
        raise RuntimeError("engine failure")

    monkeypatch.setattr(jxtools.recalc, "recalculate", explode)
    out = tmp_path / "out.xlsm"
    result = CliRunner().invoke(main, ["recalc", str(EXAMPLE), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "shenzhen-sast-2020.xlsm：无法处理（RuntimeError: engine failure）" in result.stderr
    assert not out.exists()


def test_an_unexpected_audit_failure_is_a_row_not_a_traceback(tmp_path, monkeypatch):
    import jxtools.audit

    def explode(data, rubric=None):
        raise KeyError("odd layout")

    monkeypatch.setattr(jxtools.audit, "audit_data", explode)
    result = CliRunner().invoke(main, ["audit", str(EXAMPLE)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "shenzhen-sast-2020.xlsm：无法处理（KeyError: 'odd layout'）" in result.stderr
