"""The template's VBA project, read back by independent parsers."""

from __future__ import annotations

import re
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from oletools.olevba import VBA_Parser

from addin.layout import layout
from addin.selfcheck import MODULE_NAME as SELFCHECK_MODULE
from addin.template import build
from addin.vba_parts import EDITION_MODULE, PRINT_MODULE, REGISTER_MODULE, edition_functions, xlwings_package_dir
from addin.xlwings_meta import udf_meta
from conftest import FIXTURE, SHENZHEN, needs_libreoffice
from jx.rubric import load_rubric
from jxtools.build import EXAMPLE, TEMPLATE

RUBRIC = load_rubric(SHENZHEN)
META = udf_meta(RUBRIC)
SHEETS = layout(RUBRIC).sheets


def _modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {stream.split("/")[-1]: code.replace("\r\n", "\n")
                for _f, stream, _name, code in parser.extract_macros()}
    finally:
        parser.close()


@pytest.fixture(scope="module")
def modules() -> dict[str, str]:
    return _modules(TEMPLATE)


def _body(text: str) -> str:
    """A module's code without its module-level Attribute header."""
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and lines[0].startswith("Attribute VB_"):
        lines.pop(0)
    return "\n".join(lines).rstrip("\n")


def test_every_module_is_there(modules):
    expected = {"ThisWorkbook", *[code for _t, code in SHEETS], "xlwings", "Dictionary", "xlwings_udfs",
                REGISTER_MODULE, EDITION_MODULE, PRINT_MODULE, SELFCHECK_MODULE}
    assert set(modules) == expected


def test_xlwings_modules_are_the_pinned_packages_own(modules):
    package = xlwings_package_dir()
    assert _body(modules["xlwings"]) == _body((package / "xlwings.bas").read_text(encoding="cp1252"))
    cls = (package / "addin" / "Dictionary.cls").read_text(encoding="cp1252").replace("\r\n", "\n")
    cls_code = cls.split("Attribute VB_Exposed = True\n", 1)[1].split("\n", 1)[1]  # after the header lines
    assert _body(modules["Dictionary"]).endswith(cls_code.rstrip("\n"))
    assert 'Attribute VB_Name = "Dictionary"' in modules["Dictionary"]


def test_wrappers_are_what_xlwings_generates_from_udfs_today(modules):
    """A signature change in udfs without rebuilding the template fails here."""
    assert _body(modules["xlwings_udfs"]) == _body(META.wrapper_source)
    for function in META.functions:
        assert f"Function {function.name}(" in modules["xlwings_udfs"]


def test_document_modules_match_the_code_names(modules):
    assert "0{00020819-0000-0000-C000-000000000046}" in modules["ThisWorkbook"]
    for _title, code_name in SHEETS:
        assert "0{00020820-0000-0000-C000-000000000046}" in modules[code_name]


def _decode(expression: str) -> str:
    """Evaluate a `"..." & ChrW(&H....&)` expression the way VBA would."""
    out = []
    for literal, code in re.findall(r'"((?:[^"]|"")*)"|ChrW\(&H([0-9A-F]+)&?\)', expression):
        out.append(chr(int(code, 16)) if code else literal.replace('""', '"'))
    return "".join(out)


def _registrations(code: str) -> dict[str, tuple[str, str, list[str]]]:
    """Run JxRegisterFunctions in miniature: function → (description, category, argument docs)."""
    variables: dict[str, str] = {}
    args: dict[int, str] = {}
    found = {}
    for line in (l.strip() for l in code.split("\n")):
        if m := re.fullmatch(r"(category|description|args\((\d+)\)) = (.*)", line):
            name, index, expression = m.groups()
            appended = expression.startswith(f"{name} & ")
            text = _decode(expression[len(name) + 3:] if appended else expression)
            if index is not None:
                i = int(index)
                args[i] = (args.get(i, "") if appended else "") + text
            else:
                variables[name] = (variables.get(name, "") if appended else "") + text
        elif line.startswith("ReDim args"):
            args = {}
        elif m := re.match(r'Application\.MacroOptions Macro:=book & "(\w+)"', line):
            found[m.group(1)] = (variables["description"], variables["category"], [args[i] for i in sorted(args)])
    return found


def _check_registrations(code: str, rubric) -> None:
    assert "Sub Auto_Open()" in code and "ThisWorkbook.Saved = True" in code
    registered = _registrations(code)
    functions = edition_functions(rubric)
    assert set(registered) == {f.name for f in functions}
    for function in functions:
        description, category, docs = registered[function.name]
        assert description == function.summary[:255]
        assert category == "JX 绩效自评"
        assert docs == [a.doc[:255] for a in function.args]


def test_function_wizard_gets_the_chinese_descriptions_on_open(modules):
    _check_registrations(modules[REGISTER_MODULE], RUBRIC)


def test_every_wrapper_passes_the_workbooks_edition(modules):
    wrappers = modules["xlwings_udfs"]
    for function in edition_functions(RUBRIC):
        body = wrappers.split(f"Function {function.name}(")[1].split("End Function")[0]
        assert "JxEdition())" in body, function.name
    edition = modules[EDITION_MODULE]
    assert "Option Private Module" in edition and "Public Function JxEdition() As String" in edition
    assert _decode(next(l.split("=", 1)[1] for l in edition.split("\n") if l.strip().startswith("name ="))) == "评分标准版本"
    assert "ThisWorkbook.Names(name).RefersToRange.Value" in edition


@pytest.fixture(scope="module")
def fixture_modules(tmp_path_factory) -> dict[str, str]:
    path = build(tmp_path_factory.mktemp("vba") / "county.xlsm", rubric=load_rubric(FIXTURE))
    return _modules(path)


def test_another_editions_template_carries_its_own_functions(fixture_modules):
    """The fixture's wrappers and descriptions are its own, read back by olevba; no Shenzhen function."""
    rubric = load_rubric(FIXTURE)
    wrappers = fixture_modules["xlwings_udfs"]
    names = {f.name for f in edition_functions(rubric)}
    assert set(re.findall(r"^Function (JX_\w+)\(", wrappers, re.M)) == names
    assert "Function JX_TC_HALF_SCORE(h1, h2)" in wrappers
    assert "JX_EXEC_SCORE" not in wrappers
    _check_registrations(fixture_modules[REGISTER_MODULE], rubric)
    assert _body(fixture_modules["xlwings_udfs"]) == _body(udf_meta(rubric).wrapper_source)


def test_sources_are_codepage_safe_and_lines_short():
    with zipfile.ZipFile(TEMPLATE) as z:
        assert "xl/vbaProject.bin" in z.namelist()
    for name, code in _modules(TEMPLATE).items():
        code.encode("cp1252")
        assert max(len(line) for line in code.split("\n")) <= 1023, name


def test_example_carries_the_same_project():
    assert _modules(EXAMPLE) == _modules(TEMPLATE)


@needs_libreoffice()
@pytest.mark.libreoffice
def test_libreoffice_reads_every_standard_module():
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                        "--convert-to", "ods", "--outdir", tmp, str(TEMPLATE)],
                       check=True, capture_output=True, timeout=180)
        with zipfile.ZipFile(Path(tmp) / "workbook_template.ods") as ods:
            names = set(ods.namelist())
            for module in ("xlwings", "xlwings_udfs", REGISTER_MODULE):
                part = f"Basic/VBAProject/{module}.xml"
                assert part in names
            assert "JX_EXEC_SCORE" in ods.read("Basic/VBAProject/xlwings_udfs.xml").decode("utf-8")
