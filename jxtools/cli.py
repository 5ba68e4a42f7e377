"""``jx``: recalculate, audit, batch-score and build workbooks without Excel.

Output is Chinese; exit status 0 means all is well, 1 that something
disagrees (or was flagged), 2 that a file could not be read or written.
Input workbooks are only ever read; every output is written atomically.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import click

from .paths import EXAMPLE, ROOT

EXIT_OK, EXIT_DISAGREE, EXIT_UNREADABLE = 0, 1, 2


# ------------------------------------------------------------------ output helpers

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - _width(text), 0)
    return gap + text if right else text + gap


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """A plain-text table that lines up Chinese (double-width) text."""
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(_pad(c, w, i in right) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(headers), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return f"{value:.2f}"
    return str(value)


def _label(value) -> str:
    """A department name or year as written (2020, not 2020.00)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _fmt(value)


def _fail(message: str) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(EXIT_UNREADABLE)


def _guarded(path: Path, action):
    """Run ``action``; any failure becomes a Chinese message naming the file, never a traceback."""
    from .workbook_io import WorkbookError

    try:
        return action()
    except WorkbookError as error:
        _fail(str(error))
    except Exception as error:  # a workbook the engines cannot digest
        _fail(f"{Path(path).name}：无法处理（{type(error).__name__}: {error}）")


def _output_path(src: Path, output: Path | None, suffix: str) -> Path:
    out = output or src.with_name(f"{src.stem}{suffix}{src.suffix}")
    if out.resolve() == src.resolve():
        _fail(f"输出文件不能覆盖输入文件 {src.name}")
    return out


# ------------------------------------------------------------------ commands

# What the headless tools need beyond the minimal install (xlwings, click and the rules).
TOOL_MODULES = {"openpyxl", "formulas", "python_calamine", "defusedxml", "tqdm", "pandas", "numpy", "docx"}


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as error:
            if (error.name or "").split(".")[0] not in TOOL_MODULES:
                raise
            click.echo(f"错误：此命令需要 JX 的无 Excel 工具组件（缺少 {error.name}）。"
                       "请运行：pip install \"jx-selfeval[tools]\"", err=True)
            sys.exit(EXIT_UNREADABLE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """JX 部门整体支出绩效自评：评分规则即代码，无需 Excel 即可重算、复核、批量评分。"""


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="计分后副本的保存位置")
def demo(output: Path | None) -> None:
    """示例：重算深圳市科协 2020 年自评工作簿，打印评分表并保存计分副本。"""
    from .audit import audit_file

    if not EXAMPLE.exists():
        _fail(f"找不到示例工作簿 {EXAMPLE}（请在项目目录中运行，或先执行 jx template）")
    output = output or ROOT / "out" / f"{EXAMPLE.stem}-scored{EXAMPLE.suffix}"
    click.echo(f"示例：{EXAMPLE.relative_to(ROOT)}")
    written = _recalc(EXAMPLE, output)
    report = audit_file(written)
    _print_report(report)
    click.echo(f"\n计分副本已保存：{written}")


def _recalc(src: Path, dst: Path) -> Path:
    from .cached import write_with_values
    from .recalc import recalculate

    result = _guarded(src, lambda: recalculate(src))
    return _guarded(src, lambda: write_with_values(src, result.values, dst))


@main.command()
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="输出文件（默认：原名加 -recalc）")
def recalc(workbook: Path, output: Path | None) -> None:
    """用公式引擎重算工作簿，保存保留公式并带计算结果的副本。"""
    from .recalc import recalculate

    from .cached import write_with_values

    output = _output_path(workbook, output, "-recalc")
    result = _guarded(workbook, lambda: recalculate(workbook))
    _guarded(workbook, lambda: write_with_values(workbook, result.values, output))
    errors = [(s, c, v) for (s, c), v in result.values.items()
              if isinstance(v, str) and (v.startswith("错误：") or v.startswith("#"))]
    if "综合评分" in result.names:
        click.echo(f"综合评分：{_fmt(result.named('综合评分'))}    评分等级：{_fmt(result.named('评分等级'))}")
    for sheet, cell, value in sorted(errors)[:20]:
        click.echo(f"  {sheet}!{cell}：{value}")
    if len(errors) > 20:
        click.echo(f"  ……共 {len(errors)} 个单元格有错误")
    click.echo(f"已保存：{output}")


def _print_report(report) -> None:
    from .audit import deduction_reasons

    if report.error:
        click.echo(f"错误：{report.error}", err=True)
        return
    click.echo(f"\n{report.file}  部门：{_label(report.department)}  年度：{_label(report.year)}")
    rows = []
    for f in report.findings:
        diff = f.difference
        rows.append([f.level1, f.name, f"{f.max:g}", _fmt(f.claimed),
                     _fmt(f.recomputed) if f.error is None else "错误",
                     "" if diff in (None, 0) else f"{diff:+.2f}", f.status,
                     "；".join(f.notes) if f.error else ""])
    click.echo(table(["一级指标", "三级指标", "分值", "填报分数", "复核分数", "差异", "结论", "错误"],
                     rows, right=(2, 3, 4, 5)))
    click.echo(f"\n综合评分：填报 {_fmt(report.claimed_total)}，复核 {_fmt(report.total)}")
    click.echo(f"评分等级：填报 {_fmt(report.claimed_grade)}，复核 {_fmt(report.grade)}")
    click.echo(f"年度绩效指标：共 {report.targets} 项，未达成 {len(report.missed_targets)} 项")
    reasons = deduction_reasons(report)
    if reasons:
        click.echo("\n扣分说明：")
        for i, line in enumerate(reasons, start=1):
            click.echo(f"  {i}. {line}")
    if report.flags:
        click.echo("\n需要注意：")
        for flag in report.flags:
            click.echo(f"  ! {flag}")


@main.command()
@click.argument("workbooks", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx"]), default="table",
              show_default=True, help="输出格式")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="json/xlsx 输出文件（json 默认打印到屏幕）")
def audit(workbooks: tuple[Path, ...], fmt: str, output: Path | None) -> None:
    """复核：按评分规则从输入项重新计算每个指标，与工作簿显示的分数逐项比对。"""
    from .audit import audit_file

    reports = [audit_file(path) for path in workbooks]
    readable = [r for r in reports if not r.error]
    if fmt != "table":
        for r in reports:
            if r.error:
                click.echo(f"错误：{r.error}", err=True)
        if not readable:  # nothing to report on: no output file
            sys.exit(EXIT_UNREADABLE)
    if fmt == "table":
        for report in reports:
            _print_report(report)
    elif fmt == "json":
        text = json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2, default=str)
        if output:
            _write_text(output, text, workbooks)
        else:
            click.echo(text)
    else:
        if output is None:
            _fail("xlsx 格式需要用 -o 指定输出文件")
        from .report_xlsx import audit_workbook

        _write_bytes(output, audit_workbook(reports), workbooks)
        click.echo(f"复核结果已保存：{output}")
    unreadable = any(r.error for r in reports)
    disagree = any(not r.ok for r in reports)
    if len(reports) > 1 or fmt != "table":
        click.echo(f"共 {len(reports)} 个文件：一致 {sum(r.ok for r in reports)}，"
                   f"不一致或需注意 {sum(not r.ok and not r.error for r in reports)}，无法读取 {sum(bool(r.error) for r in reports)}",
                   err=fmt == "json" and output is None)
    sys.exit(EXIT_UNREADABLE if unreadable else EXIT_DISAGREE if disagree else EXIT_OK)


def _guard(output: Path, inputs: Sequence[Path]) -> None:
    if any(output.resolve() == Path(p).resolve() for p in inputs):
        _fail(f"输出文件不能覆盖输入文件 {output.name}")


def _write_text(output: Path, text: str, inputs: Sequence[Path]) -> None:
    _write_bytes(output, text.encode("utf-8"), inputs)


def _write_bytes(output: Path, data: bytes, inputs: Sequence[Path]) -> None:
    from addin.atomic import write_atomically

    _guard(output, inputs)
    write_atomically(output, data)


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="汇总表（.xlsx）")
@click.option("-j", "--jobs", type=int, default=None, help="并行进程数（默认：CPU 核数）")
def batch(sources: tuple[Path, ...], output: Path, jobs: int | None) -> None:
    """批量评分：对目录或文件列表中的每个工作簿复核评分，汇总到一张表。"""
    from .batch import collect, run_batch
    from .report_xlsx import summary_workbook

    files = collect(sources)
    if not files:
        _fail("没有找到 .xlsx/.xlsm 工作簿")
    _guard(output, files)
    reports = run_batch(files, jobs=jobs, progress=True)
    for r in reports:
        if r.error:
            click.echo(f"错误：{r.error}", err=True)
    if all(r.error for r in reports):  # nothing to summarize: no output file
        sys.exit(EXIT_UNREADABLE)
    _write_bytes(output, summary_workbook(reports), files)
    broken = sum(bool(r.error) for r in reports)
    click.echo(f"共 {len(reports)} 个文件，评分完成 {len(reports) - broken}，无法读取 {broken}；汇总表：{output}")
    sys.exit(EXIT_UNREADABLE if broken else EXIT_DISAGREE if any(not r.ok for r in reports) else EXIT_OK)


@main.command()
@click.option("--check", is_flag=True, help="只检查已提交的模板和示例是否与重新生成的一致")
@click.option("--rubric", "edition", help="为这个评分标准版本生成模板：已安装版本的 id，或版本文件（.toml）")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="模板的保存位置（.xlsm，与 --rubric 一起用）")
def template(check: bool, edition: str | None, output: Path | None) -> None:
    """由代码和评分标准数据生成模板：默认重新生成 workbook_template.xlsm 及示例工作簿。"""
    if edition is not None:
        _template_for(edition, output)
        return
    from .build import build_all, stale

    if check:
        problems = stale()
        for line in problems:
            click.echo(f"过期：{line}")
        sys.exit(EXIT_DISAGREE if problems else EXIT_OK)
    for path in build_all():
        click.echo(f"已生成：{path.relative_to(ROOT)}")


def _template_for(edition: str, output: Path | None) -> None:
    from addin.template import build
    from jx.rubric import RubricError, load_file, load_rubric

    if output is None:
        _fail("用 --rubric 生成模板时需要 -o 指定输出文件（.xlsm）")
    if output.suffix.lower() != ".xlsm":
        _fail(f"{output.name}：模板含宏，应保存为 .xlsm 文件")
    try:
        rubric = load_file(edition) if edition.lower().endswith(".toml") else load_rubric(edition)
    except RubricError as error:
        _fail(str(error))
    build(output, rubric=rubric)
    click.echo(f"已生成：{output}（评分标准：{rubric.title}，版本 {rubric.id}）")
    installed = _installed_ids()
    if rubric.id not in installed:
        click.echo(f"注意：本机未安装版本“{rubric.id}”。要在 Excel 中计分或用 jx 复核，请把版本文件放进 "
                   f"JX_RUBRIC_PATH 指定的文件夹。")


def _installed_ids() -> list[str]:
    from jx.rubric import editions

    return editions()


@main.group()
def rubric() -> None:
    """评分标准版本：列出本机已安装的版本，检查一个版本文件。"""


@rubric.command("list")
def rubric_list() -> None:
    """列出已安装的评分标准版本（随安装提供的，以及 JX_RUBRIC_PATH 中的）。"""
    from jx.rubric import editions, load_rubric, origin

    rows = []
    for edition in editions():
        r = load_rubric(edition)
        title = r.title + ("（测试用）" if r.fixture and "测试" not in r.title else "")
        rows.append([r.id, str(r.year), title, str(len(r.indicators)),
                     origin(edition)])
    click.echo(table(["版本", "年度", "名称", "指标数", "来源"], rows))


@rubric.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def rubric_check(file: Path) -> None:
    """检查一个评分标准版本文件：列出全部问题及所在行。"""
    from jx.rubric import check_file

    if not file.is_file():
        _fail(f"{file.name}：文件不存在")
    problems = check_file(file)
    if not problems:
        click.echo(f"{file.name}：未发现问题。")
        sys.exit(EXIT_OK)
    click.echo(f"{file.name}：发现 {len(problems)} 处问题")
    for line in problems:
        click.echo(f"  {line}")
    sys.exit(EXIT_DISAGREE)


@main.command()
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="无宏副本（.xlsx，默认：原名加 -native）")
def export(workbook: Path, output: Path | None) -> None:
    """导出不需要 Python 的副本：每个 JX 函数换成等价的普通公式，无宏。"""
    from .export import export_workbook

    output = output or workbook.with_name(f"{workbook.stem}-native.xlsx")
    _guard(output, [workbook])
    _guarded(workbook, lambda: export_workbook(workbook, output))
    click.echo(f"已导出：{output}")


@main.command()
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
def doctor(workbook: Path | None) -> None:
    """自检：这台电脑的 Python 能否为 Excel 计分（Python、xlwings、pywin32、udfs、评分标准版本）。

    不给 WORKBOOK 时检查随附的模板。退出码：0 全部通过，1 有检查未通过，2 工作簿无法读取。
    """
    from .doctor import run

    sys.exit(run(workbook, click.echo))


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="一个工作簿：报告文件（.docx，默认原名加 -report）；文件夹或多个工作簿：输出文件夹（必填）")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 转换为 PDF（与 .docx 同名）")
@click.option("-j", "--jobs", type=int, default=None, help="批量时的并行进程数（默认：CPU 核数）")
def report(sources: tuple[Path, ...], output: Path | None, pdf: bool, jobs: int | None) -> None:
    """起草自评报告：按评分规则复核工作簿，生成《部门整体绩效自评报告》Word 文档。

    \b
    jx report 工作簿.xlsm [-o 报告.docx] [--pdf]
    jx report 文件夹 -o 输出文件夹 [--pdf]     每个工作簿一份报告
    报告中的分数、比率、金额、扣分和总分都来自复核计算（同 jx audit）；
    “报告文字”表中未填写的部分留出【待填写：…】标记，不代写；
    复核发现的矛盾列在报告开头的“需要注意”框中，提交前须逐条核对。
    \b
    退出码：0 已生成，无需要注意的事项；
            1 已生成，但“需要注意”框列出了矛盾或与复核不符之处（同 jx audit）；
            2 工作簿无法读取或输入有误（该工作簿不生成报告），或无法写出文件、转换 PDF。
    """
    from .batch import collect
    from .report_docx import batch_paths, draft_file, output_paths, run_drafts, write_pdfs
    from .soffice import SofficeError

    if len(sources) == 1 and not sources[0].is_dir():
        source = sources[0]
        try:
            docx, pdf_path = output_paths(source, output, pdf)
        except ValueError as error:
            _fail(str(error))
        draft = draft_file(source)
        if draft.error:
            _fail(draft.error)
        _write_bytes(docx, draft.document, [source])
        click.echo(f"自评报告已保存：{docx}")
        if pdf_path is not None:
            try:
                write_pdfs([(docx, pdf_path)])
            except SofficeError as error:
                _fail(f"{error}（Word 文档已保存：{docx}）")
            click.echo(f"PDF 已保存：{pdf_path}")
        if draft.blanks:
            click.echo(f"报告中有 {draft.blanks} 处【待填写】：可在工作簿“报告文字”表中填写后重新生成，或在 Word 中补充。")
        if draft.notices:
            click.echo("\n需要注意（已列在报告开头）：")
            for line in draft.notices:
                click.echo(f"  ! {line}")
        sys.exit(EXIT_DISAGREE if draft.notices else EXIT_OK)

    files = collect(sources)
    if not files:
        _fail("没有找到 .xlsx/.xlsm 工作簿")
    if output is None:
        _fail("文件夹或多个工作簿时需要用 -o 指定输出文件夹")
    if output.exists() and not output.is_dir():
        _fail(f"{output}：已存在且不是文件夹")
    targets = batch_paths(files, sources, output)
    errors, written, flagged = [], [], 0
    for draft in run_drafts(files, jobs=jobs, progress=True):
        if draft.error:
            errors.append(draft.error)
            continue
        _write_bytes(targets[draft.path], draft.document, files)
        written.append(targets[draft.path])
        flagged += bool(draft.notices)
    for line in errors:
        click.echo(f"错误：{line}", err=True)
    if pdf and written:
        try:
            write_pdfs([(docx, docx.with_suffix(".pdf")) for docx in written], progress=True)
        except SofficeError as error:
            _fail(f"{error}（Word 文档已保存在 {output}）")
    click.echo(f"共 {len(files)} 个文件：已生成报告 {len(written)}（其中需要注意 {flagged}），"
               f"无法生成 {len(errors)}；保存在：{output}")
    sys.exit(EXIT_UNREADABLE if errors else EXIT_DISAGREE if flagged else EXIT_OK)


if __name__ == "__main__":
    main()
