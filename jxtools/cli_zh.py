"""click's own texts in Chinese: usage lines, help headings, error messages.

click marks every text it shows with ``gettext`` (imported into each of its
modules as ``_`` and ``ngettext``); :func:`install` points those names at
this table, so ``Usage:``, ``Show this message and exit.``, ``Missing
argument`` and the rest read in Chinese. A text missing from the table is
shown as click wrote it (a newer click may add some): the CLI tests run
every user-facing path and fail on English words.
"""

from __future__ import annotations

import importlib

import click

TEXTS = {
    "Usage:": "用法：",  # the formatter writes its own (no space after the colon)
    "Options": "选项",
    "Commands": "命令",
    "Arguments": "参数",
    "Show this message and exit.": "显示此帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "Error": "错误",
    "Error: {message}": "错误：{message}",
    "Try {command!r} for help.": "请运行 {command!r} 查看帮助。",
    "Try '{command} {option}' for help.": "请运行“{command} {option}”查看帮助。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing argument {param_hint}.": "缺少参数 {param_hint}。",
    "Missing option {param_hint}.": "缺少选项 {param_hint}。",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "Missing {param_type} {param_hint}.": "缺少{param_type} {param_hint}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option: {name}": "没有选项：{name}",
    "Did you mean {possibility}?": "是否想用 {possibility}？",
    "(Possible options: {possibilities})": "（可能的选项：{possibilities}）",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不接受值。",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "{value!r} is not a valid integer.": "{value!r} 不是整数。",
    "{value!r} is not a valid float.": "{value!r} 不是数字。",
    "{value!r} is not one of {choices}.": "{value!r} 不在可选值 {choices} 之中。",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入。",
    "File": "文件",
    "Directory": "文件夹",
    "Path": "路径",
    "Aborted!": "已中止。",
    "default": "默认",
    "required": "必填",
    "env var": "环境变量",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "Choose from:": "可选：",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "integer": "整数",
    "float": "数字",
    "Value must be an iterable.": "值必须是一组。",
    "Value must have length {len_type}.": "值的个数应为 {len_type}。",
    "Value must have length {len_value}.": "值的个数应为 {len_value}。",
    "Missing command.": "缺少命令。",
    "Positional arguments": "位置参数",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "deprecated": "已弃用",
    "(Did you mean one of: {possibilities}?)": "（是否想用：{possibilities}？）",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "unknown error": "未知错误",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 1 个。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，给了 {len} 个。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "directory": "文件夹",
    "file": "文件",
    "path": "路径",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 不可执行。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否值。可用：{states}",
    "Error: invalid input": "错误：输入无效",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不经询问直接执行。",
}

MODULES = ("click.core", "click.decorators", "click.exceptions", "click.formatting", "click.parser", "click.types",
           "click.termui", "click.utils", "click._termui_impl")


def gettext(message: str) -> str:
    return TEXTS.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


def install() -> None:
    """Make click show its texts in Chinese (idempotent)."""
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a module a click version does not have
            continue
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext


class Formatter(click.HelpFormatter):
    """Help text with Chinese punctuation: ``用法：``, ``选项：``."""

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)


class Context(click.Context):
    formatter_class = Formatter


OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."


def message(error: click.ClickException) -> str:
    """An error's message in Chinese punctuation (click ends some with an English full stop)."""
    text = error.format_message()
    return text[:-1] + "。" if text.endswith(".") else text


def show(error: click.ClickException) -> None:
    """Print a usage error as click does, in Chinese."""
    ctx = getattr(error, "ctx", None)
    hint = ""
    if ctx is not None:
        click.echo(ctx.get_usage(), err=True)
        hint = f"请运行“{ctx.command_path} {ctx.help_option_names[0]}”查看帮助。\n"
    click.echo(f"{hint}\n错误：{message(error)}", err=True)
