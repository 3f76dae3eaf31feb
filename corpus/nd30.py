"""Lay out and render Nghị định 30/2020 (Phụ lục I) style pages.

Layout is computed once, in pixels at 300 dpi, as positioned text runs and rules
(`PageLayout`). The raster renderer (`render_page`) and the born-digital PDF writer
(`formats.write_pdf_digital`) both draw from the same layout, and the page's true text is the
layout's lines in reading order (`PageLayout.text`).

Reading order of the truth: header left column (parent organ, organ, Số, V/v…), then header
right column (Quốc hiệu, Tiêu ngữ, place and date), then everything else top to bottom; the
closing two-column block is read the same way: Nơi nhận list, then the signer block.
Continuation pages start with their page number (ND30 puts it top centre from page 2).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from PIL import Image, ImageDraw

from corpus.content import DocSpec, random_spec
from corpus.fonts import A4_PX, DPI, Style, ascent, pil_font, pt_to_px, text_width

MM = DPI / 25.4
PAGE_W, PAGE_H = A4_PX
MARGIN_LEFT = round(30 * MM)
MARGIN_RIGHT = round(20 * MM)
MARGIN_TOP = round(20 * MM)
MARGIN_BOTTOM = round(20 * MM)
TEXT_X0 = MARGIN_LEFT
TEXT_X1 = PAGE_W - MARGIN_RIGHT
TEXT_W = TEXT_X1 - TEXT_X0
TOP = MARGIN_TOP
BOTTOM = PAGE_H - MARGIN_BOTTOM
# The ND30 header table is a little wider than the text block.
HEADER_X0 = TEXT_X0 - round(6 * MM)
HEADER_X1 = TEXT_X1 + round(5 * MM)
HEADER_SPLIT = HEADER_X0 + round(0.42 * (HEADER_X1 - HEADER_X0))
RULE_PX = 3  # ~0.25 mm
LINE_SPACING = 1.2
PARAGRAPH_GAP = pt_to_px(6)
INDENT = round(10 * MM)

Align = Literal["justify", "left", "center"]
Token = tuple[str, Style]


# --------------------------------------------------------------------------- layout model


@dataclass(frozen=True)
class Run:
    """Text drawn with its left end at x and its baseline at y (px, 300 dpi)."""

    x: float
    y: float
    text: str
    style: Style
    px: int


@dataclass(frozen=True)
class Line:
    text: str  # the line's true text: its runs joined by single spaces
    runs: tuple[Run, ...]

    def shifted(self, dy: float) -> Line:
        return Line(self.text, tuple(replace(r, y=r.y + dy) for r in self.runs))


@dataclass(frozen=True)
class Rule:
    x0: float
    x1: float
    y: float
    thickness: int = RULE_PX

    def shifted(self, dy: float) -> Rule:
        return replace(self, y=self.y + dy)


@dataclass(frozen=True)
class Block:
    """Lines and rules with y relative to the block's top; pagination never splits a block."""

    lines: tuple[Line, ...]
    rules: tuple[Rule, ...] = ()
    height: float = 0
    space_before: float = 0


@dataclass
class PageLayout:
    page_no: int
    lines: list[Line] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    bottom: float = TOP  # lowest y used by content
    width: int = PAGE_W
    height: int = PAGE_H

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def place(self, block: Block, top: float) -> None:
        self.lines.extend(line.shifted(top) for line in block.lines)
        self.rules.extend(rule.shifted(top) for rule in block.rules)
        self.bottom = top + block.height


# --------------------------------------------------------------------------- line builders


def _line_height(px: int) -> float:
    return round(px * LINE_SPACING)


def _single_run_line(text: str, style: Style, px: int, x: float, y: float) -> Line:
    return Line(text, (Run(x, y, text, style, px),))


def _centered(text: str, style: Style, px: int, cx: float, y: float) -> Line:
    return _single_run_line(text, style, px, cx - text_width(text, style, px) / 2, y)


def _tokens(text: str, style: Style) -> list[Token]:
    return [(word, style) for word in text.split()]


def _article_tokens(text: str, style: Style = Style.regular) -> list[Token]:
    """Tokens for a paragraph, with a leading "Điều N." set in bold as ND30 does."""
    match = re.match(r"(Điều \d+\.)\s+(.*)", text)
    if not match:
        return _tokens(text, style)
    return _tokens(match[1], Style.bold) + _tokens(match[2], style)


def _tokens_width(tokens: Sequence[Token], px: int) -> float:
    words = sum(text_width(w, s, px) for w, s in tokens)
    return words + sum(text_width(" ", s, px) for _, s in tokens[:-1])


def _wrap(tokens: Sequence[Token], px: int, first_width: float, width: float) -> list[list[Token]]:
    lines: list[list[Token]] = []
    current: list[Token] = []
    for token in tokens:
        limit = first_width if not lines else width
        if current and _tokens_width([*current, token], px) > limit:
            lines.append(current)
            current = []
        current.append(token)
    if current:
        lines.append(current)
    return lines


def _token_line(
    tokens: Sequence[Token], px: int, x: float, y: float, width: float, align: Align, last: bool
) -> Line:
    text = " ".join(w for w, _ in tokens)
    natural = _tokens_width(tokens, px)
    gaps = len(tokens) - 1
    extra = 0.0
    if align == "center":
        x += (width - natural) / 2
    elif align == "justify" and not last and gaps:
        extra = (width - natural) / gaps
        if extra > 3 * text_width(" ", Style.regular, px):
            extra = 0.0  # a near-empty line looks better ragged than stretched
    runs = []
    for word, style in tokens:
        runs.append(Run(x, y, word, style, px))
        x += text_width(word, style, px) + text_width(" ", style, px) + extra
    return Line(text, tuple(runs))


@dataclass(frozen=True)
class Para:
    tokens: tuple[Token, ...]
    px: int
    align: Align = "justify"
    indent: float = INDENT
    x0: float = TEXT_X0
    width: float = TEXT_W
    space_before: float = PARAGRAPH_GAP


def paragraph_blocks(para: Para) -> list[Block]:
    """One block per line, so a paragraph may break across pages."""
    height = _line_height(para.px)
    base = ascent(Style.regular, para.px)
    wrapped = _wrap(para.tokens, para.px, para.width - para.indent, para.width)
    blocks = []
    for i, tokens in enumerate(wrapped):
        indent = para.indent if i == 0 else 0
        line = _token_line(
            tokens,
            para.px,
            para.x0 + indent,
            base,
            para.width - indent,
            para.align,
            last=i == len(wrapped) - 1,
        )
        blocks.append(Block((line,), (), height, para.space_before if i == 0 else 0))
    return blocks


# --------------------------------------------------------------------------- ND30 parts


def _balanced_wrap(tokens: Sequence[Token], px: int, width: float) -> list[list[Token]]:
    """Like `_wrap`, but a two-line result is split where its longer line is shortest, the way
    headers are set: "ỦY BAN NHÂN DÂN / TỈNH KON TUM", not "ỦY BAN NHÂN DÂN TỈNH KON / TUM"."""
    greedy = _wrap(tokens, px, width, width)
    if len(greedy) != 2:
        return greedy
    splits = [
        (max(_tokens_width(tokens[:i], px), _tokens_width(tokens[i:], px)), i)
        for i in range(1, len(tokens))
    ]
    longest, i = min(splits)
    return [list(tokens[:i]), list(tokens[i:])] if longest <= width else greedy


def _stack(
    items: Sequence[tuple[str, Style, int]], cx: float, y: float, max_width: float
) -> tuple[list[Line], float]:
    """Centered lines, each item wrapped to max_width; returns lines and the next baseline."""
    lines = []
    for text, style, px in items:
        for tokens in _balanced_wrap(_tokens(text, style), px, max_width):
            lines.append(_centered(" ".join(w for w, _ in tokens), style, px, cx, y))
            y += _line_height(px)
    return lines, y


def _rule_under(line: Line, fraction: float, px: int) -> Rule:
    first, last = line.runs[0], line.runs[-1]
    x0 = first.x
    x1 = last.x + text_width(last.text, last.style, last.px)
    cx, half = (x0 + x1) / 2, (x1 - x0) * fraction / 2
    return Rule(cx - half, cx + half, first.y + round(0.45 * px))


def header_block(spec: DocSpec) -> Block:
    hpx = pt_to_px(spec.header_pt)
    npx = pt_to_px(13)
    left_cx = (HEADER_X0 + HEADER_SPLIT) / 2
    right_cx = (HEADER_SPLIT + HEADER_X1) / 2
    left_w = HEADER_SPLIT - HEADER_X0 - 40
    right_w = HEADER_X1 - HEADER_SPLIT
    y0 = ascent(Style.bold, hpx)

    parent = [(spec.organ.parent, Style.regular, hpx)] if spec.organ.parent else []
    organ_lines, left_y = _stack([*parent, (spec.organ.name, Style.bold, hpx)], left_cx, y0, left_w)
    motto_px = hpx + pt_to_px(1)
    nation_lines, right_y = _stack(
        [
            ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Style.bold, hpx),
            ("Độc lập - Tự do - Hạnh phúc", Style.bold, motto_px),
        ],
        right_cx,
        y0,
        right_w,
    )
    rules = [_rule_under(organ_lines[-1], 0.4, hpx), _rule_under(nation_lines[-1], 1.0, motto_px)]

    row_y = max(left_y, right_y) + round(0.7 * npx)
    code = _centered(spec.code_line, Style.regular, npx, left_cx, row_y)
    date_px = npx + (pt_to_px(1) if spec.body_pt >= 14 else 0)
    dated = _centered(spec.date_line, Style.italic, date_px, right_cx, row_y)
    subject_lines: list[Line] = []
    bottom = row_y
    if spec.is_cong_van:
        subject_lines, bottom = _stack(
            [(spec.subject, Style.regular, hpx)], left_cx, row_y + _line_height(npx), left_w
        )
        bottom -= _line_height(hpx)
    lines = (*organ_lines, code, *subject_lines, *nation_lines, dated)
    return Block(lines, tuple(rules), bottom + round(0.4 * npx))


def title_block(spec: DocSpec) -> Block | None:
    if spec.is_cong_van:
        return None
    px = pt_to_px(14)
    y = ascent(Style.bold, px)
    type_line = _centered(spec.doc_type.name.upper(), Style.bold, px, PAGE_W / 2, y)
    subject_lines, end = _stack(
        [(spec.subject, Style.bold, px)],
        (TEXT_X0 + TEXT_X1) / 2,
        y + _line_height(px),
        TEXT_W * 0.8,
    )
    rule = _rule_under(subject_lines[-1], 0.4, px)
    return Block(
        (type_line, *subject_lines),
        (rule,),
        end - _line_height(px) + px,
        space_before=round(1.6 * px),
    )


def addressee_blocks(spec: DocSpec) -> list[Block]:
    px = pt_to_px(spec.body_pt)
    if not spec.addressees:
        return []
    space = round(0.8 * px)
    if len(spec.addressees) == 1:
        text = f"Kính gửi: {spec.addressees[0]}."
        return paragraph_blocks(
            Para(tuple(_tokens(text, Style.regular)), px, "center", 0, space_before=space)
        )
    x = TEXT_X0 + TEXT_W * 0.22
    items = [f"- {a};" for a in spec.addressees[:-1]] + [f"- {spec.addressees[-1]}."]
    blocks = paragraph_blocks(
        Para(
            tuple(_tokens("Kính gửi:", Style.regular)),
            px,
            "left",
            0,
            x0=x,
            width=TEXT_X1 - x,
            space_before=space,
        )
    )
    item_x = x + text_width("Kính gửi: ", Style.regular, px)
    for item in items:
        blocks += paragraph_blocks(
            Para(
                tuple(_tokens(item, Style.regular)),
                px,
                "left",
                0,
                x0=item_x,
                width=TEXT_X1 - item_x,
                space_before=0,
            )
        )
    return blocks


def preamble_blocks(spec: DocSpec) -> list[Block]:
    """Quyết định: the issuing authority, the legal bases (italic) and "QUYẾT ĐỊNH:"."""
    if spec.doc_type.key != "qd":
        return []
    px = pt_to_px(spec.body_pt)
    organ = spec.organ
    collective = organ.collective and spec.signer_competence.startswith("TM.")
    authority = organ.name if collective else f"{organ.head} {organ.name}"
    blocks = paragraph_blocks(
        Para(tuple(_tokens(authority, Style.bold)), px, "center", 0, space_before=round(0.8 * px))
    )
    for basis in spec.legal_bases:
        blocks += paragraph_blocks(Para(tuple(_tokens(basis, Style.italic)), px))
    blocks += paragraph_blocks(
        Para(
            tuple(_tokens("QUYẾT ĐỊNH:", Style.bold)), px, "center", 0, space_before=round(0.6 * px)
        )
    )
    return blocks


def body_paragraph_blocks(spec: DocSpec, index: int, text: str) -> list[Block]:
    px = pt_to_px(spec.body_pt)
    if spec.doc_type.key in ("qd", "nq") and index == 0:
        text = f"Điều 1. {text}"
    return paragraph_blocks(Para(tuple(_article_tokens(text)), px))


def closing_blocks(spec: DocSpec) -> list[Block]:
    px = pt_to_px(spec.body_pt)
    blocks: list[Block] = []
    for text in spec.closing:
        blocks += paragraph_blocks(Para(tuple(_article_tokens(text)), px))
    return blocks


def footer_block(spec: DocSpec) -> Block:
    """Nơi nhận (bottom left) beside the signer block (bottom right), kept together."""
    label_px, item_px = pt_to_px(12), pt_to_px(11)
    sign_px = pt_to_px(spec.body_pt)
    top = round(0.6 * sign_px)
    left_x = HEADER_X0 + round(4 * MM)
    left_w = TEXT_X0 + TEXT_W * 0.45 - left_x
    y = top + ascent(Style.bold_italic, label_px)
    left = [_single_run_line("Nơi nhận:", Style.bold_italic, label_px, left_x, y)]
    y += _line_height(label_px)
    for item in spec.recipients:
        for i, tokens in enumerate(
            _wrap(_tokens(f"- {item}", Style.regular), item_px, left_w, left_w - 30)
        ):
            x = left_x + (30 if i else 0)
            left.append(_token_line(tokens, item_px, x, y, left_w, "left", last=True))
            y += _line_height(item_px)
    left_bottom = y

    cx = TEXT_X0 + TEXT_W * 0.74
    y = top + ascent(Style.bold, sign_px)
    titles = [t for t in (spec.signer_competence, spec.signer_position) if t]
    right, y = _stack([(t, Style.bold, sign_px) for t in titles], cx, y, TEXT_W * 0.5)
    y += round(3.2 * sign_px)  # signature and seal go here
    name = _centered(spec.signer_name, Style.bold, sign_px, cx, y)
    bottom = max(left_bottom, y + _line_height(sign_px))
    return Block((*left, *right, name), (), bottom, space_before=0)


# --------------------------------------------------------------------------- pagination


def page_number_line(page_no: int) -> Line:
    px = pt_to_px(13)
    return _centered(str(page_no), Style.regular, px, PAGE_W / 2, round(TOP * 0.65))


def paginate(blocks: Sequence[Block]) -> list[PageLayout]:
    pages = [PageLayout(1)]
    for block in blocks:
        page = pages[-1]
        at_top = not page.lines or (page.page_no > 1 and len(page.lines) == 1)
        gap = 0 if at_top else block.space_before
        if not at_top and page.bottom + gap + block.height > BOTTOM:
            page = PageLayout(len(pages) + 1)
            page.lines.append(page_number_line(page.page_no))
            pages.append(page)
            gap = 0
        page.place(block, page.bottom + gap)
    return pages


def _sentence_prefixes(text: str) -> list[str]:
    """Longest first: the paragraph cut after each of its sentences (the whole one excluded)."""
    sentences = re.split(r"(?<=[.;!?])\s+", text)
    prefixes = (" ".join(sentences[:n]) for n in range(len(sentences) - 1, 0, -1))
    return [p for p in prefixes if len(p) >= 60]  # not "7." alone


def layout_document(
    spec: DocSpec, target_pages: int, last_page_fill: float = 1.0
) -> list[PageLayout]:
    """Take as many body paragraphs as fit in `target_pages` pages, the last page filled to at
    most `last_page_fill` of its height (relaxed when even the bare document needs more)."""
    head = [header_block(spec)]
    title = title_block(spec)
    head += [title] if title else []
    head += addressee_blocks(spec) + preamble_blocks(spec)
    tail = [*closing_blocks(spec), footer_block(spec)]
    for fill in (last_page_fill, 1.0):
        limit = TOP + fill * (BOTTOM - TOP)
        pages = _fill_body(spec, head, tail, target_pages, limit)
        if pages:
            return pages
    return paginate([*head, *tail])


def _fill_body(
    spec: DocSpec, head: list[Block], tail: list[Block], target: int, limit: float
) -> list[PageLayout] | None:
    def fits(pages: list[PageLayout]) -> bool:
        return len(pages) < target or (len(pages) == target and pages[-1].bottom <= limit)

    body: list[Block] = []
    best = paginate([*head, *tail])
    if not fits(best):
        return None
    for index, text in enumerate(spec.body):
        candidate = body + body_paragraph_blocks(spec, index, text)
        pages = paginate([*head, *candidate, *tail])
        if fits(pages):
            body, best = candidate, pages
            continue
        for prefix in _sentence_prefixes(text):
            pages = paginate([*head, *body, *body_paragraph_blocks(spec, index, prefix), *tail])
            if fits(pages):
                return pages
        break
    return best


# --------------------------------------------------------------------------- rendering


def render_page(page: PageLayout, ink: int = 0) -> Image.Image:
    """Greyscale ("L") 300-dpi image of a laid-out page."""
    image = Image.new("L", (page.width, page.height), 255)
    draw = ImageDraw.Draw(image)
    for line in page.lines:
        for run in line.runs:
            draw.text(
                (round(run.x), round(run.y)),
                run.text,
                fill=ink,
                font=pil_font(run.style, run.px),
                anchor="ls",
            )
    for rule in page.rules:
        draw.line(
            [(round(rule.x0), round(rule.y)), (round(rule.x1), round(rule.y))],
            fill=ink,
            width=rule.thickness,
        )
    image.info["dpi"] = (DPI, DPI)
    return image


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class SyntheticDocument:
    spec: DocSpec
    pages: tuple[PageLayout, ...]

    @property
    def metadata(self) -> dict:
        return self.spec.metadata(page_amount=len(self.pages))

    @property
    def texts(self) -> list[str]:
        return [page.text for page in self.pages]

    def images(self) -> Iterator[Image.Image]:
        """Clean renderings, one page at a time (an A4 page at 300 dpi is 8.7 MB)."""
        for page in self.pages:
            yield render_page(page)


def make_document(rng: random.Random, pages: int | None = None) -> SyntheticDocument:
    """A random ND30 document of `pages` pages (1–3 drawn from rng when None)."""
    spec = random_spec(rng)
    target = pages if pages is not None else rng.choice((1, 1, 2, 3))
    fill = rng.uniform(0.55, 0.95)
    return SyntheticDocument(spec, tuple(layout_document(spec, target, fill)))
