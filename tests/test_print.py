"""Every sheet prints like the official table: rendered through LibreOffice and read back.

The blank template, the filled example and its Python-free copy (``jx
export``), and a copy of the example with a target that cannot be judged
(with its Python-free copy: LibreOffice computes that verdict itself) are
converted to PDF in one LibreOffice run, with the fontconfig
file the report uses (宋体 drawn with Noto Serif CJK SC). Each page is
assigned to its sheet by its footer (“评分表　第 2 页”; 填报说明 has none)
and read back with poppler: its size, its words and their boxes
(``pdftotext -bbox``), and its pixels at 72 dpi (``pdftoppm``, one pixel a
point). What the old template got wrong, each a test here: body text shrunk
to about 7 pt by fit-to-width, fixed row heights that clip or overlap
wrapped text, empty input rows printed as pages of empty grid, a header that
did not repeat, a blank template showing 0 and a wall of red ``#VALUE!``.

One part needs no rendering: every row is at least as tall as the lines of
its wrapped text need, by a lower bound of its own (the widest line either
application could fit, the tighter line spacing of the two).
"""

from __future__ import annotations

import html
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, range_boundaries

from addin.layout import (EXEC, FILLED_NAME, INPUTS, INSTRUCTIONS, MET_WORD, MISSED_WORD, SCORES, SELF, TARGETS, TEXTS,
                          UNJUDGED_WORD, layout)
from addin.template import MAX_ROW_HEIGHT, Filled, workbook_bytes
from addin.vba_parts import vba_project
from conftest import SHENZHEN, needs_libreoffice
from jx import load_rubric
from jxtools.build import example_bytes, example_filled, template_bytes
from jxtools.cached import with_values
from jxtools.export import export_workbook
from jxtools.recalc import recalculate
from jxtools.soffice import fonts_conf

pytestmark = [
    pytest.mark.libreoffice,
    needs_libreoffice(),
    pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                       reason="poppler-utils (pdftotext, pdftoppm) not installed"),
]

RUBRIC = load_rubric(SHENZHEN)
LAYOUT = layout(RUBRIC)
FILLED = example_filled()
A4 = (841.9, 595.3)  # points, landscape
LO_UNIT = 6.15  # points LibreOffice draws a width unit with (宋体 11, the workbooks' Normal font)
BODY_POINTS = 9.0  # the smallest text a printed sheet may have
PROBE, PROBE_POINTS = "骨角直", 48  # the glyph probes: these differ between Japanese and Simplified Chinese forms
BOOKS = ("template", "example", "native")  # what every test reads; "judged" and "judged-native" too
UNJUDGED = {"target": "≥90%", "actual": "85"}  # the first target row of the "judged" copy: 85 or 85%?
TABLE_SHEETS = (INPUTS, SCORES, EXEC, SELF, TARGETS, TEXTS)
HEADERS = {INPUTS: "填报值", SCORES: "评分标准", EXEC: "执行率", SELF: "任务名称", TARGETS: "预期指标值",
           TEXTS: "报告中的位置"}  # a word of each sheet's repeated head
# Words (whole cells) only a sheet's table prints: they place a page that has no footer
MARKERS = {INPUTS: {"填报值"}, SCORES: {"分数", "计分函数"}, EXEC: {"序时进度"},
           SELF: {"年度主要任务完成情况", "年度总体目标完成情况"}, TARGETS: {"预期指标值"}, TEXTS: {"报告中的位置"}}


@dataclass
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class Page:
    number: int  # in the PDF, from 1
    width: float
    height: float
    words: list[Word]
    sheet: str = INSTRUCTIONS  # from the footer; 填报说明 prints none
    sheet_page: int = 0
    pixels: np.ndarray | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words)


@dataclass
class Book:
    workbook: Path
    pdf: Path
    pages: list[Page]

    def sheet(self, title: str) -> list[Page]:
        return [p for p in self.pages if p.sheet == title]


# ------------------------------------------------------------------ rendering


def _probe(path: Path, font: str) -> Path:
    """The three probe characters in ``font``: in a spreadsheet (.xlsx), or as Writer's reference (.docx)."""
    if path.suffix == ".docx":
        import docx

        document = docx.Document()
        run = document.add_paragraph().add_run(PROBE)
        run.font.size = docx.shared.Pt(PROBE_POINTS)
        run._r.get_or_add_rPr().get_or_add_rFonts().set(docx.oxml.ns.qn("w:eastAsia"), font)
        document.save(path)
        return path
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.column_dimensions["A"].width = 40
    ws.row_dimensions[1].height = 80
    ws["A1"] = PROBE
    ws["A1"].font = Font(name=font, size=PROBE_POINTS)
    ws["A1"].alignment = Alignment(vertical="center")
    wb.save(path)
    return path


def _glyph_shapes(pdf: Path) -> list[np.ndarray]:
    """Each probe character's ink, cut out and scaled to 100 × 100 (300 dpi, black and white)."""
    image = pdf.with_suffix(".pgm")
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-singlefile", str(pdf), str(image.with_suffix(""))], check=True)
    data = image.read_bytes()
    head = re.match(rb"P5\s+(\d+)\s+(\d+)\s+\d+\s", data)
    ink = np.frombuffer(data[head.end():], np.uint8).reshape(int(head.group(2)), int(head.group(1))) < 128
    ys, xs = np.nonzero(ink)
    ink = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    columns = np.concatenate(([False], ink.any(axis=0), [False]))
    edges = np.diff(columns.astype(np.int8))
    runs = list(zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]))
    cuts = sorted(sorted(range(len(runs) - 1), key=lambda i: runs[i + 1][0] - runs[i][1])[-(len(PROBE) - 1):])
    shapes, start = [], 0
    for cut in [*cuts, len(runs) - 1]:
        glyph = ink[:, runs[start][0]:runs[cut][1]]
        rows = np.nonzero(glyph.any(axis=1))[0]
        glyph = glyph[rows.min():rows.max() + 1]
        shapes.append(glyph[(np.arange(100) * glyph.shape[0] / 100).astype(int)][
            :, (np.arange(100) * glyph.shape[1] / 100).astype(int)])
        start = cut + 1
    return shapes


def _soffice(sources: list[Path], outdir: Path, timeout: float = 240) -> None:
    """One LibreOffice run: every source to PDF, a throwaway profile, 宋体 mapped to Noto Serif CJK SC."""
    work = Path(tempfile.mkdtemp(prefix="jx-print-"))
    try:
        env = {**os.environ, "SAL_USE_VCLPLUGIN": "svp"}
        conf = fonts_conf()
        if conf is not None:
            (work / "fonts.conf").write_text(conf, encoding="utf-8")
            env["FONTCONFIG_FILE"] = str(work / "fonts.conf")
        command = [shutil.which("soffice"), "--headless", "--norestore", "--nolockcheck", "--nologo",
                   f"-env:UserInstallation={(work / 'profile').resolve().as_uri()}",
                   "--convert-to", "pdf", "--outdir", str(outdir), *map(str, sources)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        for source in sources:
            assert (outdir / f"{source.stem}.pdf").is_file(), out.decode(errors="replace")[-500:]
    finally:
        shutil.rmtree(work, ignore_errors=True)


_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
_FOOTER = re.compile(r"^(.+?)[\s\u3000]*第(\d+)页$")


def _read(workbook: Path, pdf: Path) -> Book:
    layer = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for number, (width, height, body) in enumerate(_PAGE.findall(layer), start=1):
        words = [Word(html.unescape(t), float(a), float(b), float(c), float(d))
                 for a, b, c, d, t in _WORD.findall(body)]
        page = Page(number, float(width), float(height), words)
        bottom = max((w.y0 for w in words), default=0) - 2  # the footer is the page's last line
        footer = [w for w in words if w.y0 >= bottom]
        found = _FOOTER.match("".join(w.text for w in sorted(footer, key=lambda w: w.x0)).replace(" ", ""))
        if found:
            page.sheet, page.sheet_page = found.group(1), int(found.group(2))
            page.words = [w for w in words if w not in footer]
        else:  # no footer: a head word of the sheet's table, else the sheet of the page before
            texts = {w.text for w in words}
            page.sheet = next((sheet for sheet, marks in MARKERS.items() if texts & marks),
                              pages[-1].sheet if pages else INSTRUCTIONS)
        pages.append(page)
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", "72", str(pdf), str(prefix)], check=True)
    images = sorted(p for p in prefix.parent.iterdir() if re.fullmatch(rf"{re.escape(prefix.name)}-\d+\.ppm", p.name))
    for page, image in zip(pages, images, strict=True):
        page.pixels = _ppm(image)
    return Book(workbook, pdf, pages)


def _ppm(path: Path) -> np.ndarray:
    data = path.read_bytes()
    width, height, _depth, pixels = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s(.*)", data, re.S).groups()
    return np.frombuffer(pixels, np.uint8).reshape(int(height), int(width), 3)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Book]:
    work = tmp_path_factory.mktemp("print")
    books = {name: work / f"{name}.xlsm" for name in ("template", "example", "judged")}
    books["template"].write_bytes(template_bytes())
    books["example"].write_bytes(example_bytes())
    plain = work / "plain.xlsm"
    plain.write_bytes(workbook_bytes(_judged(), RUBRIC, vba_project(RUBRIC)))
    books["judged"].write_bytes(with_values(plain, recalculate(plain).values))
    books["native"] = export_workbook(books["example"], work / "native.xlsx")
    books["judged-native"] = export_workbook(books["judged"], work / "judged-native.xlsx")
    probes = [_probe(work / name, font) for name, font in (("probe-song.xlsx", "宋体"),
                                                           ("probe-sc.docx", "Noto Serif CJK SC"),
                                                           ("probe-jp.docx", "Noto Serif CJK JP"))]
    _soffice([*books.values(), *probes], work)
    out = {name: _read(path, path.with_suffix(".pdf")) for name, path in books.items()}
    out.update({p.stem: _read(p, p.with_suffix(".pdf")) for p in probes})
    return out


def _judged() -> Filled:
    targets = [dict(t) for t in FILLED.targets]
    targets[0].update(UNJUDGED)
    return Filled(FILLED.values, FILLED.tasks, targets, FILLED.texts)


@pytest.fixture(scope="module")
def points_per_size(rendered) -> float:
    """A word box's height per point of font size (the probe: one 48-point line)."""
    (word,) = rendered["probe-song"].pages[0].words
    return (word.y1 - word.y0) / PROBE_POINTS


def _books(rendered):
    return [(name, rendered[name]) for name in BOOKS]


# ------------------------------------------------------------------ pages


def test_every_sheet_prints_on_a4_landscape_pages_numbered_per_sheet(rendered):
    for name, book in _books(rendered):
        sheets = [p.sheet for p in book.pages]
        assert set(sheets) == {INSTRUCTIONS, *TABLE_SHEETS}, name
        # each sheet in one run of pages, numbered from 1, in the workbook's order
        runs = [s for i, s in enumerate(sheets) if i == 0 or sheets[i - 1] != s]
        assert runs == [INSTRUCTIONS, *TABLE_SHEETS], (name, runs)
        for page in book.pages:
            if page.sheet == INSTRUCTIONS:
                assert page.width < page.height, (name, page.number)  # 填报说明 is portrait
                continue
            assert (round(page.width), round(page.height)) == tuple(map(round, A4)), (name, page.number)
            assert page.sheet_page == 1 + sum(1 for p in book.pages[:page.number - 1] if p.sheet == page.sheet)


def test_empty_input_rows_print_no_pages(rendered):
    template, example, native = (rendered[n] for n in BOOKS)
    # the blank template: one page of target rows, the task rows and the overall goal on two
    assert len(template.sheet(TARGETS)) == 1
    assert len(template.sheet(SELF)) == 2
    assert len(template.sheet(EXEC)) == 1
    for book in (example, native):
        # 181 targets, not 250 rows: every page holds verdicts, and no more pages than their rows need
        pages = book.sheet(TARGETS)
        assert all(any(w.text in (MET_WORD, MISSED_WORD) for w in p.words) for p in pages)
        ws = openpyxl.load_workbook(book.workbook)[TARGETS]
        first = LAYOUT.targets[0]
        rows = sum(ws.row_dimensions[r].height for r in range(first, first + len(FILLED.targets)))
        head = sum(ws.row_dimensions[r].height or 15 for r in range(1, first))  # the rows repeated atop
        usable = A4[1] - (ws.page_margins.top + ws.page_margins.bottom) * 72 - head
        assert len(pages) <= math.ceil(rows / usable) + 1
        # the tasks: every page shows amounts of filled rows or the overall goal, never an empty grid
        for page in book.sheet(SELF):
            assert any(re.fullmatch(r"[\d,]+\.\d\d", w.text) for w in page.words), page.number
        assert len(book.sheet(SELF)) <= 3


def test_each_table_repeats_its_head_on_every_page(rendered):
    for name, book in _books(rendered):
        for sheet, word in HEADERS.items():
            for page in book.sheet(sheet):
                assert word in page.text, (name, sheet, page.sheet_page)
        for page in book.sheet(SCORES):
            assert {"分数", "扣分", "一级指标"} <= {w.text for w in page.words}, (name, page.sheet_page)


def test_body_text_is_at_least_9_points_after_fitting_to_the_page(rendered, points_per_size):
    for name, book in _books(rendered):
        for page in book.pages:
            if page.sheet == INSTRUCTIONS:
                continue  # 填报说明 (portrait) is laid out by its own function
            smallest = min(page.words, key=lambda w: w.y1 - w.y0)
            size = (smallest.y1 - smallest.y0) / points_per_size
            assert size >= BODY_POINTS * 0.97, (name, page.sheet, page.sheet_page, smallest.text, round(size, 2))


def test_simplified_chinese_glyphs(rendered):
    fonts = subprocess.run(["pdffonts", str(rendered["example"].pdf)], capture_output=True, text=True,
                           check=True).stdout
    assert "NotoSerifCJK" in fonts  # 宋体 is drawn with an embedded CJK font …
    # … in its Simplified Chinese forms: the spreadsheet's 宋体 has the shapes of Writer's SC, not its JP
    song, sc, jp = (_glyph_shapes(rendered[f"probe-{n}"].pdf) for n in ("song", "sc", "jp"))
    to_sc = sum(int((a ^ b).sum()) for a, b in zip(song, sc))
    to_jp = sum(int((a ^ b).sum()) for a, b in zip(song, jp))
    assert to_sc < 0.2 * to_jp, (to_sc, to_jp)


# ------------------------------------------------------------------ nothing clipped, nothing overlapping


def _overlaps(page: Page) -> list[tuple[str, str]]:
    """Pairs of words whose boxes overlap by more than a sliver (text drawn over text)."""
    if len(page.words) < 2:
        return []
    boxes = np.array([(w.x0, w.y0, w.x1, w.y1) for w in page.words])
    x = np.minimum(boxes[:, None, 2], boxes[None, :, 2]) - np.maximum(boxes[:, None, 0], boxes[None, :, 0])
    y = np.minimum(boxes[:, None, 3], boxes[None, :, 3]) - np.maximum(boxes[:, None, 1], boxes[None, :, 1])
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    shared = np.clip(x, 0, None) * np.clip(y, 0, None)
    smaller = np.minimum(area[:, None], area[None, :])
    i, j = np.nonzero(np.triu(shared > 0.25 * smaller, 1))
    return [(page.words[a].text, page.words[b].text) for a, b in zip(i, j)]


def _rules(page: Page, run: int = 30) -> list[tuple[int, int, int]]:
    """The horizontal cell borders drawn on a page: (y, x0, x1) runs of border-grey pixels (1 px = 1 pt)."""
    pixels = page.pixels.astype(np.int16)
    grey = (pixels.max(axis=2) <= 215) & (pixels.min(axis=2) >= 90) & (np.ptp(pixels, axis=2) <= 25)
    out = []
    for y in np.nonzero(grey.sum(axis=1) >= run)[0]:
        row = np.concatenate(([0], grey[y].astype(np.int8), [0]))
        edges = np.diff(row)
        for x0, x1 in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]):
            if x1 - x0 >= run:
                out.append((int(y), int(x0), int(x1)))
    return out


def _crossing(page: Page) -> list[str]:
    """Words that a horizontal border runs through: text taller than its row, spilling into the next."""
    rules = _rules(page)
    out = []
    for w in page.words:
        for y, x0, x1 in rules:
            if w.y0 + 2 < y < w.y1 - 2 and min(x1, w.x1) - max(x0, w.x0) > 0.5 * (w.x1 - w.x0):
                out.append(w.text)
                break
    return out


def _capped(workbook: Path) -> list[str]:
    """The texts too long for Excel's tallest row (their cells print what fits: the last line is cut)."""
    wb = openpyxl.load_workbook(workbook)
    return [re.sub(r"\s", "", c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and ws.row_dimensions[c.row].height == MAX_ROW_HEIGHT]


def test_no_text_overlaps_other_text_or_crosses_a_border(rendered):
    for name, book in _books(rendered):
        capped = _capped(book.workbook)
        for page in book.pages:
            where = (name, page.sheet, page.sheet_page)
            assert _overlaps(page) == [], where
            if page.sheet != INSTRUCTIONS:
                crossing = [t for t in _crossing(page) if not any(re.sub(r"\s", "", t) in c for c in capped)]
                assert crossing == [], where


def _printed_texts(ws) -> list[str]:
    """The texts of a sheet's cells inside its print area (those the builder wrote as text)."""
    areas = [range_boundaries(a.replace("$", "").split("!")[-1]) for a in ws.print_area.split(",")] \
        if ws.print_area else [(1, 1, ws.max_column, ws.max_row)]
    hidden = {c for c in range(1, ws.max_column + 1) if ws.column_dimensions[get_column_letter(c)].hidden}
    out = []
    for min_col, min_row, max_col, max_row in areas:
        for row in ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col):
            for cell in row:
                if (isinstance(cell.value, str) and not cell.value.startswith("=") and cell.column not in hidden
                        and ws.row_dimensions[cell.row].height != MAX_ROW_HEIGHT):
                    out.append(cell.value)
    return out


def test_every_character_of_the_printed_cells_is_in_the_pdf(rendered):
    """Nothing clipped: each character of the texts in the print areas is there, as often as they hold it.

    A text longer than Excel's tallest row (409 pt) cannot print whole in its cell; such a row is left out.
    """
    for name, book in _books(rendered):
        wb = openpyxl.load_workbook(book.workbook)
        for sheet in TABLE_SHEETS:
            expected = Counter("".join(re.sub(r"\s", "", t) for t in _printed_texts(wb[sheet])))
            printed = Counter("".join(p.text for p in book.sheet(sheet)))
            missing = {ch: n - printed[ch] for ch, n in expected.items() if printed[ch] < n}
            assert missing == {}, (name, sheet)
    # the rules themselves, whole and in order, in the 评分标准 column of the score sheet
    for name, book in _books(rendered):
        column = re.sub(r"\s", "", _column_text(book, SCORES, "评分标准", "指标说明", "F"))
        for ind in RUBRIC.indicators:
            for line in ind.rule_text.splitlines():
                assert re.sub(r"\s", "", line) in column, (name, ind.id, line)


def _column_text(book: Book, sheet: str, head: str, beside: str, col: str) -> str:
    """The words printed in column ``col`` of a sheet (under its ``head``, in the row of the head ``beside``),
    page by page, top to bottom."""
    width = openpyxl.load_workbook(book.workbook)[sheet].column_dimensions[col].width * LO_UNIT
    out = []
    for page in book.sheet(sheet):
        (title,) = [w for w in page.words if w.text == head and any(
            o.text == beside and abs(o.y0 - w.y0) < 2 for o in page.words)]  # the column head, not a label
        middle = (title.x0 + title.x1) / 2
        inside = [w for w in page.words if w.x0 >= middle - width / 2 - 1 and w.x1 <= middle + width / 2 + 1
                  and w.y0 > title.y1]
        out += [w.text for w in sorted(inside, key=lambda w: (round(w.y0), w.x0))]
    return "".join(out)


def test_long_report_texts_are_the_only_rows_at_excels_limit(rendered):
    wb = openpyxl.load_workbook(rendered["example"].workbook)
    capped = {(ws.title, r) for ws in wb.worksheets for r, d in ws.row_dimensions.items() if d.height == MAX_ROW_HEIGHT}
    assert {sheet for sheet, _ in capped} <= {TEXTS}
    for _sheet, row in capped:
        assert len(wb[TEXTS][f"C{row}"].value) > 2000  # 后续工作计划: more than one Excel cell can show


# ------------------------------------------------------------------ row heights (no rendering)


def _needed(text: str, width: float, size: float) -> float:
    """A lower bound of the height ``text`` needs: lines as wide as either application could fit,
    spaced as tightly as either draws them (宋体 in Excel: 1.3 × the size)."""
    room = width * LO_UNIT - 2  # points: LibreOffice's width unit is the wider
    lines = 0
    for paragraph in str(text).split("\n"):
        used = sum(size if ord(ch) > 0x7F else size / 2 for ch in paragraph)
        lines += max(1, math.ceil(used / room))
    return lines * size * 1.3


@pytest.mark.parametrize("book", ("template", "example"))
def test_every_row_is_as_tall_as_its_wrapped_text(book, tmp_path):
    path = tmp_path / "book.xlsm"
    path.write_bytes(template_bytes() if book == "template" else example_bytes())
    wb = openpyxl.load_workbook(path)
    short = []
    for sheet in TABLE_SHEETS:
        ws = wb[sheet]
        spans = {(m.min_row, m.min_col): m for m in ws.merged_cells.ranges}
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str) or cell.value.startswith("=") or not cell.alignment.wrap_text:
                    continue
                if ws.column_dimensions[cell.column_letter].hidden:
                    continue
                merged = spans.get((cell.row, cell.column))
                cols = range(merged.min_col, merged.max_col + 1) if merged else [cell.column]
                rows = range(merged.min_row, merged.max_row + 1) if merged else [cell.row]
                width = sum(ws.column_dimensions[get_column_letter(c)].width or 8.43 for c in cols)
                height = sum(ws.row_dimensions[r].height or 15 for r in rows)
                need = min(_needed(cell.value, width, cell.font.sz or 11), MAX_ROW_HEIGHT)
                if height < need:
                    short.append((sheet, cell.coordinate, height, round(need, 1)))
    assert short == []


def test_protected_sheets_let_rows_be_resized(rendered):
    for name, book in _books(rendered):
        for ws in openpyxl.load_workbook(book.workbook).worksheets:
            if ws.protection.sheet:
                assert ws.protection.formatRows is False, (name, ws.title)  # False: allowed


# ------------------------------------------------------------------ what the cells show


def test_the_blank_template_reads_blank(rendered):
    book = rendered["template"]
    for page in book.pages:
        where = (page.sheet, page.sheet_page)
        for label in (w for w in page.words if w.text in ("预算年度", FILLED_NAME)):  # the head: no 0 as name or year
            line = [w.text for w in page.words if w.y0 < (label.y0 + label.y1) / 2 < w.y1 and w is not label]
            assert not any(re.fullmatch(r"0(\.0+)?", t) for t in line), (where, line)
        assert not any(re.fullmatch(r"0\.00%?", w.text) for w in page.words), where  # no sums, rates of nothing
        pink = np.all(np.abs(page.pixels.astype(np.int16) - (0xFF, 0x99, 0x99)) <= 8, axis=2)
        assert pink.sum() < 20, where  # no red error fill
        for w in page.words:  # an error no number format can hide is drawn white
            if page.sheet != INSTRUCTIONS and (re.fullmatch(r"#[A-Z/0!?]+", w.text) or w.text.startswith("错误：")):
                box = page.pixels[int(w.y0) + 1:int(w.y1), int(w.x0) + 1:int(w.x1)]
                assert box.size == 0 or box.min() >= 200, (where, w.text)
    # the head of each official table: its labels, and nothing where the name and the year will show
    labels = {"部门（单位）", "名称", "部门（单位）名称", "预算年度", "评分标准", "版本", RUBRIC.id}
    for sheet in (SCORES, SELF, TARGETS):
        page = book.sheet(sheet)[0]
        (year,) = [w for w in page.words if w.text == "预算年度"]
        head = {w.text for w in page.words if year.y0 - 12 < (w.y0 + w.y1) / 2 < year.y1 + 12}
        assert "预算年度" in head and head <= labels, (sheet, head)


def test_verdicts_and_yes_no_inputs_read_as_words(rendered):
    for name, book in _books(rendered):
        words = [w.text for p in book.pages for w in p.words]
        assert not {"TRUE", "FALSE", "True", "False"} & set(words), name
        if name == "template":
            continue
        verdicts = Counter(w.text for p in book.sheet(TARGETS) for w in p.words)
        assert (verdicts[MET_WORD], verdicts[MISSED_WORD]) == (169, 12), name
        assert not any(w.startswith(UNJUDGED_WORD) for w in verdicts), name
        inputs = Counter(w.text for p in book.sheet(INPUTS) for w in p.words)
        for word in (RUBRIC.vocabulary.yes[0], RUBRIC.vocabulary.no[0]):
            assert inputs[word] == sum(1 for v in FILLED.values.values() if v == word), (name, word)


def test_a_target_that_cannot_be_judged_says_why_in_full(rendered):
    """是否达成 of the judged copy's first row: 无法判定 and the whole reason, in its row (cached and native)."""
    from jx.errors import JXInputError
    from jx.targets import target_met

    with pytest.raises(JXInputError) as reason:
        target_met(UNJUDGED["target"], UNJUDGED["actual"], RUBRIC)
    shown = re.sub(r"\s", "", f"{UNJUDGED_WORD}：{reason.value}")
    for name in ("judged", "judged-native"):
        book = rendered[name]
        column = re.sub(r"\s", "", _column_text(book, TARGETS, "是否达成", "预期指标值", "F"))
        assert column.startswith(shown), (name, column[:80])
        verdicts = Counter(w.text for p in book.sheet(TARGETS) for w in p.words)
        assert (verdicts[MET_WORD], verdicts[MISSED_WORD]) == (168, 12), name
        for page in book.sheet(TARGETS):
            assert _overlaps(page) == [] and _crossing(page) == [], (name, page.sheet_page)
