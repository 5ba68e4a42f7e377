"""``jx``: recalculate, audit, batch-score, report and build workbooks without Excel.

Every text a user sees is Chinese (click's own too: :mod:`jxtools.cli_zh`);
errors go to stderr, one file name per message. Exit codes (also in
``jx --help``): 0 all well; 1 done, but something needs a look (scores that
disagree, inputs the rules refuse, edited formulas, other findings); 2 a
file that cannot be read, or an output that cannot be written; 3 a usage
error (unknown option, missing argument, an output name whose type does not
fit what is written); 130 interrupted (Ctrl-C or SIGTERM), with no partial
file and no worker left behind. Input workbooks are only ever read; every
output is written atomically.

Only click and the paths are imported here: each command imports what it
needs when it runs, so ``jx --help`` and ``jx audit`` start fast.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import click

from . import cli_zh
from .paths import EXAMPLE, ROOT

cli_zh.install()

EXIT_OK, EXIT_DISAGREE, EXIT_UNREADABLE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES = f"""\b
退出码：
  {EXIT_OK}    一切正常
  {EXIT_DISAGREE}    已完成，但有需要核对之处：分数与复核不一致、输入有误、公式被改动等
  {EXIT_UNREADABLE}    文件无法读取（不是本模板生成的工作簿、已损坏、有密码……）或输出无法写入
  {EXIT_USAGE}    用法有误：未知选项、缺少参数、输出文件类型与内容不符
  {EXIT_INTERRUPTED}  已中断（Ctrl-C 或 SIGTERM）：不留下半成品文件和后台进程"""


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


def _fail(message: str, code: int = EXIT_UNREADABLE) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def _usage(message: str) -> None:
    _fail(message, EXIT_USAGE)


def _status(message: str) -> None:
    """A line on stderr before a step that takes a few seconds."""
    click.echo(message, err=True)


def _guarded(path: Path, action):
    """Run ``action``; any failure becomes a Chinese message naming the file, never a traceback."""
    from .workbook_io import WorkbookError

    try:
        return action()
    except WorkbookError as error:
        _fail(str(error))
    except OSError as error:  # writing the output: a full disk, a vanished folder
        _fail(f"{getattr(error, 'filename', None) or Path(path).name}：无法写入（{error.strerror or error}）")
    except Exception as error:  # a workbook the engines cannot digest
        _fail(f"{Path(path).name}：无法处理（{type(error).__name__}: {error}）")


def _check_output(output: Path, suffixes: Iterable[str], what: str, inputs: Sequence[Path] = ()) -> Path:
    """Refuse, before any work, an output that is a folder, unwritable, an input, or of the wrong type."""
    output = Path(output)
    suffixes = tuple(suffixes)
    if any(output.resolve() == Path(p).resolve() for p in inputs):
        _fail(f"输出文件不能覆盖输入文件 {output.name}")
    if output.suffix.lower() not in suffixes:
        _usage(f"{output.name}：{what}应保存为 {' 或 '.join(suffixes)} 文件")
    if output.is_dir():
        _fail(f"{output}：是文件夹，请给出文件名")
    parent = output.parent if str(output.parent) else Path(".")
    existing = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if existing is not None and (not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK)):
        _fail(f"{output}：无法写入（{existing} {'不是文件夹' if not existing.is_dir() else '没有写入权限'}）")
    return output


def _write_bytes(output: Path, data: bytes, inputs: Sequence[Path]) -> None:
    from addin.atomic import write_atomically

    if any(Path(output).resolve() == Path(p).resolve() for p in inputs):
        _fail(f"输出文件不能覆盖输入文件 {Path(output).name}")
    try:
        write_atomically(Path(output), data)
    except OSError as error:
        _fail(f"{output}：无法写入（{error.strerror or error}）")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jx-selfeval")
    except PackageNotFoundError:  # run from a checkout without installing
        return "0+unknown"


# ------------------------------------------------------------------ the group


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class _Command(click.Command):
    context_class = cli_zh.Context

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", cli_zh.OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)


class _Group(click.Group):
    """Chinese errors, our exit codes, SIGTERM as an interrupt, a missing tools extra explained."""

    context_class = cli_zh.Context
    command_class = _Command
    group_class = type

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", cli_zh.OPTIONS_METAVAR)
        kwargs.setdefault("subcommand_metavar", cli_zh.SUBCOMMAND_METAVAR)
        super().__init__(*args, **kwargs)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        previous = signal.getsignal(signal.SIGTERM)
        try:
            signal.signal(signal.SIGTERM, _interrupt)  # finally blocks then remove temporary files
        except ValueError:  # not the main thread
            previous = None
        try:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            cli_zh.show(error)
            sys.exit(EXIT_USAGE)
        except click.ClickException as error:
            click.echo(f"错误：{cli_zh.message(error)}", err=True)
            sys.exit(EXIT_UNREADABLE)
        except (KeyboardInterrupt, click.exceptions.Abort):
            click.echo("\n已中断：未写出半成品文件。", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:  # the reader of our output went away (| head): nothing to say to it
            raise
        except OSError as error:  # temporary files while building an output: a full disk, a removed folder
            where = getattr(error, "filename", None) or "临时文件"
            click.echo(f"错误：{where}：无法读写（{error.strerror or error}）；未写出输出文件。", err=True)
            sys.exit(EXIT_UNREADABLE)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as error:
            if (error.name or "").split(".")[0] not in TOOL_MODULES:
                raise
            click.echo(f"错误：此命令需要 JX 的无 Excel 工具组件（缺少 {error.name}）。"
                       "请运行：pip install \"jx-selfeval[tools]\"", err=True)
            sys.exit(EXIT_UNREADABLE)


# What the headless tools need beyond the minimal install (xlwings, click and the rules).
TOOL_MODULES = {"openpyxl", "formulas", "python_calamine", "defusedxml", "tqdm", "pandas", "numpy", "docx"}


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.version_option(None, "-V", "--version", package_name="jx-selfeval", prog_name="jx",
                      message="%(prog)s %(version)s", help="显示版本号并退出。")
def main() -> None:
    """JX 部门整体支出绩效自评：评分规则即代码，无需 Excel 即可重算、复核、批量评分、起草报告。"""


# ------------------------------------------------------------------ demo, recalc

@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="计分后副本的保存位置（.xlsm）")
def demo(output: Path | None) -> None:
    """示例：重算深圳市科协 2020 年自评工作簿，打印评分表并保存计分副本。

    示例本身含有原报告的矛盾（效果性满分而有指标未达成），会列在“需要注意”中；
    demo 只在示例无法读取或副本无法写入时以非 0 退出。
    """
    if not EXAMPLE.exists():
        _fail(f"找不到示例工作簿 {EXAMPLE}（请在项目目录中运行，或先执行 jx template）")
    output = _check_output(output or ROOT / "out" / f"{EXAMPLE.stem}-scored{EXAMPLE.suffix}", (EXAMPLE.suffix,),
                           "计分副本", [EXAMPLE])
    click.echo(f"示例：{EXAMPLE.relative_to(ROOT)}")
    result, report = _recalculated(EXAMPLE, output)
    _print_report(report)
    click.echo(f"\n计分副本已保存：{output}")


def _recalculated(src: Path, dst: Path):
    """Recalculate ``src`` into ``dst``; the audit of what was written (the copy's own cached values)."""
    from .audit import audit_data
    from .cached import with_values
    from .reading import read_workbook
    from .recalc import recalculate

    result = _guarded(src, lambda: recalculate(src, status=_status))
    package = _guarded(src, lambda: with_values(result.data.package, result.values))
    report = _guarded(src, lambda: audit_data(read_workbook(package, result.data.label)))
    _write_bytes(dst, package, [src])
    return result, report


@main.command()
@click.argument("workbook", metavar="工作簿", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="输出文件（与原文件同类型；默认：原名加 -recalc）")
def recalc(workbook: Path, output: Path | None) -> None:
    """重算工作簿，保存保留公式并带计算结果的副本。

    公式与模板一致时按模板模型直接计算（快）；公式被改动过时用通用公式引擎重算，并说明哪些单元格被改动。
    列出计算结果为错误的公式单元格和需要核对之处。
    """
    from .recalc import ENGINE

    output = _check_output(output or workbook.with_name(f"{workbook.stem}-recalc{workbook.suffix}"),
                           (workbook.suffix.lower(),), "重算副本（与原文件同类型，含宏的 .xlsm 不能存为 .xlsx）",
                           [workbook])
    result, report = _recalculated(workbook, output)
    if "综合评分" in result.names:
        shown = result.named("综合评分")
        click.echo(f"综合评分：{_fmt(shown)}    评分等级：{_fmt(result.named('评分等级'))}")
        if report.total is not None and not (isinstance(shown, float) and abs(shown - report.total) < 0.005):
            click.echo(f"按评分规则复核：综合评分应为 {_fmt(report.total)}，评分等级 {report.grade}"
                       "（工作簿中有数值或公式与模板不同，见“需要注意”）")
    if result.engine == ENGINE:
        click.echo("计算方式：工作簿的公式与模板不同，已用通用公式引擎重算")
    errors = sorted((s, c, v) for (s, c), v in result.values.items()
                    if (s, c) in result.formulas and _is_error_value(v))
    if errors:
        click.echo(f"\n计算结果为错误的公式单元格（{len(errors)} 个）：")
        for sheet, cell, value in errors[:20]:
            click.echo(f"  {sheet}!{cell}：{value}")
        if len(errors) > 20:
            click.echo(f"  ……共 {len(errors)} 个")
    _print_flags(report.flags)
    click.echo(f"\n已保存：{output}")
    sys.exit(EXIT_OK if not report.flags and not errors else EXIT_DISAGREE)


def _is_error_value(value) -> bool:
    from jx.errors import CELL_PREFIX
    from jx.values import ERROR_NAMES

    return isinstance(value, str) and (value.startswith(CELL_PREFIX) or value in ERROR_NAMES)


# ------------------------------------------------------------------ audit, batch

def _print_flags(flags: Sequence[str]) -> None:
    if flags:
        click.echo("\n需要注意：")
        for flag in flags:
            click.echo(f"  ! {flag}")


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
    unjudged = f"，无法判定 {len(report.unjudged_targets)} 项" if report.unjudged_targets else ""
    click.echo(f"年度绩效指标：共 {report.targets} 项，未达成 {len(report.missed_targets)} 项{unjudged}")
    reasons = deduction_reasons(report)
    if reasons:
        click.echo("\n扣分说明：")
        for i, line in enumerate(reasons, start=1):
            click.echo(f"  {i}. {line}")
    _print_flags(report.flags)


AUDIT_FORMATS = {"table": None, "json": ".json", "xlsx": ".xlsx"}


@main.command()
@click.argument("workbooks", nargs=-1, required=True, metavar="工作簿...", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(list(AUDIT_FORMATS)), default=None,
              help="输出格式：table 表格（默认）、json、xlsx；给了 -o 而未给格式时按文件扩展名")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="json/xlsx 输出文件（json 默认打印到屏幕）")
def audit(workbooks: tuple[Path, ...], fmt: str | None, output: Path | None) -> None:
    """复核：按评分规则从输入项重新计算每个指标，与工作簿显示的分数逐项比对。"""
    from .audit import audit_file

    if fmt is None:
        fmt = next((f for f, suffix in AUDIT_FORMATS.items() if output and suffix == output.suffix.lower()), "table")
    if fmt == "table" and output is not None:
        _usage(f"{output.name}：复核结果可保存为 .json 或 .xlsx（表格格式只打印到屏幕）")
    if fmt == "xlsx" and output is None:
        _usage("xlsx 格式需要用 -o 指定输出文件")
    if output is not None:
        _check_output(output, (AUDIT_FORMATS[fmt],), f"{fmt} 格式的复核结果", workbooks)
    from .batch import ordered_map

    from .audit import UNREADABLE, conclusion

    # Streamed: each report is printed or reduced to its table rows as it arrives; the reports themselves
    # are never kept (the xlsx still holds its rows until it is written: a few KB a file).
    counts: Counter = Counter()
    disagree = False

    def reports():
        nonlocal disagree
        for r in ordered_map(audit_file, list(workbooks), progress="复核" if len(workbooks) > 1 else None):
            counts[conclusion(r)] += 1
            disagree = disagree or not r.ok
            if r.error and fmt != "table":
                click.echo(f"错误：{r.error}", err=True)
            yield r

    if fmt == "table":
        for report in reports():
            _print_report(report)
    elif fmt == "json":
        # json.dumps of the whole list, written one report at a time
        parts = [textwrap.indent(json.dumps(r.to_dict(), ensure_ascii=False, indent=2, default=str), "  ")
                 for r in reports()]
        text = "[\n" + ",\n".join(parts) + "\n]" if parts else "[]"
        if counts[UNREADABLE] == len(parts):  # nothing to report on: no output
            sys.exit(EXIT_UNREADABLE)
        if output:
            _write_bytes(output, text.encode("utf-8"), workbooks)
        else:
            click.echo(text)
    else:
        from .report_xlsx import audit_workbook

        data = audit_workbook(reports())
        if counts[UNREADABLE] == sum(counts.values()):  # nothing to report on: no output file
            sys.exit(EXIT_UNREADABLE)
        _write_bytes(output, data, workbooks)
        click.echo(f"复核结果已保存：{output}")
    total = sum(counts.values())
    if total > 1 or fmt != "table":
        click.echo(f"共 {total} 个文件：{_counted(counts)}", err=fmt == "json" and output is None)
    sys.exit(EXIT_UNREADABLE if counts[UNREADABLE] else EXIT_DISAGREE if disagree else EXIT_OK)


@main.command()
@click.argument("sources", nargs=-1, required=True, metavar="工作簿或文件夹...", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="汇总表：.xlsx（汇总、排名、等级分布、指标扣分、重复）或 .csv（汇总一张表）")
@click.option("-j", "--jobs", type=int, default=None, metavar="进程数", help="并行进程数（默认：CPU 核数）")
def batch(sources: tuple[Path, ...], output: Path, jobs: int | None) -> None:
    """批量评分：对文件夹或文件列表中的每个工作簿复核评分，汇总到一张表。"""
    from .batch import collect, run_batch
    from .audit import AGREES, UNREADABLE, conclusion
    from .report_xlsx import summary_csv, summary_workbook

    files = collect(sources)
    if not files:
        _fail("没有找到 .xlsx/.xlsm 工作簿")
    _check_output(output, (".xlsx", ".csv"), "汇总表", files)
    counts: Counter = Counter()

    def reports():
        for r in run_batch(files, jobs=jobs, progress=True):
            counts[conclusion(r)] += 1
            if r.error:
                click.echo(f"错误：{r.error}", err=True)
            yield r

    build = summary_csv if output.suffix.lower() == ".csv" else summary_workbook
    data = build(reports())
    total = sum(counts.values())
    if counts[UNREADABLE] == total:  # nothing to summarize: no output file
        sys.exit(EXIT_UNREADABLE)
    _write_bytes(output, data, files)
    click.echo(f"共 {total} 个文件：{_counted(counts)}；汇总表：{output}")
    sys.exit(EXIT_UNREADABLE if counts[UNREADABLE] else EXIT_OK if counts[AGREES] == total else EXIT_DISAGREE)


def _counted(counts) -> str:
    """一致 3，分数不一致 1，…: every conclusion the files got, in the bureau workbook's order."""
    from .audit import CONCLUSIONS

    return "，".join(f"{c} {counts[c]}" for c in reversed(CONCLUSIONS) if counts[c] or c == CONCLUSIONS[-1])


# ------------------------------------------------------------------ template, rubric, export

@main.command()
@click.option("--check", is_flag=True, help="只检查已提交的模板和示例是否与重新生成的一致")
@click.option("--rubric", "edition", help="为这个评分标准版本生成模板：已安装版本的 id，或版本文件（.toml）")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="模板的保存位置（.xlsm，与 --rubric 一起用）")
def template(check: bool, edition: str | None, output: Path | None) -> None:
    """由代码和评分标准数据生成模板：默认重新生成 workbook_template.xlsm 及示例工作簿。"""
    if edition is not None:
        _template_for(edition, output)
        return
    if output is not None:
        _usage("-o 只与 --rubric 一起使用")
    from .build import build_all, stale

    if check:
        _status("正在重新生成模板和示例以比对……")
        problems = stale()
        for line in problems:
            click.echo(f"过期：{line}")
        click.echo("模板和示例与代码、数据一致。" if not problems else "请运行 jx template 重新生成。")
        sys.exit(EXIT_DISAGREE if problems else EXIT_OK)
    _status("正在生成模板和示例……")
    for path in build_all():
        click.echo(f"已生成：{path.relative_to(ROOT)}")


def _template_for(edition: str, output: Path | None) -> None:
    from jx.rubric import RubricError, load_file, load_rubric

    if output is None:
        _usage("用 --rubric 生成模板时需要 -o 指定输出文件（.xlsm）")
    _check_output(output, (".xlsm",), "模板（含宏）")
    try:
        rubric = load_file(edition) if edition.lower().endswith(".toml") else load_rubric(edition)
    except RubricError as error:
        _fail(str(error))
    from addin.template import build

    _status("正在生成模板……")
    _guarded(output, lambda: build(output, rubric=rubric))
    click.echo(f"已生成：{output}（评分标准：{rubric.title}，版本 {rubric.id}）")
    from jx.rubric import editions

    if rubric.id not in editions():
        click.echo(f"注意：本机未安装版本“{rubric.id}”。要在 Excel 中计分或用 jx 复核，请把版本文件放进 "
                   f"JX_RUBRIC_PATH 指定的文件夹。")


@main.group()
def rubric() -> None:
    """评分标准版本：列出本机已安装的版本，检查一个版本文件。"""


@rubric.command("list")
def rubric_list() -> None:
    """列出已安装的评分标准版本（随安装提供的，以及 JX_RUBRIC_PATH 中的）。"""
    from jx.rubric import RubricError, editions, load_rubric, origin

    rows = []
    try:
        for edition in editions():
            r = load_rubric(edition)
            title = r.title + ("（测试用）" if r.fixture and "测试" not in r.title else "")
            rows.append([r.id, str(r.year), title, str(len(r.indicators)), origin(edition)])
    except RubricError as error:
        _fail(str(error))
    click.echo(table(["版本", "年度", "名称", "指标数", "来源"], rows))


@rubric.command("check")
@click.argument("file", metavar="版本文件", type=click.Path(path_type=Path))
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
@click.argument("workbook", metavar="工作簿", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="无宏副本（.xlsx，默认：原名加 -native）")
def export(workbook: Path, output: Path | None) -> None:
    """导出不需要 Python 的副本：每个 JX 函数换成等价的普通公式，无宏。"""
    from .audit import trusted
    from .export import export_data

    output = _check_output(output or workbook.with_name(f"{workbook.stem}-native.xlsx"), (".xlsx",),
                           "无宏副本", [workbook])
    data, report = _guarded(workbook, lambda: trusted(workbook))
    _status("正在导出无宏副本……")
    _guarded(workbook, lambda: export_data(data, output))
    click.echo(f"已导出：{output}")
    errors = [f"{f.name}：{f.notes[0] if f.notes else f.error}" for f in report.findings if f.error]
    _print_flags(errors + report.flags)
    sys.exit(EXIT_DISAGREE if errors or report.flags else EXIT_OK)


@main.command()
@click.argument("workbook", required=False, metavar="[工作簿]", type=click.Path(path_type=Path))
def doctor(workbook: Path | None) -> None:
    """自检：这台电脑的 Python 能否为 Excel 计分（Python、xlwings、pywin32、udfs、评分标准版本）。

    不给 WORKBOOK 时检查随附的模板。退出码：0 全部通过，1 有检查未通过，2 工作簿无法读取。
    """
    from .doctor import run

    sys.exit(run(workbook, click.echo))


@main.command()
@click.argument("sources", nargs=-1, required=True, metavar="工作簿或文件夹...", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="一个工作簿：报告文件（.docx，默认原名加 -report）；文件夹或多个工作簿：输出文件夹（必填）")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 转换为 PDF（与 .docx 同名）")
@click.option("-j", "--jobs", type=int, default=None, metavar="进程数", help="批量时的并行进程数（默认：CPU 核数）")
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
        if output is not None and output.resolve() == source.resolve():
            _fail(f"输出文件不能覆盖输入文件 {source.name}")
        try:
            docx, pdf_path = output_paths(source, output, pdf)
        except ValueError as error:
            _usage(str(error))
        _check_output(docx, (".docx",), "自评报告", [source])
        draft = draft_file(source)
        if draft.error:
            _fail(draft.error)
        _write_bytes(docx, draft.document, [source])
        click.echo(f"自评报告已保存：{docx}")
        if pdf_path is not None:
            _status("正在用 LibreOffice 转换 PDF……")
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
        _usage("文件夹或多个工作簿时需要用 -o 指定输出文件夹")
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
