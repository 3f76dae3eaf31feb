"""One ND30-style page drawn with Pillow, and the text it prints, line by line.

Written apart from `corpus/nd30.py` on purpose: its own look (`Look`: family, margins, sizes,
line spacing, header variant, capitals of the parent organ) drawn per page from the seed.
Geometry is in pixels at 300 dpi on A4. Text is drawn at its baseline (anchor "ls"/"ms").

Reading order of the truth: header left column then right column (two-column headers), or top
to bottom (one-column header); then title, subject and body; then `Nơi nhận:` and its items,
then competence, position and name. Justified lines are stored with single spaces; rules
(underlines) are not text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from pages2.fonts import A4_PX, FAMILIES, Family, Style, font, mm_to_px, pt_to_px
from pages2.texts import Document

QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
HEADERS = ("two_column", "two_column_date_below", "one_column")
INK = 18  # toner is not pure black


@dataclass(frozen=True)
class Look:
    family: Family
    left: int  # margins in px
    right: int
    top: int
    bottom: int
    body_px: int
    header_px: int
    spacing: float  # line height over the em size
    paragraph_gap: int  # px between paragraphs
    indent: int  # first-line indent in px
    justify: bool
    header: str  # one of HEADERS
    parent_caps: bool  # "UBND TỈNH …" rather than "Ủy ban nhân dân tỉnh …"

    @property
    def width(self) -> int:
        return A4_PX[0] - self.left - self.right


def draw_look(rng: random.Random) -> Look:
    return Look(
        family=rng.choice(FAMILIES),
        left=mm_to_px(rng.uniform(25, 35)),
        right=mm_to_px(rng.uniform(12, 20)),
        top=mm_to_px(rng.uniform(12, 25)),
        bottom=mm_to_px(rng.uniform(12, 22)),
        body_px=pt_to_px(rng.choice((13, 13.5, 14))),
        header_px=pt_to_px(rng.choice((12, 12.5, 13))),
        spacing=rng.uniform(1.1, 1.55),
        paragraph_gap=pt_to_px(rng.uniform(0, 10)),
        indent=mm_to_px(rng.uniform(8, 12.7)),
        justify=rng.random() < 0.75,
        header=rng.choice(HEADERS),
        parent_caps=rng.random() < 0.7,
    )


@dataclass
class Sheet:
    """The page being drawn and the lines it printed, in reading order."""

    look: Look
    image: Image.Image = field(init=False)
    lines: list[str] = field(default_factory=list)
    signature_box: tuple[int, int, int, int] = (0, 0, 0, 0)  # where the signer signs

    def __post_init__(self) -> None:
        self.image = Image.new("L", A4_PX, 255)
        self.draw = ImageDraw.Draw(self.image)

    def width_of(self, text: str, style: Style, px: int) -> float:
        return font(self.look.family.files[style], px).getlength(text)

    def line_height(self, px: int) -> int:
        return round(px * self.look.spacing)

    def text(self, x: float, y: int, text: str, style: Style, px: int, anchor: str = "ls") -> None:
        self.draw.text(
            (x, y), text, font=font(self.look.family.files[style], px), fill=INK, anchor=anchor
        )
        self.lines.append(text)

    def centred(self, cx: float, y: int, text: str, style: Style, px: int) -> None:
        self.text(cx, y, text, style, px, anchor="ms")

    def rule(self, cx: float, y: int, width: float) -> None:
        self.draw.line([(cx - width / 2, y), (cx + width / 2, y)], fill=INK, width=3)

    def wrap(self, text: str, style: Style, px: int, width: float, indent: int = 0) -> list[str]:
        """Greedy line breaking; the first line is `indent` px narrower."""
        lines: list[str] = []
        current = ""
        for word in text.split():
            trial = f"{current} {word}" if current else word
            room = width - (indent if not lines else 0)
            if current and self.width_of(trial, style, px) > room:
                lines.append(current)
                current = word
            else:
                current = trial
        return [*lines, current] if current else lines

    def paragraph(self, y: int, lines: list[str], style: Style, px: int, *, indent: int) -> int:
        """Draw wrapped lines from baseline `y`; return the next free baseline."""
        step = self.line_height(px)
        for k, line in enumerate(lines):
            x0 = self.look.left + (indent if k == 0 else 0)
            last = k == len(lines) - 1
            if self.look.justify and not last:
                self._justified(x0, y, line, style, px)
            else:
                self.text(x0, y, line, style, px)
            y += step
        return y + self.look.paragraph_gap

    def _justified(self, x0: int, y: int, line: str, style: Style, px: int) -> None:
        words = line.split()
        room = self.look.left + self.look.width - x0
        ink = sum(self.width_of(w, style, px) for w in words)
        gap = (room - ink) / max(len(words) - 1, 1)
        face = font(self.look.family.files[style], px)
        x = float(x0)
        for word in words:
            self.draw.text((x, y), word, font=face, fill=INK, anchor="ls")
            x += self.width_of(word, style, px) + gap
        self.lines.append(" ".join(words))


def _fit(sheet: Sheet, text: str, style: Style, px: int, width: float) -> int:
    """The largest size up to `px` at which `text` fits in `width` on one line."""
    while px > 30 and sheet.width_of(text, style, px) > width:
        px -= 2
    return px


def organ_lines(doc: Document, look: Look) -> list[tuple[str, Style]]:
    lines = []
    if doc.organ.parent:
        parent = doc.organ.parent.upper() if look.parent_caps else doc.organ.parent
        if look.parent_caps:
            parent = parent.replace("ỦY BAN NHÂN DÂN", "UBND")
        lines.append((doc.spell(parent), Style.regular))
    lines.append((doc.spell(doc.organ.name.upper()), Style.bold))
    return lines


def _date_line(doc: Document) -> str:
    return f"{doc.organ.place}, ngày {doc.day:02d} tháng {doc.month:02d} năm {doc.year}"


def _left_header(sheet: Sheet, doc: Document, cx: float, width: float, y: int) -> int:
    look, px = sheet.look, sheet.look.header_px
    for text, style in organ_lines(doc, look):
        for line in sheet.wrap(text, style, px, width):
            sheet.centred(cx, y, line, style, px)
            y += sheet.line_height(px)
    sheet.rule(cx, y - sheet.line_height(px) + round(px * 0.45), width * 0.35)
    y += round(px * 0.5)
    sheet.centred(cx, y, doc.code_line, Style.regular, px)
    y += sheet.line_height(px)
    if doc.kind == "công văn":
        for line in sheet.wrap(doc.subject, Style.regular, px - 4, width):
            sheet.centred(cx, y, line, Style.regular, px - 4)
            y += sheet.line_height(px - 4)
    return y


def _right_header(sheet: Sheet, doc: Document, cx: float, width: float, y: int) -> int:
    px = _fit(sheet, doc.spell(QUOC_HIEU), Style.bold, sheet.look.header_px, width)
    sheet.centred(cx, y, doc.spell(QUOC_HIEU), Style.bold, px)
    y += sheet.line_height(px)
    motto_px = px + 4
    sheet.centred(cx, y, TIEU_NGU, Style.bold, motto_px)
    sheet.rule(cx, y + round(motto_px * 0.3), sheet.width_of(TIEU_NGU, Style.bold, motto_px))
    return y + sheet.line_height(motto_px)


def _header(sheet: Sheet, doc: Document) -> int:
    """Draw the header; return the baseline below it."""
    look = sheet.look
    y = look.top + look.header_px
    date = _date_line(doc)
    if look.header == "one_column":
        cx = look.left + look.width / 2
        y = _right_header(sheet, doc, cx, look.width, y) + look.header_px
        for text, style in organ_lines(doc, look):
            sheet.text(look.left, y, text, style, look.header_px)
            y += sheet.line_height(look.header_px)
        sheet.text(look.left, y, doc.code_line, Style.regular, look.header_px)
        if doc.kind == "công văn":
            y += sheet.line_height(look.header_px)
            sheet.text(look.left, y, doc.subject, Style.regular, look.header_px)
        y += sheet.line_height(look.header_px)
        right = look.left + look.width - sheet.width_of(date, Style.italic, look.header_px)
        sheet.text(right, y, date, Style.italic, look.header_px)
        return y + 2 * look.header_px
    # two columns a little wider than the text block, split about 40/60
    span = look.width + mm_to_px(10)
    x0 = look.left - mm_to_px(5)
    left_w, right_w = span * 0.41, span * 0.59
    left_end = _left_header(sheet, doc, x0 + left_w / 2, left_w - mm_to_px(4), y)
    right_cx = x0 + left_w + right_w / 2
    right_end = _right_header(sheet, doc, right_cx, right_w, y)
    date_px = look.header_px + 2
    if look.header == "two_column":
        y = max(right_end + look.header_px // 2, y + 3 * sheet.line_height(look.header_px))
        sheet.centred(right_cx, y, date, Style.italic, date_px)
        return max(left_end, y) + 2 * look.header_px
    y = max(left_end, right_end) + look.header_px // 2
    sheet.text(
        look.left + look.width - sheet.width_of(date, Style.italic, date_px),
        y,
        date,
        Style.italic,
        date_px,
    )
    return y + 2 * look.header_px


def _title(sheet: Sheet, doc: Document, y: int) -> int:
    look = sheet.look
    cx = look.left + look.width / 2
    if doc.title:
        title_px = look.body_px + 4
        sheet.centred(cx, y, doc.title.upper(), Style.bold, title_px)
        y += sheet.line_height(title_px)
    if doc.kind == "công văn":
        return y
    for line in sheet.wrap(doc.subject, Style.bold, look.body_px, look.width * 0.8):
        sheet.centred(cx, y, line, Style.bold, look.body_px)
        y += sheet.line_height(look.body_px)
    sheet.rule(cx, y - sheet.line_height(look.body_px) + round(look.body_px * 0.6), 300)
    return y + look.body_px


@dataclass(frozen=True)
class Block:
    """Body text not yet drawn: wrapped lines and how to draw them."""

    lines: list[str]
    style: Style = Style.regular
    centred: bool = False
    text: str = ""  # the paragraph before wrapping (to shorten it by whole sentences)


def _blocks(sheet: Sheet, doc: Document) -> tuple[list[Block], list[Block], list[Block]]:
    """(openings, paragraphs, closings), wrapped to the text width."""
    look, px = sheet.look, sheet.look.body_px

    def block(text: str, style: Style = Style.regular) -> Block:
        return Block(sheet.wrap(text, style, px, look.width, look.indent), style, text=text)

    def centred(text: str) -> Block:
        return Block(sheet.wrap(text, Style.bold, px, look.width * 0.9), Style.bold, True)

    openings: list[Block] = []
    paragraphs = list(doc.paragraphs)
    if doc.kind == "quyết định":
        authority = f"{doc.organ.head} {doc.organ.name}".upper()
        openings.append(centred(doc.spell(authority)))
        openings += [block(text, Style.italic) for text in doc.openings]
        openings.append(centred(doc.spell("QUYẾT ĐỊNH:")))
        paragraphs[0] = f"Điều 1. {paragraphs[0]}"
    else:
        openings += [block(text) for text in doc.openings]
    closings = [block(text) for text in doc.closings]
    return openings, [block(text) for text in paragraphs], closings


def _block_height(sheet: Sheet, block: Block) -> int:
    return len(block.lines) * sheet.line_height(sheet.look.body_px) + sheet.look.paragraph_gap


def _shortened(sheet: Sheet, block: Block, room: int) -> Block | None:
    """`block`, or its first sentences, whichever is the longest that fits in `room` px."""
    if _block_height(sheet, block) <= room:
        return block
    sentences = block.text.split(". ")
    for keep in range(len(sentences) - 1, 0, -1):
        text = ". ".join(sentences[:keep]) + "."
        look = sheet.look
        lines = sheet.wrap(text, block.style, look.body_px, look.width, look.indent)
        shorter = Block(lines, block.style, text=text)
        if _block_height(sheet, shorter) <= room:
            return shorter
    return None


def _draw_block(sheet: Sheet, block: Block, y: int) -> int:
    px = sheet.look.body_px
    if not block.centred:
        return sheet.paragraph(y, block.lines, block.style, px, indent=sheet.look.indent)
    for line in block.lines:
        sheet.centred(sheet.look.left + sheet.look.width / 2, y, line, block.style, px)
        y += sheet.line_height(px)
    return y + sheet.look.paragraph_gap


def _closing_height(sheet: Sheet, doc: Document) -> int:
    look = sheet.look
    left = pt_to_px(12) * 1.3 + len(doc.recipients) * pt_to_px(11) * 1.25
    right = 6 * sheet.line_height(look.body_px)
    return round(max(left, right)) + look.body_px


def _closing(sheet: Sheet, doc: Document, y: int) -> None:
    """`Nơi nhận:` and its list bottom left; the signer block bottom right."""
    look = sheet.look
    y += look.body_px // 2
    label_px, item_px = pt_to_px(12), pt_to_px(11)
    sheet.text(look.left, y, doc.spell("Nơi nhận:"), Style.bold_italic, label_px)
    item_y = y + round(label_px * 1.3)
    for k, name in enumerate(doc.recipients):
        end = "." if k == len(doc.recipients) - 1 else ";"
        sheet.text(look.left, item_y, f"- {name}{end}", Style.regular, item_px)
        item_y += round(item_px * 1.25)
    cx = look.left + look.width * 0.72
    step = sheet.line_height(look.body_px)
    sign_y = y
    for line in (doc.competence, doc.position):
        if line:
            sheet.centred(cx, sign_y, doc.spell(line), Style.bold, look.body_px)
            sign_y += step
    top = sign_y - step // 2
    sign_y += 3 * step
    sheet.centred(cx, sign_y, doc.signer, Style.bold, look.body_px)
    half = look.width * 0.2
    sheet.signature_box = (round(cx - half), top, round(cx + half), sign_y - look.body_px)


def render(doc: Document, look: Look) -> Sheet:
    """Draw `doc` on one page: as many body paragraphs as fit before its closing text and the
    Nơi nhận / signer block, which always fit."""
    sheet = Sheet(look)
    y = _title(sheet, doc, _header(sheet, doc) + look.body_px)
    openings, paragraphs, closings = _blocks(sheet, doc)
    reserved = sum(_block_height(sheet, b) for b in closings) + _closing_height(sheet, doc)
    bottom = A4_PX[1] - look.bottom - reserved
    for block in openings:
        y = _draw_block(sheet, block, y)
    for block in paragraphs:
        fitting = _shortened(sheet, block, bottom - y)
        if fitting is None:
            break
        y = _draw_block(sheet, fitting, y)
        if fitting is not block:
            break
    for block in closings:
        y = _draw_block(sheet, block, y)
    _closing(sheet, doc, y)
    return sheet
