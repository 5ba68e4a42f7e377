"""Every class of bad file: a clear Chinese message naming the file, exit 2, no output."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jxtools.build import EXAMPLE
from jxtools.cli import main


def _rezip(src: Path, dst: Path, replace: dict[str, bytes] | None = None, drop: tuple[str, ...] = (),
           add: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as s, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as d:
        for info in s.infolist():
            if info.filename in drop:
                continue
            d.writestr(info.filename, (replace or {}).get(info.filename, s.read(info.filename)))
        for name, data in (add or {}).items():
            d.writestr(name, data)
    return dst


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


def missing_sheet(tmp: Path) -> Path:
    path = tmp / "nosheet.xlsm"
    wb = openpyxl.load_workbook(EXAMPLE, keep_vba=True)
    del wb["评分表"]
    wb.save(path)
    return path


def missing_name(tmp: Path) -> Path:
    path = tmp / "noname.xlsm"
    wb = openpyxl.load_workbook(EXAMPLE, keep_vba=True)
    del wb.defined_names["编外人数"]
    wb.save(path)
    return path


def oversized(tmp: Path) -> Path:
    path = tmp / "huge.xlsx"
    with path.open("wb") as f:
        f.seek(60 * 1024 * 1024)
        f.write(b"\0")
    return path


CASES = {
    not_a_workbook: "不是 Excel 工作簿",
    truncated: "不是 Excel 工作簿（.xlsx/.xlsm）或文件已损坏",
    zip_bomb: "疑似压缩炸弹",
    billion_laughs: "含有 DTD 或实体声明（XML 攻击）",
    external_entity: "含有 DTD 或实体声明（XML 攻击）",
    missing_part: "缺少 xl/workbook.xml",
    password_protected: "文件有密码保护",
    oversized: "文件过大",
}
AUDIT_ONLY = {  # readable files that are not (or no longer) our template
    missing_sheet: "指向的工作表“评分表”不存在",
    missing_name: "缺少名称“编外人数”",
}


def _check(result, path: Path, message: str, outputs: list[Path]) -> None:
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert path.name in result.output
    assert "Traceback" not in result.output
    for out in outputs:
        assert not out.exists()
        assert not out.parent.exists() or not list(out.parent.glob(".*.tmp"))


@pytest.mark.parametrize("make, message", CASES.items(), ids=[f.__name__ for f in CASES])
@pytest.mark.parametrize("command", ["recalc", "audit", "batch", "export"])
def test_bad_file(tmp_path, make, message, command):
    path = make(tmp_path)
    before = path.read_bytes() if path.stat().st_size < 1024 * 1024 else None
    out = tmp_path / "out" / ("summary.xlsx" if command == "batch" else "result.xlsx")
    args = {"recalc": ["recalc", path, "-o", out], "audit": ["audit", path],
            "batch": ["batch", path, "-o", out], "export": ["export", path, "-o", out]}[command]
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    _check(result, path, message, [out] if command != "audit" else [])  # no output for an unreadable input
    if before is not None:
        assert path.read_bytes() == before  # never modified


@pytest.mark.parametrize("make, message", AUDIT_ONLY.items(), ids=[f.__name__ for f in AUDIT_ONLY])
def test_not_our_template(tmp_path, make, message):
    path = make(tmp_path)
    result = CliRunner().invoke(main, ["audit", str(path)], catch_exceptions=False)
    _check(result, path, message, [])


def test_an_unexpected_failure_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    import jxtools.recalc

    def explode(path):
        raise RuntimeError("engine failure")

    monkeypatch.setattr(jxtools.recalc, "recalculate", explode)
    out = tmp_path / "out.xlsm"
    result = CliRunner().invoke(main, ["recalc", str(EXAMPLE), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "shenzhen-sast-2020.xlsm：无法处理（RuntimeError: engine failure）" in result.output
    assert not out.exists()


def test_an_unexpected_audit_failure_is_a_row_not_a_traceback(tmp_path, monkeypatch):
    import jxtools.audit

    def explode(data, rubric=None):
        raise KeyError("odd layout")

    monkeypatch.setattr(jxtools.audit, "audit_data", explode)
    result = CliRunner().invoke(main, ["audit", str(EXAMPLE)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "shenzhen-sast-2020.xlsm：无法处理（KeyError: 'odd layout'）" in result.output
