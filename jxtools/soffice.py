"""Convert documents to PDF with LibreOffice (``soffice --headless --convert-to pdf``).

Each run gets a throwaway user profile in a temporary folder
(``-env:UserInstallation``), so it never touches the user's own LibreOffice
settings and two runs can work side by side; a timeout stops the whole
process group. The inputs are staged under plain ASCII names (soffice and
some shells trip on Chinese or spaced file names) and only read; the caller
writes the PDFs where it wants them. Errors are :class:`SofficeError`, in Chinese.

Fonts: a document set in 宋体/黑体 (what Windows and WPS have) finds neither
on Linux, and fontconfig's default would pick the Japanese forms of Noto CJK.
Each run therefore gets a fontconfig file of its own (the system's, plus
aliases) that maps the Chinese Windows fonts to Noto CJK **SC**, Simplified
Chinese glyphs, when installed (Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

DEFAULT_TIMEOUT = 180.0  # seconds for one soffice run
BATCH_SIZE = 50  # documents per soffice run
PDF_FILTER = "pdf:writer_pdf_Export"
SYSTEM_FONTS_CONF = Path("/etc/fonts/fonts.conf")
# The fonts of Chinese Windows/WPS documents, and the Simplified Chinese fonts to use for them.
_SERIF = ("Noto Serif CJK SC", "Source Han Serif SC", "Source Han Serif CN", "AR PL UMing CN")
_SANS = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei")
FONT_ALIASES = {
    **{name: _SERIF for name in ("宋体", "SimSun", "新宋体", "NSimSun", "仿宋", "FangSong", "仿宋_GB2312",
                                 "FangSong_GB2312", "楷体", "KaiTi", "楷体_GB2312", "KaiTi_GB2312", "华文中宋",
                                 "STZhongsong", "华文宋体", "STSong")},
    **{name: _SANS for name in ("黑体", "SimHei", "微软雅黑", "Microsoft YaHei", "等线", "DengXian", "华文黑体",
                                "STHeiti", "方正小标宋简体", "FZXiaoBiaoSong-B05S")},
}
# Where installers put soffice when it is not on PATH.
_KNOWN = (
    "/usr/bin/soffice",
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
)


class SofficeError(RuntimeError):
    """LibreOffice is missing, failed, timed out, or did not convert a document."""


def find_soffice() -> str:
    """The ``soffice`` executable, or an error that says how to install it."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for path in _KNOWN:
        if Path(path).is_file():
            return path
    raise SofficeError("未找到 LibreOffice（soffice），无法生成 PDF：请安装 LibreOffice（Debian/Ubuntu："
                       "apt-get install libreoffice-writer-nogui fonts-noto-cjk）并确保 soffice 在 PATH 中；"
                       "或用 Word/WPS 打开生成的 .docx 另存为 PDF")


def to_pdf(sources: Sequence[Path], timeout: float = DEFAULT_TIMEOUT, *, soffice: str | None = None,
           batch_size: int = BATCH_SIZE) -> dict[Path, bytes]:
    """The PDF bytes of each document (``.docx``, ``.odt`` …), by its path.

    ``batch_size`` documents per soffice run, ``timeout`` seconds per run.
    Raises :class:`SofficeError` when soffice is missing, fails, times out,
    or leaves a document unconverted.
    """
    sources = [Path(s) for s in sources]
    for source in sources:
        if not source.is_file():
            raise SofficeError(f"{source.name}：文件不存在")
    executable = soffice or find_soffice()
    out: dict[Path, bytes] = {}
    for start in range(0, len(sources), batch_size):
        out.update(_convert(sources[start:start + batch_size], executable, timeout))
    return out


def convert_to_pdf(source: Path, timeout: float = DEFAULT_TIMEOUT, *, soffice: str | None = None) -> bytes:
    """One document's PDF bytes (see :func:`to_pdf`)."""
    return to_pdf([source], timeout, soffice=soffice)[Path(source)]


def fonts_conf() -> str | None:
    """A fontconfig file: the system's, with the Chinese Windows fonts mapped to Simplified Chinese ones."""
    if not SYSTEM_FONTS_CONF.is_file():
        return None
    aliases = []
    for family, prefer in FONT_ALIASES.items():
        preferred = "".join(f"<family>{name}</family>" for name in prefer)
        aliases.append(f'  <alias binding="strong"><family>{family}</family><prefer>{preferred}</prefer></alias>')
    return ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
            f'  <include ignore_missing="yes">{SYSTEM_FONTS_CONF}</include>\n'
            + "\n".join(aliases) + "\n</fontconfig>\n")


def _convert(sources: list[Path], executable: str, timeout: float) -> dict[Path, bytes]:
    work = Path(tempfile.mkdtemp(prefix="jx-soffice-"))
    try:
        profile, staged, converted = work / "profile", work / "in", work / "out"
        profile.mkdir()
        staged.mkdir()
        conf = fonts_conf()
        env = None
        if conf is not None:
            (work / "fonts.conf").write_text(conf, encoding="utf-8")
            env = {"FONTCONFIG_FILE": str(work / "fonts.conf")}
        names = []
        for i, source in enumerate(sources):
            name = f"d{i:04d}{source.suffix.lower()}"
            shutil.copyfile(source, staged / name)
            names.append(name)
        command = [executable, "--headless", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
                   f"-env:UserInstallation={profile.resolve().as_uri()}",
                   "--convert-to", PDF_FILTER, "--outdir", str(converted), *names]
        log = _run(command, staged, timeout, env)
        out: dict[Path, bytes] = {}
        missing = []
        for source, name in zip(sources, names):
            pdf = converted / (Path(name).stem + ".pdf")
            if pdf.is_file() and pdf.stat().st_size > 0:
                out[source] = pdf.read_bytes()
            else:
                missing.append(source.name)
        if missing:
            hint = ("（LibreOffice 可能未安装文字处理组件 Writer：apt-get install libreoffice-writer-nogui）"
                    if "no export filter" in log.lower() or "could not be loaded" in log.lower() else "")
            raise SofficeError(f"LibreOffice 未能把 {len(missing)} 个文档转换为 PDF：{'、'.join(missing[:10])}{hint}"
                               + (f"；输出：{log[-300:]}" if log and not hint else ""))
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(command: list[str], cwd: Path, timeout: float, extra_env: dict[str, str] | None = None) -> str:
    """Run soffice in its own process group (a timeout stops soffice.bin too); its output as text."""
    kwargs: dict = {"start_new_session": True} if os.name == "posix" else {}
    env = {**os.environ, **({"SAL_USE_VCLPLUGIN": "svp"} if os.name == "posix" else {}), **(extra_env or {})}
    try:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, **kwargs)
    except OSError as error:
        raise SofficeError(f"无法启动 LibreOffice（{command[0]}）：{error}") from None
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.communicate()
        raise SofficeError(f"LibreOffice 转换 PDF 超时（{timeout:g} 秒）") from None
    text = (stdout + stderr).decode("utf-8", "replace").strip()
    if process.returncode != 0:
        tail = " / ".join(text.splitlines()[-5:])
        raise SofficeError(f"LibreOffice 转换 PDF 失败（退出码 {process.returncode}）：{tail}")
    return text


__all__ = ["SofficeError", "convert_to_pdf", "find_soffice", "fonts_conf", "to_pdf"]
