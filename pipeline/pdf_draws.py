"""How much drawing a page makes PDFium do, known before PDFium loads it (docs/limits.md).

PDFium parses a Form XObject's content again at every `Do` that draws it (no cache; about
1.4 KB of memory per drawn form, measured), so forms drawing forms multiply: 28 levels of forms,
each drawing the next twice, are 2^28 forms from a 6 KB file, and loading the page took 3 GB.
Here every content stream reachable from a page — its contents, Form XObjects, tiling patterns,
soft masks, Type3 glyph procedures, annotation appearances — is scanned once for the operators
that draw something else (qpdf's parser, only those operators kept), and the counts are
multiplied along the paths, memoised per stream: the expanded cost of a page is computed without
expanding it. Inline images are checked on the way, in the page's contents as PDF defines them
(all its content streams joined), however their dictionaries are written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pikepdf

from pipeline.limits import MAX_DRAW_DEPTH, MAX_PAGE_CONTENT_BYTES, MAX_PAGE_DRAWS
from schemas.errors import ImageTooLarge

# Operators that draw another object or change which Type3 font text is drawn with;
# `BI ID EI` is how qpdf's parser is asked to keep inline images.
OPERATORS = "Do sh scn SCN gs Tf Tj TJ ' \" BI ID EI"
NO_OBJECT = (0, 0)  # objgen of a direct object

CheckInline = Callable[[pikepdf.PdfInlineImage, str], None]


@dataclass
class Cost:
    """Of one drawing, everything it draws included: objects drawn, content bytes parsed, and
    how deep its drawings nest."""

    draws: int = 1
    content_bytes: int = 0
    depth: int = 0

    def add(self, other: Cost, times: int = 1) -> None:
        self.draws += other.draws * times
        self.content_bytes += other.content_bytes * times
        self.depth = max(self.depth, other.depth + 1)


class DrawCounter:
    """Expanded costs of the pages of one PDF; `sizes` holds the decoded size of each stream
    (pdf_limits measured them), `check_inline` checks an inline image's sizes."""

    def __init__(self, sizes: dict[tuple[int, int], int], check_inline: CheckInline) -> None:
        self._sizes = sizes
        self._check_inline = check_inline
        self._memo: dict[tuple[tuple[int, int], tuple[int, int]], Cost] = {}
        self._open: list[tuple[int, int]] = []  # streams being scanned: a repeat is a cycle
        self._fonts: dict[tuple[tuple[int, int], tuple[int, int]], Cost] = {}

    def check_page(self, page: pikepdf.Page, page_no: int) -> None:
        what = f"page {page_no}"
        resources = _inherited(page.obj, "/Resources")
        contents = page.obj.get("/Contents")
        parts = contents if isinstance(contents, pikepdf.Array) else [contents]
        cost = Cost(content_bytes=sum(self._size(part) for part in parts))
        self._scan(page.obj, resources, cost, what)
        for annotation in _list(page.obj.get("/Annots")):
            if isinstance(annotation, pikepdf.Dictionary):
                states = [self._drawing(s, None, what) for s in _appearances(annotation)]
                if states:  # a viewer draws one state of it
                    cost.add(max(states, key=lambda state: state.draws))
        _check(cost, what)

    def _size(self, stream: object) -> int:
        return self._sizes.get(stream.objgen, 0) if isinstance(stream, pikepdf.Stream) else 0

    def _drawing(self, stream: pikepdf.Stream, inherited: object, what: str) -> Cost:
        """Cost of drawing a form, pattern or glyph procedure once."""
        resources = stream.get("/Resources", inherited)
        key = (stream.objgen, _objgen(resources))
        if key in self._memo:
            return self._memo[key]
        if stream.objgen != NO_OBJECT and stream.objgen in self._open:
            raise ImageTooLarge(
                f"{what}: object {stream.objgen[0]} draws itself (Form XObjects in a cycle); "
                "refused before reading"
            )
        if len(self._open) >= MAX_DRAW_DEPTH:
            _too_deep(what)
        self._open.append(stream.objgen)
        try:
            cost = Cost(content_bytes=self._size(stream))
            self._scan(stream, resources, cost, what)
        finally:
            self._open.pop()
        _check(cost, what)
        self._memo[key] = cost
        return cost

    def _scan(self, holder: pikepdf.Object, resources: object, cost: Cost, what: str) -> None:
        if not _draws_through(resources) and not _may_hold(holder, (b"sh", b"BI")):
            return  # nothing here can draw anything else (born-digital text: most pages)
        try:
            instructions = pikepdf.parse_content_stream(holder, OPERATORS)
        except (pikepdf.PdfError, RuntimeError, TypeError):
            return  # unparseable content: PDFium stops where its own parser does
        font_cost: Cost | None = None
        for instruction in instructions:
            if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                self._check_inline(instruction.iimage, f"inline image in {what}")
                cost.add(Cost())
                continue
            operator, operands = str(instruction.operator), instruction.operands
            if operator == "Tf":
                font_cost = self._type3(_named(resources, "/Font", operands[:1]), resources, what)
            elif operator in ("Tj", "TJ", "'", '"') and font_cost is not None:
                cost.add(font_cost, _glyphs(operands))  # a glyph procedure per character
            else:
                drawn = self._drawn(operator, operands, resources, what)
                if drawn is not None:
                    cost.add(drawn)

    def _drawn(self, operator: str, operands: list, resources: object, what: str) -> Cost | None:
        if operator == "sh":
            return Cost()
        if operator == "Do":
            target = _named(resources, "/XObject", operands[:1])
            if not isinstance(target, pikepdf.Stream):
                return None
            if target.get("/Subtype") == pikepdf.Name.Form:
                return self._drawing(target, resources, what)
            return Cost()
        if operator in ("scn", "SCN"):
            pattern = _named(resources, "/Pattern", operands[-1:])
            if isinstance(pattern, pikepdf.Stream):  # a tiling pattern: content of its own
                return self._drawing(pattern, None, what)
            return Cost() if pattern is not None else None
        if operator == "gs":
            state = _named(resources, "/ExtGState", operands[:1])
            mask = state.get("/SMask") if isinstance(state, pikepdf.Dictionary) else None
            group = mask.get("/G") if isinstance(mask, pikepdf.Dictionary) else None
            if isinstance(group, pikepdf.Stream):
                return self._drawing(group, resources, what)
        return None

    def _type3(self, font: object, resources: object, what: str) -> Cost | None:
        """What one glyph of a Type3 font may cost: its most expensive glyph procedure."""
        if not isinstance(font, pikepdf.Dictionary) or font.get("/Subtype") != "/Type3":
            return None
        key = (font.objgen, _objgen(resources))
        if key not in self._fonts:
            self._fonts[key] = self._glyph_cost(font, resources, what)
        return self._fonts[key]

    def _glyph_cost(self, font: pikepdf.Dictionary, resources: object, what: str) -> Cost:
        procs = font.get("/CharProcs")
        glyph = Cost(draws=0)
        inherited = font.get("/Resources", resources)
        for proc in procs.values() if isinstance(procs, pikepdf.Dictionary) else []:
            if isinstance(proc, pikepdf.Stream):
                cost = self._drawing(proc, inherited, what)
                glyph.draws = max(glyph.draws, cost.draws)
                glyph.content_bytes = max(glyph.content_bytes, cost.content_bytes)
                glyph.depth = max(glyph.depth, cost.depth)
        return glyph


def _draws_through(resources: object) -> bool:
    """Whether `resources` name anything an operator draws through: a form or image, a
    pattern, a graphics state (a soft mask), a Type3 font. Without any, of the counted
    operators only `sh` and inline images draw (`_drawn` finds nothing for the others)."""
    if not isinstance(resources, pikepdf.Dictionary):
        return False
    for category in ("/XObject", "/Pattern", "/ExtGState"):
        named = resources.get(category)
        if isinstance(named, pikepdf.Dictionary) and len(named) > 0:
            return True
    fonts = resources.get("/Font")
    return isinstance(fonts, pikepdf.Dictionary) and any(
        isinstance(font, pikepdf.Dictionary) and font.get("/Subtype") == "/Type3"
        for font in fonts.values()
    )


def _may_hold(holder: pikepdf.Object, operators: tuple[bytes, ...]) -> bool:
    """False only when the content of `holder` (a stream, or a page's streams joined) surely
    holds none of `operators`: their bytes are nowhere in it. An operator is its bytes, so the
    parse could not find one either; anything unreadable counts as holding them."""
    if isinstance(holder, pikepdf.Stream):
        parts: list = [holder]
    else:
        contents = holder.get("/Contents") if isinstance(holder, pikepdf.Dictionary) else None
        parts = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    try:
        data = b"".join(p.read_bytes() for p in parts if isinstance(p, pikepdf.Stream))
    except (pikepdf.PdfError, RuntimeError, TypeError):
        return True
    return any(operator in data for operator in operators)


def _check(cost: Cost, what: str) -> None:
    if cost.depth > MAX_DRAW_DEPTH:
        _too_deep(what)
    if cost.draws > MAX_PAGE_DRAWS:
        raise ImageTooLarge(
            f"{what} draws at least {cost.draws:,} forms, images, patterns and glyphs once its "
            f"nested Form XObjects are expanded, above the limit of {MAX_PAGE_DRAWS:,}; "
            "refused before reading"
        )
    if cost.content_bytes > MAX_PAGE_CONTENT_BYTES:
        raise ImageTooLarge(
            f"{what} has {cost.content_bytes:,} bytes of content to parse once its nested "
            f"Form XObjects are expanded, above the limit of {MAX_PAGE_CONTENT_BYTES:,}; "
            "refused before reading"
        )


def _too_deep(what: str) -> None:
    raise ImageTooLarge(
        f"{what} nests Form XObjects, patterns or glyph procedures more than {MAX_DRAW_DEPTH} "
        "deep (the limit); refused before reading"
    )


def _objgen(value: object) -> tuple[int, int]:
    return value.objgen if isinstance(value, pikepdf.Object) else NO_OBJECT


def _list(value: object) -> list:
    return list(value) if isinstance(value, pikepdf.Array) else []


def _inherited(page: pikepdf.Dictionary, key: str) -> object:
    """A page attribute, from the page or the nearest ancestor in the page tree that has it."""
    node: object = page
    for _ in range(64):  # a page tree deeper than this is no real one
        if not isinstance(node, pikepdf.Dictionary):
            return None
        if key in node:
            return node[key]
        node = node.get("/Parent")
    return None


def _named(resources: object, category: str, operands: list) -> object:
    if not operands or not isinstance(operands[0], pikepdf.Name):
        return None
    if not isinstance(resources, pikepdf.Dictionary):
        return None
    named = resources.get(category)
    return named.get(operands[0]) if isinstance(named, pikepdf.Dictionary) else None


def _glyphs(operands: list) -> int:
    count = 0
    for operand in operands:
        if isinstance(operand, pikepdf.String):
            count += len(bytes(operand))
        elif isinstance(operand, pikepdf.Array):
            count += _glyphs(list(operand))
    return count


def _appearances(annotation: pikepdf.Dictionary) -> list[pikepdf.Stream]:
    """The normal appearance a viewer draws: one stream, or one per state."""
    appearances = annotation.get("/AP")
    normal = appearances.get("/N") if isinstance(appearances, pikepdf.Dictionary) else None
    if isinstance(normal, pikepdf.Stream):
        return [normal]
    if isinstance(normal, pikepdf.Dictionary):
        return [s for s in normal.values() if isinstance(s, pikepdf.Stream)]
    return []
