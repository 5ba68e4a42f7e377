"""`jx doctor` and the template's self-check macro (issue 13), on Linux.

* ``jx doctor``: every check made to fail (monkeypatched) prints its Chinese line and exits 1;
  all holding exits 0; an unreadable workbook exits 2; the minimal install (no openpyxl, pandas,
  defusedxml, calamine, oletools) still runs.
* ``JxSelfCheck``: the ``jx_selfcheck`` module, built into a VBA project and read back by olevba,
  parses without syntax errors (antlr4-vba after vba_precompiler resolves ``#If Win64``), its
  Chinese texts decode to the Python diagnosis list, its ``JxDiagnose`` rules are the Python
  rules in the same order (run in miniature and compared with :func:`addin.selfcheck.diagnose`),
  and its expected values are what ``udfs`` computes.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
import types
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from oletools.olevba import VBA_Parser

import udfs
from addin import selfcheck
from addin.selfcheck import CAUSES, MODULE_NAME, RESULT_NAME, diagnose, selfcheck_module, troubleshooting_rows
from addin.template import build
from addin.vba import build_vba_project, document_module, module_from_bas
from addin.vba_parts import edition_source, xlwings_package_dir
from addin.xlwings_meta import udf_meta
from conftest import FIXTURE, ROOT, SHENZHEN
from jx.errors import JXInputError
from jx.rubric import load_rubric
from jxtools import doctor
from jxtools.cli import main
from support.uno_edit import UNO_PRELUDE, uno_python
from support.vba_syntax import syntax_errors

PIN = importlib.metadata.version("xlwings")


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["doctor", *[str(a) for a in args]], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A fresh template (the committed one may be mid-rebuild by others)."""
    return build(tmp_path_factory.mktemp("doctor") / "template.xlsm", rubric=load_rubric(SHENZHEN))


@pytest.fixture()
def use_template(template, monkeypatch) -> Path:
    monkeypatch.setattr(doctor, "TEMPLATE", template)
    return template


def _rewrite(src: Path, dst: Path, edit) -> Path:
    """A copy of a workbook with ``edit(name, data) -> data | None`` applied to each part (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)
    return dst


# ------------------------------------------------------------------ jx doctor: everything holds


def test_all_checks_pass_exit_0(use_template):
    code, out = run()
    assert code == 0, out
    for line in ("[通过] Python 版本", "[通过] xlwings 版本", "[跳过（非 Windows）]", "[通过] JX（udfs 模块）",
                 "[通过] 工作簿的 VBA：按 xlwings", "[通过] 函数签名", "[通过] 评分标准版本",
                 "[通过] 工作簿的评分标准版本"):
        assert line in out, line
    assert out.count("跳过（非 Windows）") == 1  # one line says so
    assert "全部通过" in out and "未通过" not in out


def test_a_named_workbook_is_checked(template):
    code, out = run(template)
    assert code == 0, out
    assert f"{template.name} 记录的版本“{SHENZHEN}”已安装" in out


@pytest.fixture()
def windows(monkeypatch, tmp_path):
    """A Windows that has everything: both DLLs, pywin32, the COM server, pythonw beside python."""
    env = tmp_path / "venv"
    (env / "Scripts").mkdir(parents=True)
    for name in (f"xlwings64-{PIN}.dll", f"xlwings32-{PIN}.dll"):
        (env / name).write_bytes(b"MZ")
    for name in ("python.exe", "pythonw.exe"):
        (env / "Scripts" / name).write_bytes(b"MZ")
    fake = {"pywintypes", "pythoncom", "win32com.client", "xlwings.com_server"}
    real = doctor._import_module
    state = types.SimpleNamespace(env=env, broken=set())

    def import_module(name):
        if name in state.broken:
            raise ImportError(f"No module named '{name}'")
        return types.ModuleType(name) if name in fake else real(name)

    monkeypatch.setattr(doctor, "_is_windows", lambda: True)
    monkeypatch.setattr(doctor, "_import_module", import_module)
    monkeypatch.setattr(doctor, "_dll_dirs", lambda: [env])
    monkeypatch.setattr(doctor, "_user_base", lambda: tmp_path / "user")
    monkeypatch.setattr(doctor, "_executable", lambda: env / "Scripts" / "python.exe")
    monkeypatch.setattr(doctor, "_which", lambda name: str(env / "Scripts" / f"{name}.exe"))
    monkeypatch.setattr(doctor, "_user_config", lambda: tmp_path / "home" / ".xlwings" / "xlwings.conf")
    return state


def test_all_windows_checks_pass_exit_0(use_template, windows):
    code, out = run()
    assert code == 0, out
    assert "跳过（非 Windows）" not in out
    assert f"[通过] xlwings DLL：{windows.env} 中有 xlwings64-{PIN}.dll 和 xlwings32-{PIN}.dll" in out
    assert "[通过] pywin32" in out
    assert "[通过] xlwings 的 COM 服务" in out and "不需要注册表项" in out
    assert "[通过] Excel 会启动的 Python：未设置解释器，按 PATH 查找 pythonw" in out


# ------------------------------------------------------------------ jx doctor: each check failing


def _fails(line: str, remedy: str | None = None, *args) -> str:
    code, out = run(*args)
    assert code == 1, out
    assert line in out, out
    if remedy:
        assert f"怎么办：{remedy}" in out, out
    assert "项未通过" in out
    return out


def test_python_too_old(use_template, monkeypatch):
    monkeypatch.setattr(doctor, "_version_info", lambda: (3, 10, 4))
    _fails("[未通过] Python 版本：3.10.4，低于 3.11", "安装 Python 3.11 或更高版本")


def test_xlwings_other_version(use_template, monkeypatch):
    real = doctor._dist_version
    monkeypatch.setattr(doctor, "_dist_version", lambda name: "0.30.0" if name == "xlwings" else real(name))
    out = _fails(f"[未通过] xlwings 版本：已安装 0.30.0，模板的 VBA 按 {PIN} 生成", f'python -m pip install "xlwings=={PIN}"')
    assert f"[未通过] 工作簿的 VBA：按 xlwings {PIN} 生成，本机装的是 0.30.0" in out


def test_xlwings_missing(use_template, monkeypatch):
    real = doctor._dist_version
    monkeypatch.setattr(doctor, "_dist_version", lambda name: None if name == "xlwings" else real(name))
    _fails(f"[未通过] xlwings 版本：未安装（JX 需要 {PIN}）")


def test_dll_missing(use_template, windows):
    (windows.env / f"xlwings32-{PIN}.dll").unlink()
    _fails(f"[未通过] xlwings DLL：在 {windows.env} 中找不到 xlwings32-{PIN}.dll（32 位 Office需要）",
           f'python -m pip install --force-reinstall "xlwings=={PIN}"')


def test_dll_in_the_user_base_is_not_found_by_excel(use_template, windows, tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    for bits in ("64", "32"):
        (windows.env / f"xlwings{bits}-{PIN}.dll").rename(user / f"xlwings{bits}-{PIN}.dll")
    _fails(f"在用户目录 {user} 中（pip install --user 装的），Excel 在那里找不到", "不带 --user 重新安装")


def test_pywin32_missing(use_template, windows):
    windows.broken.add("pythoncom")
    out = _fails("[未通过] pywin32：import pythoncom 失败（ImportError: No module named 'pythoncom'）",
                 "python -m pip install --force-reinstall pywin32")
    assert "[跳过] xlwings 的 COM 服务：pywin32 不可用" in out


def test_com_server_fails(use_template, windows):
    windows.broken.add("xlwings.com_server")
    _fails("[未通过] xlwings 的 COM 服务：import xlwings.com_server 失败")


def test_excel_would_start_another_python(use_template, windows, monkeypatch, tmp_path):
    other = tmp_path / "Python310"
    other.mkdir()
    (other / "pythonw.exe").write_bytes(b"MZ")
    monkeypatch.setattr(doctor, "_which", lambda name: str(other / f"{name}.exe"))
    _fails(f"[未通过] Excel 会启动的 Python：未设置解释器，按 PATH 查找 pythonw：{other / 'pythonw.exe'}，"
           "不是运行 jx doctor 的", "在装了 JX 的这个 Python 中运行 xlwings config create --force")


def test_pythonw_not_on_path(use_template, windows, monkeypatch):
    monkeypatch.setattr(doctor, "_which", lambda name: None)
    _fails("[未通过] Excel 会启动的 Python：未设置解释器，按 PATH 查找 pythonw：PATH 中没有 pythonw.exe")


def test_user_config_names_a_missing_interpreter(use_template, windows, tmp_path):
    conf = tmp_path / "home" / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text('"INTERPRETER_WIN","C:\\Old\\pythonw.exe"\n"USE UDF SERVER","False"\n', encoding="utf-8")
    _fails("[未通过] Excel 会启动的 Python：xlwings 设置的 Interpreter_Win：C:\\Old\\pythonw.exe 不存在")


def test_user_config_naming_this_python_passes(use_template, windows, tmp_path):
    conf = tmp_path / "home" / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(f'"INTERPRETER_WIN","{windows.env / "Scripts" / "pythonw.exe"}"\n', encoding="utf-8")
    code, out = run()
    assert code == 0, out
    assert "[通过] Excel 会启动的 Python：xlwings 设置的 Interpreter_Win" in out


def test_udfs_not_importable(use_template, monkeypatch):
    real = doctor._import_module

    def import_module(name):
        if name == "udfs":
            raise ModuleNotFoundError("No module named 'udfs'")
        return real(name)

    monkeypatch.setattr(doctor, "_import_module", import_module)
    out = _fails("[未通过] JX（udfs 模块）：import udfs 失败（ModuleNotFoundError: No module named 'udfs'）",
                 "用这个 Python 安装随模板分发的 JX 安装包")
    assert "[跳过] 函数签名：udfs 无法导入" in out


def test_wrapper_signature_differs_from_udfs(use_template, monkeypatch):
    real = doctor.read_vba

    def read_vba(path):
        modules = dict(real(path))
        modules["xlwings_udfs"] = (modules["xlwings_udfs"]
                                   .replace("Function JX_GRADE(total)", "Function JX_GRADE(total, Optional extra)")
                                   .replace("Function JX_STAFF_SCORE(", "Function JX_STAFF_SCOREX("))
        return modules

    monkeypatch.setattr(doctor, "read_vba", read_vba)
    out = _fails("JX_GRADE 在工作簿中为（total, Optional extra），在 udfs 中为（total）",
                 "安装与模板配套的 JX 安装包")
    assert "udfs 中没有 JX_STAFF_SCOREX" in out


def test_signatures_are_those_excel_sees():
    """Hidden parameters (caller, edition) are not compared; an argument with a default is Optional."""
    assert doctor.python_signature(udfs.JX_STAFF_RATIO) == (("outside", True), ("on_staff", True))
    assert doctor.vba_signatures("Function JX_STAFF_RATIO(Optional outside, Optional on_staff)\n") == {
        "JX_STAFF_RATIO": (("outside", True), ("on_staff", True))}
    wrappers = udf_meta(load_rubric(SHENZHEN)).wrapper_source
    for name, signature in doctor.vba_signatures(wrappers).items():
        assert doctor.python_signature(getattr(udfs, name)) == signature, name


def test_without_oletools_the_vba_check_is_skipped(use_template, monkeypatch):
    monkeypatch.setattr(doctor, "read_vba", lambda path: None)
    code, out = run()
    assert code == 0, out
    assert "[跳过] 函数签名：未安装 oletools，无法读取工作簿中的 VBA（python -m pip install oletools）" in out


def test_without_a_template_the_vba_check_is_skipped(monkeypatch, tmp_path):
    monkeypatch.setattr(doctor, "TEMPLATE", tmp_path / "workbook_template.xlsm")
    code, out = run()
    assert code == 0, out
    assert "[跳过] 函数签名：未找到模板 workbook_template.xlsm；可指定工作簿" in out


def test_a_workbook_without_macros_needs_no_python(template, tmp_path):
    plain = _rewrite(template, tmp_path / "native.xlsx", lambda n, d: None if n.endswith("vbaProject.bin") else d)
    code, out = run(plain)
    assert code == 0, out
    assert "不含宏" in out


def test_broken_edition_file(use_template, monkeypatch, tmp_path):
    folder = tmp_path / "editions"
    folder.mkdir()
    (folder / "broken.toml").write_text('[edition]\nid = "broken-2030"\n', encoding="utf-8")
    (folder / "notes.toml").write_text('inputs = 1\n', encoding="utf-8")  # not an edition: ignored
    monkeypatch.setenv("JX_RUBRIC_PATH", f"{ROOT / 'tests' / 'editions'}{__import__('os').pathsep}{folder}")
    out = _fails("[未通过] 评分标准版本：已安装 ", "用 jx rubric check 文件.toml 查看并改正")
    assert "broken.toml 有 " in out and "notes.toml" not in out


def test_rubric_path_folder_missing(use_template, monkeypatch, tmp_path):
    monkeypatch.setenv("JX_RUBRIC_PATH", str(tmp_path / "nowhere"))
    _fails(f"JX_RUBRIC_PATH 中的文件夹 {tmp_path / 'nowhere'} 不存在")


def _edition_cell(template: Path, dst: Path, new: str | None) -> Path:
    def edit(name, data):
        if name == "xl/workbook.xml" and new is None:
            return re.sub(rb'<definedName name="\xe8\xaf\x84\xe5\x88\x86\xe6\xa0\x87\xe5\x87\x86\xe7\x89\x88\xe6\x9c\xac"'
                          rb"[^<]*</definedName>", b"", data)
        if name.startswith("xl/worksheets/") and new is not None:
            return data.replace(f"<t>{SHENZHEN}</t>".encode(), f"<t>{new}</t>".encode())
        return data

    return _rewrite(template, dst, edit)


def test_workbook_edition_not_installed(template, tmp_path):
    other = _edition_cell(template, tmp_path / "other.xlsm", "nowhere-2030")
    assert doctor.named_value(other, "评分标准版本") == "nowhere-2030"
    _fails("[未通过] 工作簿的评分标准版本：other.xlsm 记录的版本“nowhere-2030”本机没有安装",
           "安装与模板配套的 JX 安装包", other)


def test_workbook_without_the_edition_name(template, tmp_path):
    other = _edition_cell(template, tmp_path / "unnamed.xlsm", None)
    _fails("[未通过] 工作簿的评分标准版本：unnamed.xlsm 中没有名为“评分标准版本”的单元格", None, other)


def test_unreadable_workbook_exit_2(tmp_path):
    code, out = run(tmp_path / "missing.xlsm")
    assert code == 2 and "错误：missing.xlsm：文件不存在" in out
    junk = tmp_path / "junk.xlsm"
    junk.write_bytes(b"not a workbook")
    code, out = run(junk)
    assert code == 2 and "错误：junk.xlsm：" in out
    assert "[通过] Python 版本" in out  # the environment is still checked


def test_the_minimal_install_is_enough(template):
    """No openpyxl, pandas, defusedxml, calamine or oletools: doctor still runs and says what it skipped."""
    blocked = ["openpyxl", "pandas", "defusedxml", "python_calamine", "oletools", "formulas", "numpy"]
    script = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "from jxtools.cli import main\n"
        "try:\n"
        f"    main(['doctor', {str(template)!r}])\n"
        "except SystemExit as stop:\n"
        f"    loaded = [n for n in {blocked!r} if sys.modules.get(n) is not None]\n"
        "    print('loaded:', loaded)\n"
        "    raise\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[跳过] 函数签名：未安装 oletools" in done.stdout
    assert f"[通过] 工作簿的评分标准版本：template.xlsm 记录的版本“{SHENZHEN}”已安装" in done.stdout
    assert "loaded: []" in done.stdout


def test_the_pins_are_pyprojects():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert f"xlwings=={doctor.xlwings_pin()}" in project["dependencies"]
    assert doctor.xlwings_pin() == PIN
    least = selfcheck.MIN_PYTHON
    assert project["requires-python"] == f">={least[0]}.{least[1]}"


# ------------------------------------------------------------------ the diagnosis rules (Python side)

DLL32, DLL64 = sorted(set(re.findall(r'XLPyDLLName As String = "([^"]+)"',
                                     (xlwings_package_dir() / "xlwings.bas").read_text(encoding="cp1252"))))
DISP_E_EXCEPTION = -2147352567  # Err.Number of any Python exception raised through pywin32


def _udfs_message(call) -> str:
    """What a JX wrapper hands VBA when udfs refuses: the short Chinese cell text."""
    with pytest.raises(JXInputError) as error:
        call()
    return error.value.cell_text


def _import_error(name: str) -> str:
    try:
        __import__(name)
    except ModuleNotFoundError as error:
        return f"Traceback (most recent call last):\n  ...\nModuleNotFoundError: {error}"
    raise AssertionError(name)


# (Err.Description, Err.Number) as each cause arrives in VBA, and the cause it must be given.
SAMPLES = [
    (f"File not found: {DLL64}", 53, "dll_missing"),
    (f"文件未找到: {DLL32}", 53, "dll_missing"),  # zh-CN Excel words VBA's own errors in Chinese
    (f"Could not load {DLL64} from either of the following folders: \r\nC:\\Python\r\n, C:\\", 1, "dll_missing"),
    ("Error in loading DLL", 48, "dll_missing"),
    # the next three are strings of xlwings64-0.37.8.dll itself (XLPyDLLActivateAuto → Err 1000)
    ("Could not create Python process.\nError message: The system cannot find the file specified.", 1000,
     "python_not_found"),
    ("Could not activate Python COM server, hr = -2147221164 1000", 1000, "python_not_found"),
    ("Python process exited before it was possible to create the interface object.", 1000, "python_exited"),
    ("ModuleNotFoundError: No module named 'xlwings'", DISP_E_EXCEPTION, "python_exited"),
    ("ModuleNotFoundError: No module named 'win32com'", DISP_E_EXCEPTION, "pywin32"),
    ("ImportError: DLL load failed while importing pythoncom: The specified module could not be found.",
     DISP_E_EXCEPTION, "pywin32"),
    ("ModuleNotFoundError: No module named 'tomllib'", DISP_E_EXCEPTION, "python_old"),
    (_import_error("udfs_not_installed_here"), DISP_E_EXCEPTION, "udfs_missing"),
    ("ModuleNotFoundError: No module named 'udfs'", DISP_E_EXCEPTION, "udfs_missing"),
    ("Object required", 424, "version_mismatch"),
    ("要求对象", 424, "version_mismatch"),
    (_udfs_message(lambda: udfs.JX_GRADE(90, edition="nowhere-2030")), DISP_E_EXCEPTION, "edition_missing"),
    (_udfs_message(lambda: udfs.JX_EXEC_SCORE(1, 1, 1, 1, edition=FIXTURE)), DISP_E_EXCEPTION, "result_mismatch"),
    ("AttributeError: module 'udfs' has no attribute 'JX_NEW_SCORE'", DISP_E_EXCEPTION, "result_mismatch"),
    ("Automation error", -2147221164, "unknown"),
    ("", 0, "unknown"),
]
SHEET_ONLY = {"macros_disabled", "motw_blocked"}  # a macro that cannot run cannot report these


def test_every_cause_is_diagnosed():
    covered = {key for _d, _n, key in SAMPLES}
    assert covered | SHEET_ONLY == {c.key for c in CAUSES}
    for description, number, key in SAMPLES:
        assert diagnose(description, number).key == key, (description, number)


def test_sheet_only_causes_have_no_rules_and_are_on_the_sheet():
    rows = troubleshooting_rows()
    for c in CAUSES:
        assert (c.symptom, c.cause, c.remedy) in rows
        assert all(rows_text.strip() for rows_text in (c.symptom, c.cause, c.remedy))
        assert bool(c.numbers or c.patterns) == (c.key not in SHEET_ONLY | {"unknown"}), c.key
    assert selfcheck.TROUBLESHOOTING_HEADER == ("症状", "可能原因", "怎么办")
    assert "解除锁定" in selfcheck.cause("motw_blocked").remedy
    assert "启用内容" in selfcheck.cause("macros_disabled").remedy
    assert DLL64 in selfcheck.cause("dll_missing").symptom and DLL32 in selfcheck.cause("dll_missing").symptom


def test_the_udfs_messages_still_say_what_the_rules_look_for():
    assert "本机没有评分标准版本" in _udfs_message(lambda: udfs.JX_GRADE(90, edition="nowhere-2030"))


# ------------------------------------------------------------------ the VBA module, read back


def _procedures(code: str) -> dict[str, list[str]]:
    out, current = {}, None
    for line in code.split("\n"):
        if m := re.match(r"(?:Public |Private )?(?:Sub|Function) (\w+)\(", line):
            current = m.group(1)
            out[current] = [line]
        elif current:
            out[current].append(line)
            if re.match(r"End (Sub|Function)$", line):
                current = None
    return out


def _decode(expression: str) -> str:
    """Evaluate a `"..." & ChrW(&H....&)` expression the way VBA would (as in test_template_vba)."""
    out = []
    for literal, code in re.findall(r'"((?:[^"]|"")*)"|ChrW\(&H([0-9A-F]+)&?\)', expression):
        out.append(chr(int(code, 16)) if code else literal.replace('""', '"'))
    return "".join(out)


def _assignments(lines, variable: str):
    """Run `v = expr` / `v = v & expr` statements: yields (case label or None, text) per completed value."""
    value, label = None, None
    for line in (l.strip() for l in lines):
        if m := re.fullmatch(r"Case (\d+)", line):
            if value is not None:
                yield label, value
            label, value = int(m.group(1)), None
        elif line.startswith(f"{variable} = {variable} & "):
            value += _decode(line[len(f"{variable} = {variable} & "):])
        elif line.startswith(f"{variable} = "):
            value = _decode(line[len(f"{variable} = "):])
    if value is not None:
        yield label, value


class Module:
    """The jx_selfcheck module as olevba reads it back, decoded."""

    def __init__(self, code: str):
        self.code = code
        self.procedures = _procedures(code)
        self.texts = {}
        for name, lines in self.procedures.items():
            if re.fullmatch(r"JxText\d+", name):
                self.texts.update(dict(_assignments(lines, "t")))

    def expr(self, expression: str):
        expression = expression.strip()
        if m := re.fullmatch(r"JxText\((\d+)\)", expression):
            return self.texts[int(m.group(1))]
        if m := re.fullmatch(r"CDbl\((-?\d+)\)", expression):
            return float(m.group(1))
        if expression in ("True", "False"):
            return expression == "True"
        if expression.startswith('"'):
            return _decode(expression)
        return float(expression)

    def cause_texts(self) -> dict[tuple[int, int], str]:
        out = {}
        for line in self.procedures["JxCauseText"]:
            if m := re.fullmatch(r"\s*Case (\d+): JxCauseText = (.*)", line):
                key = int(m.group(1))
                out[(key // 10, key % 10)] = self.expr(m.group(2))
        return out

    def rules(self) -> tuple[list[tuple[int, str, object]], int]:
        """JxDiagnose as data: (cause index, "numbers"|"pattern", value) in order, and the fallback."""
        rules, pattern, fallback = [], None, None
        for line in (l.strip() for l in self.procedures["JxDiagnose"]):
            if m := re.fullmatch(r"If ((?:errNum = -?\d+(?: Or )?)+) Then JxDiagnose = (\d+): Exit Function", line):
                rules.append((int(m.group(2)), "numbers", tuple(int(n) for n in re.findall(r"-?\d+", m.group(1)))))
            elif line.startswith("p = p & "):
                pattern += _decode(line[len("p = p & "):])
            elif line.startswith("p = "):
                pattern = _decode(line[len("p = "):])
            elif m := re.fullmatch(r"If InStr\(1, errDesc, p, vbTextCompare\) > 0 Then JxDiagnose = (\d+): "
                                   r"Exit Function", line):
                rules.append((int(m.group(1)), "pattern", pattern))
            elif m := re.fullmatch(r"JxDiagnose = (\d+)", line):
                fallback = int(m.group(1))
        return rules, fallback

    def diagnose(self, description: str, number: int) -> int:
        """JxDiagnose in miniature (vbTextCompare: case-insensitive)."""
        rules, fallback = self.rules()
        for index, kind, value in rules:
            if kind == "numbers" and number in value:
                return index
            if kind == "pattern" and value.casefold() in description.casefold():
                return index
        return fallback

    def cases(self) -> list[tuple[str, tuple, object]]:
        """The calls JxSelfCheck makes: (function, arguments, expected)."""
        out, args, expected = [], {}, None
        for line in (l.strip() for l in self.procedures["JxSelfCheck"]):
            if m := re.fullmatch(r"a(\d) = (.*)", line):
                args[int(m.group(1))] = self.expr(m.group(2))
            elif m := re.fullmatch(r"expected = (.*)", line):
                expected = self.expr(m.group(1))
            elif m := re.match(r"If Not JxTry_(\w+)\(([^)]*), res, errDesc, errNum\)", line):
                count = len(m.group(2).split(","))
                out.append((m.group(1), tuple(args[i] for i in range(1, count + 1)), expected))
        return out


def _read_back(tmp: Path, rubric) -> str:
    project = build_vba_project([document_module("ThisWorkbook", "workbook"), selfcheck_module(rubric)])
    path = tmp / "vbaProject.bin"
    path.write_bytes(project)
    parser = VBA_Parser(str(path))
    try:
        modules = {stream.split("/")[-1]: code.replace("\r\n", "\n") for _f, stream, _n, code in parser.extract_macros()}
    finally:
        parser.close()
    assert set(modules) == {"ThisWorkbook", MODULE_NAME}
    assert modules[MODULE_NAME].startswith(f'Attribute VB_Name = "{MODULE_NAME}"\n')
    return modules[MODULE_NAME]


@pytest.fixture(scope="module", params=[SHENZHEN, FIXTURE])
def built(request, tmp_path_factory) -> tuple[object, Module]:
    rubric = load_rubric(request.param)
    return rubric, Module(_read_back(tmp_path_factory.mktemp("selfcheck"), rubric))


def test_olevba_reads_back_the_source_written(built):
    rubric, module = built
    body = module.code.split("\n", 1)[1]
    assert body.rstrip("\n") == selfcheck.selfcheck_source(rubric).rstrip("\n")
    assert all(len(line) < 1023 and line.isascii() for line in module.code.split("\n"))


def test_the_macro_is_the_only_public_procedure(built):
    _rubric, module = built
    public = [l for l in module.code.split("\n") if re.match(r"(Public )?(Sub|Function) ", l)]
    assert public == [f"Public Sub {selfcheck.MACRO_NAME}()"]  # Alt+F8 lists it; no helper becomes a UDF
    assert "Option Private Module" not in module.code  # that would hide the macro from Alt+F8


def test_the_vba_texts_are_the_python_diagnosis_list(built):
    _rubric, module = built
    texts = module.cause_texts()
    assert len(texts) == 3 * len(CAUSES)
    for index, c in enumerate(CAUSES, start=1):
        assert (texts[(index, 1)], texts[(index, 2)], texts[(index, 3)]) == (c.symptom, c.cause, c.remedy), c.key
    decoded = set(module.texts.values())
    for needed in (RESULT_NAME, selfcheck.PASS, selfcheck.FAIL, "    可能原因：", "    怎么办：", "    原始信息："):
        assert needed in decoded


def test_the_vba_rules_are_the_python_rules(built):
    _rubric, module = built
    rules, fallback = module.rules()
    expected = []
    for index, c in enumerate(CAUSES, start=1):
        if c.numbers:
            expected.append((index, "numbers", c.numbers))
        expected += [(index, "pattern", p) for p in c.patterns]
    assert rules == expected
    assert CAUSES[fallback - 1].key == "unknown"
    for description, number, key in SAMPLES:
        assert CAUSES[module.diagnose(description, number) - 1].key == key, description


def test_each_failure_explains_its_cause(built):
    """Each JxFailCause names the cause the Python list has for it (indices are 1-based positions)."""
    _rubric, module = built
    keys = [c.key for c in CAUSES]
    main = "\n".join(module.procedures["JxSelfCheck"])
    named = [int(n) for n in re.findall(r"JxFailCause check, .*?, (\d+)$", main, re.M)]
    assert [keys[n - 1] for n in named] == ["python_old", "version_mismatch", "edition_missing", "edition_missing"]
    assert re.search(r"JxExplain (\d+)", "\n".join(module.procedures["JxFailResult"])).group(1) == str(
        keys.index("result_mismatch") + 1)


def test_expected_values_are_what_udfs_computes(built):
    rubric, module = built
    cases = module.cases()
    grades = [c for c in cases if c[0] == "JX_GRADE"]
    labels = {band.label for band in rubric.grade.bands}
    assert {expected for _f, _a, expected in grades} == labels  # every band is reached
    for lower in (b.lower for b in rubric.grade.bands if b.lower is not None):
        assert (float(lower),) in [a for _f, a, _e in grades]  # both sides of every boundary
    assert any(f == "JX_TARGET_MET" and e is True for f, _a, e in cases)
    assert any(f == "JX_TARGET_MET" and e is False for f, _a, e in cases)
    for function, args, expected in cases:
        assert getattr(udfs, function)(*args, edition=rubric.id) == expected, (function, args)


def test_the_shenzhen_grade_of_96_51_is_excellent():
    assert udfs.JX_GRADE(96.51, edition=SHENZHEN) == "优"


def test_calls_reach_only_what_the_template_defines(built):
    """Every name the module uses from other modules exists there, with the arity it calls."""
    rubric, module = built
    xlwings_bas = (xlwings_package_dir() / "xlwings.bas").read_text(encoding="cp1252")
    assert re.search(r"^Function XLPy\(\)", xlwings_bas, re.M)
    assert re.search(r"^Function GetConfig\(configKey As String, Optional default As String = \"\"", xlwings_bas, re.M)
    assert "Public Const XLWINGS_VERSION As String" in xlwings_bas
    assert "Public Function JxEdition() As String" in edition_source()
    wrappers = doctor.vba_signatures(module_from_bas(udf_meta(rubric).wrapper_source).source)
    for function, args, _e in module.cases():
        assert len(wrappers[function]) == len(args), function
    own = set(module.procedures)
    used = set(re.findall(r"\b(Jx\w+)\b", module.code)) - {"JxEdition"}
    assert used <= own | {"JxSelfCheck"}, used - own


def _declared(module: Module) -> dict[str, set[str]]:
    """Per procedure: its parameters, its Dim'd names and the module-level names (for Option Explicit)."""
    module_level = set(re.findall(r"^Private (?:Const )?(\w+)", module.code, re.M)) - {"Function", "Sub"}
    out = {}
    for name, lines in module.procedures.items():
        header = re.match(r"(?:Public |Private )?(?:Sub|Function) \w+\((.*)\)", lines[0]).group(1)
        params = {p.split()[-3] if " As " in p else p.split()[-1] for p in filter(None, header.split(", "))}
        dims = set()
        for line in lines:
            if m := re.match(r"\s*Dim (.*)", line):
                dims |= {part.split()[0] for part in m.group(1).split(", ")}
        out[name] = params | dims | module_level | {name}
    return out


def test_every_assigned_variable_is_declared(built):
    """A light Option Explicit check: no assignment to a name the procedure does not declare."""
    _rubric, module = built
    declared = _declared(module)
    target = re.compile(r"(?:^\s*|Then |Else |: )(?:Set )?([A-Za-z]\w*)(?:\([^()]*\))? = ")
    for name, lines in module.procedures.items():
        for line in lines[1:]:
            if line.strip().startswith("'"):
                continue
            for variable in target.findall(line):
                assert variable in declared[name], f"{name}: {line.strip()}"


# ------------------------------------------------------------------ VBA syntax (antlr4-vba)


@pytest.fixture(scope="module")
def shenzhen_code(tmp_path_factory) -> str:
    return _read_back(tmp_path_factory.mktemp("syntax"), load_rubric(SHENZHEN))


def test_the_module_parses_without_syntax_errors(shenzhen_code):
    pytest.importorskip("antlr4_vba")
    pytest.importorskip("vba_precompiler")
    assert syntax_errors(shenzhen_code, win64=True) == []
    # The 32-bit branch differs from the 64-bit one only in the DLL's name.
    branches = re.search(r"#If Win64 Then\n(.*?)#Else\n(.*?)#End If", shenzhen_code, re.S).groups()
    assert branches[0].replace("64", "32") == branches[1]


def test_the_parser_does_catch_errors():
    """So that a clean parse means something: small broken modules are refused."""
    pytest.importorskip("antlr4_vba")
    pytest.importorskip("vba_precompiler")
    good = 'Attribute VB_Name = "m"\nSub A()\n    If 1 = 1 Then\n        x = 1\n    End If\nEnd Sub\n'
    assert syntax_errors(good, win64=True) == []
    assert syntax_errors(good.replace("    End If\n", ""), win64=True)
    assert syntax_errors(good.replace("x = 1", 'x = "a'), win64=True)


# ------------------------------------------------------------------ JxSelfCheck run in LibreOffice's Basic (VBA mode)
#
# Excel is the only proof, but LibreOffice runs VBA too: JxSelfCheck is run there against stub
# modules standing in for xlwings (XLPy, GetConfig, XLWINGS_VERSION), its Python object and the
# xlwings_udfs wrappers, each scenario raising what Excel would. The lines it writes into the
# block named 自检结果 are compared with the Python diagnosis list.

_RUNNER = UNO_PRELUDE + r'''
docs, macro, sheet, first, rows, out, work = sys.argv[1].split(os.pathsep), *sys.argv[2:4], int(sys.argv[4]), \
    int(sys.argv[5]), sys.argv[6], sys.argv[7]
soffice, desktop = start(work, macros=True)
try:
    results = {}
    for path in docs:
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0,
                                           (prop("Hidden", True), prop("MacroExecutionMode", 4)))
        error = None
        try:
            doc.getScriptProvider().getScript(
                f"vnd.sun.star.script:{macro}?language=Basic&location=document").invoke((), (), ())
        except Exception as e:
            error = repr(e)
        cells = doc.Sheets.getByName(sheet)
        results[path] = {"error": error,
                         "lines": [cells.getCellByPosition(0, first - 1 + i).getString() for i in range(rows)]}
        doc.close(True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False)
finally:
    stop(soffice, desktop)
'''

_ANCHOR_ROW = 10
DISP = -2147352567
EXECUTABLE = "C:\\Python311\\pythonw.exe"
_PYTHON_OK = {
    "__import__('sys').executable": EXECUTABLE,
    "'%d.%d.%d' % __import__('sys').version_info[:3]": "3.11.7",
    "str(__import__('sys').version_info >= (3, 11))": "True",
    "__import__('xlwings').__version__": PIN,
    "__import__('udfs').__name__": "udfs",
    "__import__('importlib.metadata', fromlist=['version']).version('jx-selfeval')": "0.1.0",
    "str(e in __import__('jx.rubric', fromlist=['editions']).editions())": "True",
    "', '.join(__import__('jx.rubric', fromlist=['editions']).editions())": SHENZHEN,
}


def _vba_value(value) -> str:
    """A VBA statement body returning ``value``, or raising it: ("raise", number, description)."""
    from addin.vba import vba_unicode_expr

    if isinstance(value, tuple):
        return f"Err.Raise {value[1]}, , {vba_unicode_expr(value[2])}"
    if isinstance(value, bool):
        return f"Result = {value}"
    return f"Result = {vba_unicode_expr(value)}"


def _stub_workbook(path: Path, rubric, *, xlpy=None, python=None, grade=None) -> Path:
    """A workbook with the real jx_selfcheck and jx_edition, and stubs for xlwings, its Python and the wrappers."""
    import openpyxl
    from openpyxl.workbook.defined_name import DefinedName

    from addin.template import _vba_archive
    from addin.vba import VbaModule

    evals = {**_PYTHON_OK, **(python or {})}
    cases = "\n".join(f"    Case {_vba_literal(e)}\n        {_vba_value(v).replace('Result', 'Eval')}"
                      for e, v in evals.items())
    connect = _vba_value(xlpy) if xlpy else "Set XLPy = New PyStub"
    stub = ("Option Explicit\n"
            f'Public Const XLWINGS_VERSION As String = "{PIN}"\n\n'
            f"Function XLPy()\n    {connect}\nEnd Function\n\n"
            'Function GetConfig(configKey As String, Optional default As String = "", Optional source As String = "")'
            " As Variant\n    GetConfig = default\nEnd Function\n")
    python_object = ("Option Explicit\n"
                     "Public Function Str(x As Variant) As String\n    Str = x\nEnd Function\n"
                     "Public Function Dict(a As Variant, b As Variant) As Variant\n    Dict = Empty\nEnd Function\n"
                     "Public Function Eval(expr As String, Optional d As Variant) As Variant\n"
                     f"    Select Case expr\n{cases}\n    End Select\nEnd Function\n")
    labels = []
    for band in sorted(rubric.grade.bands, key=lambda b: -(b.lower if b.lower is not None else -1e9)):
        condition = f"total >= {band.lower}" if band.lower is not None else "True"
        labels.append(f"    If {condition} Then\n        {_vba_value(band.label).replace('Result', 'JX_GRADE')}\n"
                      "        Exit Function\n    End If")
    grading = "\n".join(labels) if grade is None else "    " + _vba_value(grade).replace("Result", "JX_GRADE")
    wrappers = (f"Function JX_GRADE(total)\n{grading}\nEnd Function\n\n"
                "Function JX_TARGET_MET(target, actual)\n    JX_TARGET_MET = (actual < 1)\nEnd Function\n")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填报说明"
    ws.sheet_properties.codeName = "Sheet1"
    wb.code_name = "ThisWorkbook"
    ws["H2"] = rubric.id
    wb.defined_names[RESULT_NAME] = DefinedName(RESULT_NAME, attr_text=f"'填报说明'!$A${_ANCHOR_ROW}")
    wb.defined_names["评分标准版本"] = DefinedName("评分标准版本", attr_text="'填报说明'!$H$2")
    modules = [document_module("ThisWorkbook", "workbook"), document_module("Sheet1", "worksheet"),
               VbaModule("xlwings", "standard", stub), VbaModule("PyStub", "class", python_object),
               VbaModule("xlwings_udfs", "standard", wrappers), VbaModule("jx_edition", "standard", edition_source()),
               selfcheck_module(rubric)]
    wb.vba_archive = _vba_archive(build_vba_project(modules))
    wb.save(path)
    return path


def _vba_literal(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _explained(key: str) -> list[str]:
    c = selfcheck.cause(key)
    return [f"    可能原因：{c.cause}", f"    怎么办：{c.remedy}"]


SCENARIOS = {
    "ok": ({}, lambda r: [
        f"【通过】连接 Python：{EXECUTABLE}", "【通过】Python 版本：3.11.7", f"【通过】xlwings 版本：{PIN}",
        "【通过】JX（udfs 模块）：jx-selfeval 0.1.0", f"【通过】评分标准版本：{r.id} 已安装",
        "【通过】JX_GRADE 计分测试：", "【通过】JX_TARGET_MET 计分测试：2 个测试值", "【信息】全部通过"]),
    "dll": ({"xlpy": ("raise", 53, f"File not found: {DLL64}")}, lambda r: [
        "【未通过】连接 Python：启动 Python 出错", *_explained("dll_missing"), f"    原始信息：53 File not found: {DLL64}",
        "【信息】其余检查需要先连上 Python，已跳过", "【信息】有 1 项未通过"]),
    "exited": ({"xlpy": ("raise", 1000, "Python process exited before it was possible to create the interface "
                                        "object.")}, lambda r: [
        "【未通过】连接 Python：启动 Python 出错", *_explained("python_exited")]),
    "udfs": ({"python": {"__import__('udfs').__name__": ("raise", DISP, "Traceback (most recent call last):\n"
                                                          "ModuleNotFoundError: No module named 'udfs'")}}, lambda r: [
        "【未通过】JX（udfs 模块）：import udfs 出错", *_explained("udfs_missing"),
        f"    原始信息：{DISP} Traceback (most recent call last): / ModuleNotFoundError: No module named 'udfs'",
        "【信息】计分测试需要 JX，已跳过", "【信息】有 1 项未通过"]),
    "old": ({"python": {"'%d.%d.%d' % __import__('sys').version_info[:3]": "3.10.2",
                        "str(__import__('sys').version_info >= (3, 11))": "False"}}, lambda r: [
        "【未通过】Python 版本：3.10.2，低于 3.11", *_explained("python_old"), "【信息】有 1 项未通过"]),
    "xlwings": ({"python": {"__import__('xlwings').__version__": "0.36.0"}}, lambda r: [
        f"【未通过】xlwings 版本：Python 中为 0.36.0，模板的 VBA 需要 {PIN}", *_explained("version_mismatch")]),
    "edition": ({"python": {"str(e in __import__('jx.rubric', fromlist=['editions']).editions())": "False",
                            "', '.join(__import__('jx.rubric', fromlist=['editions']).editions())": "other-2019"}},
                lambda r: [f"【未通过】评分标准版本：本机没有版本 {r.id}（已安装：other-2019）",
                           *_explained("edition_missing")]),
    "wrong": ({"grade": "中"}, lambda r: [
        f"【未通过】JX_GRADE 计分测试：JX_GRADE(59.99) 应为 差，实际为 中（计分结果不符）", *_explained("result_mismatch"),
        "【通过】JX_TARGET_MET 计分测试"]),
    "raised": ({"grade": ("raise", DISP, f"错误：本机没有评分标准版本“{SHENZHEN}”（已安装：other-2019）")}, lambda r: [
        "【未通过】JX_GRADE 计分测试：JX_GRADE(59.99) 出错", *_explained("edition_missing")]),
}


@pytest.mark.libreoffice
def test_the_self_check_runs_in_libreoffice_basic(tmp_path):
    python = uno_python()
    if python is None:
        pytest.skip("LibreOffice (soffice) with Python-UNO not installed")
    rubric = load_rubric(SHENZHEN)
    paths = {name: _stub_workbook(tmp_path / f"{name}.xlsm", rubric, **stubs)
             for name, (stubs, _lines) in SCENARIOS.items()}
    runner = tmp_path / "runner.py"
    runner.write_text(_RUNNER, encoding="utf-8")
    out = tmp_path / "out.json"
    done = subprocess.run([python, str(runner), __import__("os").pathsep.join(str(p) for p in paths.values()),
                           f"VBAProject.{MODULE_NAME}.{selfcheck.MACRO_NAME}", "填报说明", str(_ANCHOR_ROW),
                           str(selfcheck.RESULT_ROWS + 1), str(out), str(tmp_path / "profile")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    import json

    results = json.loads(out.read_text(encoding="utf-8"))
    for name, (_stubs, expected) in SCENARIOS.items():
        result = results[str(paths[name])]
        assert result["error"] is None, (name, result["error"])
        lines = [line for line in result["lines"] if line]
        assert lines[:2] == [lines[0], "【通过】宏已启用：本检查能运行，说明宏可用"] and lines[0].startswith("【信息】自检时间：")
        assert result["lines"][selfcheck.RESULT_ROWS] == ""  # nothing written below the block
        text = "\n".join(lines)
        position = 0
        for wanted in expected(rubric):  # in this order, each line starting with the text given
            found = next((i for i in range(position, len(lines)) if lines[i].startswith(wanted)), None)
            assert found is not None, f"{name}: {wanted!r} not found after line {position} in\n{text}"
            position = found + 1
