"""Box scans: documents as they come out of an archive box, with what fools a splitter.

A box holds documents back to back. Besides their ND30 pages, real box scans carry:

* appendices (`Phụ lục`, a `Mẫu số` form) after the document's signed last page: their own
  centred title, often a `(Kèm theo Quyết định số … ngày …)` line, tables or numbered headings,
  a form even its own Quốc hiệu — but no ND30 header; they belong to the document before them;
* blank backs of duplex-scanned sheets: blank, or with bleed-through of the front, punch holes
  or specks; they belong to the sheet's document;
* first pages whose header is damaged: a torn-off top right corner (Quốc hiệu, Tiêu ngữ and date
  gone), a faded header, a "received" stamp over the organ and `Số` lines.

`box_document` draws these for one `SyntheticDocument` (new draws from its own generator: the
document's pages, and so their pixels for a given seed, are the ones `scan_pages` makes);
`scan_box_document` renders and degrades every page, `BoxPage.kind` saying what it is.
"""

from __future__ import annotations

import random
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageDraw

from corpus.content import DocSpec
from corpus.degrade import degrade, seed_to_int
from corpus.fonts import DPI, Style, ascent, pil_font, pt_to_px, text_width
from corpus.formats import write_pdf_scanned
from corpus.manifest import PageTruth
from corpus.nd30 import (
    BOTTOM,
    HEADER_SPLIT,
    PAGE_H,
    PAGE_W,
    TEXT_W,
    TEXT_X0,
    TEXT_X1,
    TOP,
    Line,
    PageLayout,
    Rule,
    SyntheticDocument,
    _centered,
    _line_height,
    _single_run_line,
    _stack,
    _token_line,
    _tokens,
    _wrap,
    page_number_line,
    render_page,
)

APPENDIX_KINDS = ("table", "sections", "form")
HEADER_DAMAGES = ("corner_torn", "faded", "received_stamp")
BACK_STYLES = ("blank", "bleed", "holes", "specks")
PAGE, APPENDIX, BACK = "page", "appendix", "back"


# --------------------------------------------------------------------------- appendix layout


@dataclass
class TablePage(PageLayout):
    """A page with vertical rules too (table columns): (x, y0, y1) each."""

    columns: list[tuple[float, float, float]] = field(default_factory=list)


class _Pages:
    """Appendix pages filled top to bottom; a new page when the next piece does not fit."""

    def __init__(self, first_no: int, numbered: bool) -> None:
        self.pages: list[TablePage] = []
        self.first_no, self.numbered = first_no, numbered
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        page = TablePage(self.first_no + len(self.pages))
        if self.numbered and self.pages:
            page.lines.append(page_number_line(page.page_no))
        self.pages.append(page)
        self.y = TOP + (pt_to_px(13) if page.lines else 0)

    @property
    def page(self) -> TablePage:
        return self.pages[-1]

    def fits(self, height: float) -> bool:
        return self.y + height <= BOTTOM

    def add(self, lines: Sequence[Line], height: float, gap: float = 0) -> None:
        if not self.fits(gap + height) and self.page.lines:
            self.new_page()
            gap = 0
        top = self.y + gap
        self.page.lines.extend(line.shifted(top) for line in lines)
        self.y = top + height
        self.page.bottom = self.y


def _centred_block(text: str, style: Style, px: int, width: float) -> tuple[list[Line], float]:
    lines, end = _stack([(text, style, px)], PAGE_W / 2, ascent(style, px), width)
    return lines, end - _line_height(px) + round(0.35 * px)


def _left_block(
    text: str, style: Style, px: int, x0: float = TEXT_X0, indent: float = 0
) -> tuple[list[Line], float]:
    width = TEXT_X1 - x0
    y, lines = float(ascent(style, px)), []
    wrapped = _wrap(_tokens(text, style), px, width - indent, width)
    for i, tokens in enumerate(wrapped):
        x = x0 + (indent if i == 0 else 0)
        lines.append(_token_line(tokens, px, x, y, width, "left", last=True))
        y += _line_height(px)
    return lines, y - _line_height(px) + round(0.35 * px)


def _kem_theo(spec: DocSpec, rng: random.Random, form: bool) -> str:
    day, month = spec.issued.day, spec.issued.month
    what = spec.doc_type.name if not spec.is_cong_van else "Công văn"
    lead = "Ban hành kèm theo" if form else "Kèm theo"
    if rng.random() < 0.5:
        return (
            f"({lead} {what} số {spec.code_number}/{spec.code_notation} ngày {day} tháng "
            f"{month} năm {spec.issued.year} của {spec.organ.short})"
        )
    dated = f"{day}/{month}/{spec.issued.year}"
    return f"({lead} {what} số {spec.code_number}/{spec.code_notation} ngày {dated})"


def _label(rng: random.Random) -> str | None:
    return rng.choice(("Phụ lục", "PHỤ LỤC", "Phụ lục I", "PHỤ LỤC 01", "Phụ lục II", None))


_TASKS = (
    "Rà soát, cập nhật quy trình nội bộ giải quyết thủ tục hành chính",
    "Tổ chức tập huấn nghiệp vụ cho cán bộ, công chức",
    "Kiểm tra việc thực hiện tại các cơ quan, đơn vị",
    "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
    "Tổng hợp, báo cáo kết quả thực hiện",
    "Tuyên truyền, phổ biến đến người dân, doanh nghiệp",
    "Xây dựng cơ sở dữ liệu chuyên ngành",
    "Đánh giá mức độ hài lòng của người dân, tổ chức",
    "Chỉnh lý tài liệu lưu trữ tồn đọng",
    "Bố trí kinh phí thực hiện",
)
_UNITS = (
    "Sở Nội vụ",
    "Văn phòng UBND",
    "Sở Thông tin và Truyền thông",
    "Sở Tài chính",
    "UBND các huyện, thành phố",
    "Phòng Nội vụ",
    "Các cơ quan, đơn vị",
)
_HEADINGS = (
    "MỤC ĐÍCH, YÊU CẦU",
    "NHIỆM VỤ VÀ GIẢI PHÁP",
    "KINH PHÍ THỰC HIỆN",
    "TỔ CHỨC THỰC HIỆN",
    "CHẾ ĐỘ BÁO CÁO",
)
_ROMAN = ("I", "II", "III", "IV", "V", "VI")
_FORM_TITLES = ("ĐƠN ĐỀ NGHỊ", "PHIẾU ĐĂNG KÝ", "TỜ KHAI", "BẢN CAM KẾT")
_FORM_FIELDS = (
    "Họ và tên:",
    "Ngày, tháng, năm sinh:",
    "Số định danh cá nhân:",
    "Nơi cư trú:",
    "Số điện thoại liên hệ:",
    "Nội dung đề nghị:",
    "Hồ sơ kèm theo gồm:",
)


def _when(rng: random.Random, year: int) -> str:
    month = rng.randint(1, 12)
    return rng.choice(
        (
            f"Tháng {month}/{year}",
            f"Quý {rng.choice(_ROMAN[:4])}/{year}",
            f"Trước ngày {rng.randint(1, 28)}/{month}/{year}",
            "Thường xuyên",
            f"Năm {year}",
        )
    )


def _table(pages: _Pages, spec: DocSpec, rng: random.Random, rows: int, repeat: bool) -> None:
    px, hpx = pt_to_px(12), pt_to_px(12)
    fractions = (0.08, 0.46, 0.25, 0.21)
    edges = [TEXT_X0 - 30]
    for f in fractions:
        edges.append(edges[-1] + f * (TEXT_W + 60))
    head = ("STT", "Nội dung công việc", "Đơn vị chủ trì", "Thời gian hoàn thành")
    body = [
        (str(i + 1), rng.choice(_TASKS), rng.choice(_UNITS), _when(rng, spec.issued.year))
        for i in range(rows)
    ]
    first = True
    for r, cells in enumerate([head, *body]):
        style = Style.bold if r == 0 else Style.regular
        lines: list[Line] = []
        height = 0.0
        for c, text in enumerate(cells):
            x0, x1 = edges[c] + 12, edges[c + 1] - 12
            wrapped = _wrap(_tokens(text, style), px, x1 - x0, x1 - x0)
            y = 18 + ascent(style, px)
            for tokens in wrapped:
                align = "left" if c == 1 and r else "center"
                lines.append(_token_line(tokens, px, x0, y, x1 - x0, align, last=True))
                y += _line_height(px)
            height = max(height, y - ascent(style, px) + 6)
        if first:
            top_y, first = pages.y, False
        elif not pages.fits(height):
            _close_table(pages, edges, top_y)
            pages.new_page()
            top_y = pages.y
            if repeat:
                _table_row(pages, edges, _header_lines(head, edges, hpx))
        pages.add(lines, height)
        pages.page.rules.append(Rule(edges[0], edges[-1], pages.y - height))
    _close_table(pages, edges, top_y)


def _header_lines(head: Sequence[str], edges: Sequence[float], px: int) -> tuple[list[Line], float]:
    lines = []
    for c, text in enumerate(head):
        cx = (edges[c] + edges[c + 1]) / 2
        lines.append(_centered(text, Style.bold, px, cx, 18 + ascent(Style.bold, px)))
    return lines, 18 + _line_height(px) + 6


def _table_row(pages: _Pages, edges: Sequence[float], row: tuple[list[Line], float]) -> None:
    lines, height = row
    pages.add(lines, height)
    pages.page.rules.append(Rule(edges[0], edges[-1], pages.y - height))


def _close_table(pages: _Pages, edges: Sequence[float], top_y: float) -> None:
    page = pages.page
    page.rules.append(Rule(edges[0], edges[-1], pages.y))
    page.columns.extend((x, top_y, pages.y) for x in edges)


def _sections(pages: _Pages, spec: DocSpec, rng: random.Random, sections: int) -> None:
    px = pt_to_px(spec.body_pt)
    texts = list(spec.body[-8:])
    rng.shuffle(texts)
    for s in range(sections):
        lines, height = _left_block(f"{_ROMAN[s]}. {_HEADINGS[s % len(_HEADINGS)]}", Style.bold, px)
        pages.add(lines, height, gap=round(0.6 * px))
        for k in range(rng.randint(2, 3)):
            text = texts[(2 * s + k) % len(texts)]
            lines, height = _left_block(f"{k + 1}. {text}", Style.regular, px, indent=118)
            # a long item is set line by line so that it may break across pages
            step = _line_height(px)
            for i, line in enumerate(lines):
                pages.add([line.shifted(-i * step)], step, gap=round(0.3 * px) if i == 0 else 0)


def _form(pages: _Pages, spec: DocSpec, rng: random.Random, kem_theo: str | None) -> None:
    hpx, px = pt_to_px(13), pt_to_px(13)
    label = _single_run_line(
        f"Mẫu số {rng.randint(1, 9):02d}",
        Style.bold,
        px,
        TEXT_X1 - text_width("Mẫu số 00", Style.bold, px),
        ascent(Style.bold, px),
    )
    pages.add([label], _line_height(px))
    if kem_theo:
        lines, height = _left_block(
            kem_theo, Style.italic, pt_to_px(11), x0=TEXT_X0 + TEXT_W * 0.45
        )
        pages.add(lines, height)
    nation, end = _stack(
        [
            ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Style.bold, hpx),
            ("Độc lập - Tự do - Hạnh phúc", Style.bold, hpx + pt_to_px(1)),
        ],
        PAGE_W / 2,
        ascent(Style.bold, hpx),
        TEXT_W,
    )
    rule_y = nation[-1].runs[0].y + round(0.45 * hpx)
    pages.add(nation, end - _line_height(hpx), gap=round(0.6 * hpx))
    half = text_width(nation[-1].text, Style.bold, hpx + pt_to_px(1)) / 2
    pages.page.rules.append(
        Rule(PAGE_W / 2 - half, PAGE_W / 2 + half, pages.y - (end - _line_height(hpx)) + rule_y)
    )
    dots = "……………, ngày …… tháng …… năm 20……"
    dated = _centered(
        dots, Style.italic, px, (HEADER_SPLIT + TEXT_X1) / 2, ascent(Style.italic, px)
    )
    pages.add([dated], _line_height(px), gap=round(0.8 * px))
    lines, height = _centred_block(rng.choice(_FORM_TITLES), Style.bold, pt_to_px(14), TEXT_W)
    pages.add(lines, height, gap=round(1.2 * px))
    kinh_gui = _centered(
        f"Kính gửi: {spec.organ.short}", Style.regular, px, PAGE_W / 2, ascent(Style.regular, px)
    )
    pages.add([kinh_gui], _line_height(px), gap=round(0.8 * px))
    for name in _FORM_FIELDS:
        text = f"{name} " + "…" * max(8, int((TEXT_W - text_width(name, Style.regular, px)) / 28))
        lines, height = _left_block(text, Style.regular, px)
        pages.add(lines, height, gap=round(0.5 * px))
    x = TEXT_X0 + TEXT_W * 0.74
    sign = [
        _centered("NGƯỜI ĐỀ NGHỊ", Style.bold, px, x, ascent(Style.bold, px)),
        _centered(
            "(Ký, ghi rõ họ tên)", Style.italic, px, x, ascent(Style.bold, px) + _line_height(px)
        ),
    ]
    pages.add(sign, 2 * _line_height(px), gap=round(1.0 * px))


def appendix_pages(
    spec: DocSpec, rng: random.Random, kind: str, pages: int = 1, first_no: int = 1
) -> list[TablePage]:
    """An appendix of `kind` (`APPENDIX_KINDS`) to the document `spec`, about `pages` pages
    (a form is one page). Continuation pages start straight with the table (its header
    repeated or not) or a numbered heading or item; some carry a page number."""
    if kind not in APPENDIX_KINDS:
        raise ValueError(f"unknown appendix kind {kind!r}; expected one of {APPENDIX_KINDS}")
    out = _Pages(first_no, numbered=rng.random() < 0.5)
    kem_theo = _kem_theo(spec, rng, kind == "form") if rng.random() < 0.6 else None
    if kind == "form":
        _form(out, spec, rng, kem_theo)
        return out.pages
    label = _label(rng)
    if label:
        lines, height = _centred_block(label, Style.bold, pt_to_px(14), TEXT_W)
        out.add(lines, height)
    title = (
        f"DANH MỤC NHIỆM VỤ TRIỂN KHAI NĂM {spec.issued.year}"
        if kind == "table"
        else rng.choice(("KẾ HOẠCH CHI TIẾT", "HƯỚNG DẪN THỰC HIỆN", "NỘI DUNG CHI TIẾT"))
    )
    lines, height = _centred_block(title, Style.bold, pt_to_px(14), TEXT_W * 0.85)
    out.add(lines, height, gap=round(0.3 * pt_to_px(14)) if label else 0)
    if kem_theo:
        lines, height = _centred_block(kem_theo, Style.italic, pt_to_px(13), TEXT_W * 0.9)
        out.add(lines, height)
    out.y += pt_to_px(13)
    if kind == "table":
        _table(out, spec, rng, rows=9 if pages == 1 else 22, repeat=rng.random() < 0.5)
    else:
        _sections(out, spec, rng, sections=2 if pages == 1 else 4)
    return out.pages


def render_box_layout(page: PageLayout) -> Image.Image:
    """`render_page`, plus the columns of a `TablePage`."""
    image = render_page(page)
    if isinstance(page, TablePage) and page.columns:
        draw = ImageDraw.Draw(image)
        for x, y0, y1 in page.columns:
            draw.line([(round(x), round(y0)), (round(x), round(y1))], fill=0, width=3)
    return image


# --------------------------------------------------------------------------- damage, backs


def damage_header(image: Image.Image, doc: SyntheticDocument, kind: str, rng: random.Random):
    """The first page with its header damaged (`HEADER_DAMAGES`), as a new image."""
    page = doc.pages[0]
    spec = doc.spec
    code = next(line for line in page.lines if line.text == spec.code_line)
    dated = next(line for line in page.lines if line.text == spec.date_line)
    row_y = max(code.runs[0].y, dated.runs[0].y)
    pixels = np.asarray(image, dtype=np.uint8).copy()
    h, w = pixels.shape
    if kind == "corner_torn":
        x0 = int(HEADER_SPLIT + rng.uniform(-20, 40))
        y1 = int(row_y + rng.uniform(50, 110))
        jag = [(x0 + rng.uniform(-25, 25), y) for y in np.linspace(0, y1, 9)]
        poly = [(w, 0), *jag, (w, y1 + rng.uniform(40, 160))]
        mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(mask).polygon(poly, fill=255)
        pixels[np.asarray(mask) > 0] = 255
        edge = Image.fromarray(pixels)
        ImageDraw.Draw(edge).line([*poly[1:], poly[0]], fill=150, width=3)
        return edge
    if kind == "faded":
        y1 = int(row_y + 60)
        band = pixels[:y1].astype(np.float32)
        keep = rng.uniform(0.22, 0.32)
        pixels[:y1] = np.clip(255 - (255 - band) * keep, 0, 255).astype(np.uint8)
        return Image.fromarray(pixels)
    if kind == "received_stamp":
        out = Image.fromarray(pixels)
        stamp = Image.new("L", (w, h), 255)
        draw = ImageDraw.Draw(stamp)
        x0 = int(TEXT_X0 + rng.uniform(-40, 120))
        y0 = int(code.runs[0].y - rng.uniform(120, 200))
        x1, y1 = x0 + 620, y0 + 300
        draw.rectangle([x0, y0, x1, y1], outline=0, width=7)
        px = pt_to_px(15)
        draw.text(
            (x0 + 40, y0 + 30 + px), "ĐẾN", fill=0, font=pil_font(Style.bold, px), anchor="ls"
        )
        small = pil_font(Style.regular, pt_to_px(11))
        draw.text(
            (x0 + 40, y0 + 170), f"Số: {rng.randint(10, 999)}", fill=0, font=small, anchor="ls"
        )
        draw.text((x0 + 40, y0 + 250), "Ngày: ……/……/……", fill=0, font=small, anchor="ls")
        angle = rng.uniform(-8, 8)
        stamp = stamp.rotate(angle, center=((x0 + x1) / 2, (y0 + y1) / 2), fillcolor=255)
        ink = 255 - np.asarray(stamp, dtype=np.float32)
        shade = rng.uniform(0.45, 0.6)  # red stamp ink, as grey
        merged = np.minimum(np.asarray(out, dtype=np.float32), 255 - ink * shade)
        return Image.fromarray(merged.astype(np.uint8))
    raise ValueError(f"unknown header damage {kind!r}; expected one of {HEADER_DAMAGES}")


def blank_back(front: Image.Image, style: str, rng: random.Random) -> Image.Image:
    """The back of a one-sided sheet as a duplex scanner sees it (`BACK_STYLES`)."""
    if style not in BACK_STYLES:
        raise ValueError(f"unknown back style {style!r}; expected one of {BACK_STYLES}")
    w, h = front.size
    if style == "bleed":
        mirrored = np.asarray(front.transpose(Image.Transpose.FLIP_LEFT_RIGHT), dtype=np.float32)
        mirrored = cv2.GaussianBlur(mirrored, (0, 0), 2.5)
        keep = rng.uniform(0.06, 0.12)
        image = Image.fromarray(np.clip(255 - (255 - mirrored) * keep, 0, 255).astype(np.uint8))
    else:
        image = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(image)
    if style == "holes":  # punched at the front's left edge: the back's right edge
        x = w - rng.randint(110, 150)
        for dy in (-400, 400):
            y = h // 2 + dy + rng.randint(-20, 20)
            draw.ellipse([x - 38, y - 38, x + 38, y + 38], fill=rng.randint(30, 70))
    if style == "specks":
        for _ in range(rng.randint(8, 25)):
            x, y, r = rng.randrange(w), rng.randrange(h), rng.randint(2, 6)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=rng.randint(40, 120))
        if rng.random() < 0.5:  # a pencil tick or a staple shadow
            x, y = rng.randrange(100, w - 300), rng.randrange(100, 600)
            draw.line(
                [(x, y), (x + rng.randint(60, 200), y + rng.randint(-20, 20))], fill=90, width=5
            )
    image.info["dpi"] = (DPI, DPI)
    return image


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class BoxDocument:
    """One document as a box scan holds it: its pages, then its appendix pages; with `backs`
    (one style per sheet) every sheet is followed by its back, as a duplex scan gives it."""

    doc: SyntheticDocument
    appendix: tuple[PageLayout, ...] = ()
    appendix_kind: str | None = None
    damage: str | None = None
    backs: tuple[str, ...] = ()

    @property
    def fronts(self) -> tuple[PageLayout, ...]:
        return (*self.doc.pages, *self.appendix)

    @property
    def kinds(self) -> list[str]:
        """What each scanned page is, in scan order: `page`, `appendix` or `back`."""
        out = []
        for i in range(len(self.fronts)):
            out.append(PAGE if i < len(self.doc.pages) else APPENDIX)
            if self.backs:
                out.append(BACK)
        return out

    @property
    def page_count(self) -> int:
        return len(self.kinds)

    @property
    def metadata(self) -> dict:
        """The document's metadata; its page count takes the appendix in, not blank backs."""
        return self.doc.spec.metadata(page_amount=len(self.fronts))

    def changed_pages(self) -> list[int]:
        """1-based scan positions whose image is not what `scan_pages([doc])` makes of the
        document's page with the same number (appendix, backs, a damaged first page)."""
        changed = [pos for pos, kind in enumerate(self.kinds, 1) if kind != PAGE]
        return sorted({1, *changed} if self.damage else changed)


def box_document(
    doc: SyntheticDocument,
    rng: random.Random,
    *,
    appendix_share: float = 0.3,
    damage_share: float = 0.2,
    duplex: bool = False,
    back_weights: Sequence[float] = (6, 2, 1, 2),
) -> BoxDocument:
    """Draw what the box adds to `doc`: an appendix (1–2 pages, or a one-page form) with
    probability `appendix_share`, a damaged header with `damage_share`, and with `duplex` a
    back (`BACK_STYLES`, weighted by `back_weights`) for every sheet."""
    appendix: tuple[PageLayout, ...] = ()
    kind = None
    if rng.random() < appendix_share:
        kind = rng.choice(APPENDIX_KINDS)
        first_no = len(doc.pages) + 1 if rng.random() < 0.5 else 1
        appendix = tuple(appendix_pages(doc.spec, rng, kind, rng.choice((1, 1, 2)), first_no))
    damage = rng.choice(HEADER_DAMAGES) if rng.random() < damage_share else None
    sheets = len(doc.pages) + len(appendix)
    backs = tuple(rng.choices(BACK_STYLES, weights=back_weights, k=sheets)) if duplex else ()
    return BoxDocument(doc, appendix, kind, damage, backs)


@dataclass(frozen=True)
class BoxPage:
    image: Image.Image
    truth: PageTruth  # page_no within the box document's scan; doc_index as given
    kind: str  # page | appendix | back


def scan_box_document(
    box: BoxDocument,
    level: str,
    seed: int,
    *,
    only: Container[int] | None = None,
    doc_index: int = 0,
) -> Iterator[BoxPage]:
    """Render and degrade the box document's pages in scan order (only the 1-based positions
    in `only`, when given). The document's own pages get the degradation seed `scan_pages`
    gives them, so an undamaged page is the same image as there."""
    pos = 0
    rng = random.Random(seed_to_int(seed, "box-damage"))
    for i, layout in enumerate(box.fronts):
        is_page = i < len(box.doc.pages)
        pos += 1
        front = None
        if only is None or pos in only or (box.backs and pos + 1 in only):
            front = render_box_layout(layout)
            if is_page and i == 0 and box.damage:
                front = damage_header(front, box.doc, box.damage, rng)
        if front is not None and (only is None or pos in only):
            page_seed = seed_to_int(seed, i + 1) if is_page else seed_to_int(seed, "appendix", i)
            kind = PAGE if is_page else APPENDIX
            yield _scanned(front, level, page_seed, pos, kind, doc_index, layout.text)
        if box.backs:
            pos += 1
            if front is not None and (only is None or pos in only):
                back = blank_back(front, box.backs[i], random.Random(seed_to_int(seed, "back", i)))
                yield _scanned(back, level, seed_to_int(seed, "back", i), pos, BACK, doc_index, "")


def _scanned(
    clean: Image.Image, level: str, seed: int, pos: int, kind: str, doc_index: int, text: str
) -> BoxPage:
    degraded = degrade(clean, level, seed)
    truth = PageTruth(
        page_no=pos, text=text, level=level, skew_deg=degraded.skew_deg, doc_index=doc_index
    )
    return BoxPage(degraded.image, truth, kind)


def write_box_pdf(
    path, boxes: Sequence[BoxDocument], *, level: str = "light", seed: int = 0
) -> list[BoxPage]:
    """The box documents scanned back to back into one image-only PDF; the pages' truth
    (page_no within the file, doc_index, kind) with the images dropped."""
    pages: list[BoxPage] = []
    for index, box in enumerate(boxes):
        for page in scan_box_document(box, level, seed_to_int(seed, index), doc_index=index):
            page.truth.page_no = len(pages) + 1
            pages.append(page)
    write_pdf_scanned(path, [p.image for p in pages], lossless=level == "clean")
    return [BoxPage(None, p.truth, p.kind) for p in pages]  # type: ignore[arg-type]


__all__ = [
    "APPENDIX_KINDS",
    "BACK",
    "BACK_STYLES",
    "HEADER_DAMAGES",
    "PAGE",
    "PAGE_H",
    "BoxDocument",
    "BoxPage",
    "TablePage",
    "appendix_pages",
    "blank_back",
    "box_document",
    "damage_header",
    "render_box_layout",
    "scan_box_document",
    "write_box_pdf",
]
