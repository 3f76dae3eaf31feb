"""What a page may carry into sohoa's output: no active content, no embedded files, PDF/A-2b.

Every page that enters an output (`pdf.assemble`) passes through `clean`. Pages copied from a
born-digital original can carry scripts, launch actions, attachments, form fields and PDF
features that ISO 19005-2 (PDF/A-2b) forbids. `clean` removes or neutralises them in the output
(the original stays untouched in the store), and returns what it could not make PDF/A: the output
then does not claim PDF/A and the record says why.

Removed or neutralised:
- page /AA (open/close actions), /B beads, /Metadata, /PieceInfo, /StructParents (the source's
  structure tree is not copied);
- annotations: those with a print appearance (form fields, stamps, notes) are flattened into
  the page, so what was printed stays; of the rest only Link annotations to a web address (URI)
  are kept, rebuilt from scratch with the print flag; every other annotation is dropped (scripts,
  launch/submit/import actions, attachments, sound, movie, screen, 3D, rich media, links into
  the source document);
- streams stored in external files (/F), LZW-compressed streams (recompressed with Flate);
- image /Alternates and /OPI, /Interpolate; form /OPI, /Ref; PostScript XObjects (emptied);
- graphics-state transfer functions (/TR, /TR2), halftones (/HT, /HTP) and unknown blend modes;
- content-stream operators that PDF does not define (and PS);
- non-embedded simple Latin fonts get an embedded metric-compatible substitute (fontsub).
The output document itself is built new (`pdf.assemble`), so no catalog-level /OpenAction, /AA,
/Names (JavaScript, EmbeddedFiles) or /AcroForm of a source ever reaches it.

The steps above know where such things normally sit; a hostile file can hide them anywhere a
page reaches (a custom key, a marked-content property list, a copy of its own catalog). So a
last, generic sweep (`_sweep`) visits every object the saved file will hold (all that is reachable
from the trailer) and removes, wherever they sit: embedded file streams, file specifications,
actions of a type sohoa does not keep (all but GoTo, web/mail URI, page-turning Named), and the
keys /JS, /AA, /OpenAction, /XFA, /AcroForm, /EmbeddedFiles, /JavaScript, /AF and /Next (a page
that is also an action loses its /S). A check pass then looks again: anything still there keeps
the output from claiming PDF/A, with that reason (a safety net: no known input leaves anything).

Reported (the output is then not PDF/A): a non-embedded font that has no faithful substitute,
DeviceCMYK colour (sohoa's output intent is sRGB and it has no CMYK profile to add).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from pipeline import fontsub

# Operators of ISO 32000-1 Annex A (PS is defined but forbidden by PDF/A).
_OPERATOR_NAMES = (
    "b B b* B* BDC BI BMC BT BX c cm CS cs d d0 d1 Do DP EI EMC ET EX f F f* G g gs h i ID j J "
    "K k l m M MP n q Q re RG rg ri s S SC sc SCN scn sh T* Tc Td TD Tf Tj TJ TL Tm Tr Ts Tw Tz "
    "v w W W* y ' \""
)
OPERATORS = frozenset(_OPERATOR_NAMES.split())
KNOWN_OPERATORS = frozenset(pikepdf.Operator(op) for op in OPERATORS)
CMYK_OPERATORS = frozenset(pikepdf.Operator(op) for op in ("k", "K"))
SET_SPACE = frozenset(pikepdf.Operator(op) for op in ("cs", "CS"))
INLINE_IMAGE = pikepdf.Operator("INLINE IMAGE")
_BLEND_MODE_NAMES = (
    "/Normal /Compatible /Multiply /Screen /Overlay /Darken /Lighten /ColorDodge /ColorBurn "
    "/HardLight /SoftLight /Difference /Exclusion /Hue /Saturation /Color /Luminosity"
)
BLEND_MODES = frozenset(_BLEND_MODE_NAMES.split())
PAGE_KEYS_DROPPED = ("/AA", "/B", "/Metadata", "/PieceInfo", "/StructParents", "/PresSteps", "/ID")
ANNOT_PRINT, ANNOT_HIDDEN, ANNOT_INVISIBLE, ANNOT_NOVIEW = 4, 2, 1, 32
CMYK = ("/DeviceCMYK", "/CMYK")
# Dropped even when printed: what they carry (files, media, 3D scenes) is not their look.
ANNOTS_DROPPED = ("/FileAttachment", "/Sound", "/Movie", "/Screen", "/3D", "/RichMedia")
ANNOT_KEYS_DROPPED = ("/A", "/AA", "/FS", "/Sound", "/Movie", "/Parent", "/Popup", "/P")


class Problems:
    """Reasons an output cannot claim PDF/A, each with the output pages it concerns."""

    def __init__(self) -> None:
        self._pages: dict[str, set[int]] = defaultdict(set)

    def add(self, reason: str, page_no: int) -> None:
        self._pages[reason].add(page_no)

    def reasons(self) -> list[str]:
        return [f"{reason} (page {_ranges(pages)})" for reason, pages in self._pages.items()]


def _ranges(pages: set[int]) -> str:
    spans: list[list[int]] = []
    for n in sorted(pages):
        if spans and spans[-1][1] == n - 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def clean(
    pdf: pikepdf.Pdf,
    hidden_layers: Iterable[pikepdf.Object] = (),
    *,
    contents_checked: bool = False,
) -> list[str]:
    """Sanitise every page of `pdf` in place; returns why it cannot be PDF/A-2b ([] if it can).

    `hidden_layers`: optional content groups the sources hid by default (`layers_hidden_in`).
    `contents_checked`: every page comes from an output of sohoa that is PDF/A (a part cut
    from a scan's searchable PDF): its content streams were parsed then and hold nothing to
    drop, so they are not parsed again (the costliest step, ~half of a born-digital page's
    assembly); everything else is still done, as pages copied into a new file need it.
    """
    problems = Problems()
    for key in ("/OpenAction", "/AA", "/Names", "/AcroForm", "/Outlines", "/OCProperties"):
        if key in pdf.Root:
            del pdf.Root[key]
    _declare_layers(pdf, hidden_layers)
    pages = {page.obj.objgen for page in pdf.pages}
    for page in pdf.pages:
        _clean_page_dict(page.obj)
        _drop_annotations(page.obj, pages, keep_printed=True)
    # Printed appearances (filled form fields, stamps) become page content; the rest is dropped.
    pdf.flatten_annotations(mode="print")
    for page in pdf.pages:
        _drop_annotations(page.obj, pages, keep_printed=False)
    fonts: dict = {}
    seen: set[tuple[int, int]] = set()
    for page_no, page in enumerate(pdf.pages, start=1):
        for holder in _content_holders(page.obj, seen):
            _clean_holder(pdf, holder, page_no, problems, fonts, contents_checked)
    _sweep(pdf, remove=True)
    left = _sweep(pdf, remove=False)
    return problems.reasons() + [f"holds {what} that could not be removed" for what in left]


def _layers(pdf: pikepdf.Pdf) -> list[pikepdf.Object]:
    return [
        obj for obj in pdf.objects if isinstance(obj, Dictionary) and obj.get("/Type") == "/OCG"
    ]


def layers_hidden_in(out: pikepdf.Pdf, source: pikepdf.Pdf) -> list[pikepdf.Object]:
    """The optional content groups `source` hides by default, as copied into `out`.

    Call after the pages are copied: a group no copied page uses is not brought in.
    """
    properties = source.Root.get("/OCProperties")
    config = properties.get("/D") if isinstance(properties, Dictionary) else None
    if not isinstance(config, Dictionary):
        return []
    if config.get("/BaseState") == "/OFF":
        shown = {o.objgen for o in config.get("/ON", []) if isinstance(o, Dictionary)}
        groups = properties.get("/OCGs", [])
        hidden = [o for o in groups if isinstance(o, Dictionary) and o.objgen not in shown]
    else:
        hidden = [o for o in config.get("/OFF", []) if isinstance(o, Dictionary)]
    present = {o.objgen for o in _layers(out)}
    copies = (out.copy_foreign(o) for o in hidden if o.is_indirect)
    return [c for c in copies if c.objgen in present]


def _declare_layers(pdf: pikepdf.Pdf, hidden: Iterable[pikepdf.Object]) -> None:
    """PDF/A wants every optional content group listed, with one named default configuration
    without /AS; what the sources hid by default stays hidden."""
    groups = _layers(pdf)
    if not groups:
        return
    for group in groups:
        if not isinstance(group.get("/Name"), pikepdf.String):
            group.Name = pikepdf.String("layer")
    known = {g.objgen for g in groups}
    off = Array(h for h in hidden if h.objgen in known)
    pdf.Root.OCProperties = Dictionary(
        OCGs=Array(groups),
        D=Dictionary(Name=pikepdf.String("sohoa"), Order=Array(groups), OFF=off),
    )


def _clean_page_dict(page: pikepdf.Dictionary) -> None:
    for key in PAGE_KEYS_DROPPED:
        if key in page:
            del page[key]


def _drop_annotations(page: pikepdf.Dictionary, pages: set, keep_printed: bool) -> None:
    """Keep only safe Link annotations (and, before flattening, printed appearances)."""
    annots = page.get("/Annots")
    if annots is None:
        return
    kept = Array()
    for annot in annots if isinstance(annots, Array) else []:
        if not isinstance(annot, Dictionary):
            continue
        link = _safe_link(annot, pages)
        if link is not None:
            kept.append(link)
        elif keep_printed and _printed(annot):
            # Only its look survives flattening: no actions, no attachments, no field data.
            for key in ANNOT_KEYS_DROPPED:
                if key in annot:
                    del annot[key]
            kept.append(annot)
    if len(kept):
        page.Annots = kept
    else:
        del page["/Annots"]


def _printed(annot: pikepdf.Dictionary) -> bool:
    if annot.get("/Subtype") in ANNOTS_DROPPED:
        return False
    flags = int(annot.get("/F", 0))
    return bool(flags & ANNOT_PRINT) and not flags & (ANNOT_HIDDEN | ANNOT_INVISIBLE)


def _safe_link(annot: pikepdf.Dictionary, pages: set) -> pikepdf.Dictionary | None:
    """A Link to a web address or to a page of this output, rebuilt with nothing but what
    PDF/A-2b allows; else None."""
    if annot.get("/Subtype") != "/Link" or "/Rect" not in annot:
        return None
    target = _link_target(annot, pages)
    if target is None:
        return None
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([float(v) for v in annot.Rect]),
        F=ANNOT_PRINT,
        Border=Array([0, 0, 0]),
        **target,
    )
    quads = annot.get("/QuadPoints")
    if isinstance(quads, Array) and len(quads) % 8 == 0:
        link.QuadPoints = Array([float(v) for v in quads])
    return link


def _link_target(annot: pikepdf.Dictionary, pages: set) -> dict | None:
    """{"A": URI action} or {"Dest": [page ...]} for a harmless link; None for anything else
    (scripts, launches, other files, named destinations of a source that is not copied)."""
    action = annot.get("/A")
    if action is None:
        dest = annot.get("/Dest")
    elif not isinstance(action, Dictionary) or "/Next" in action:
        return None
    elif action.get("/S") == "/URI" and isinstance(action.get("/URI"), pikepdf.String):
        text = bytes(action.URI)
        if not text.lower().startswith((b"http://", b"https://", b"mailto:")):
            return None  # file:, javascript: and other schemes open more than a web page
        return {"A": Dictionary(S=Name.URI, URI=pikepdf.String(text))}
    elif action.get("/S") == "/GoTo":
        dest = action.get("/D")
    else:
        return None
    # A page of this output (a link into a page left out would copy that page in as an orphan).
    if not isinstance(dest, Array) or len(dest) < 2 or not isinstance(dest[0], Dictionary):
        return None
    if dest[0].objgen not in pages:
        return None
    view = [v for v in list(dest)[1:6] if isinstance(v, Name | int | float | Decimal) or v is None]
    return {"Dest": Array([dest[0], *view])}


class _Holder:
    """Something with a content stream and resources: a page, a form XObject, a pattern, a
    Type3 font's glyphs."""

    def __init__(self, obj: pikepdf.Object, resources: pikepdf.Object, streams: list) -> None:
        self.obj = obj
        self.resources = resources if isinstance(resources, Dictionary) else Dictionary()
        self.streams = streams


def _content_holders(page: pikepdf.Dictionary, seen: set[tuple[int, int]]) -> Iterator[_Holder]:
    """The page and everything its resources draw, each once (resources are often shared)."""
    contents = page.get("/Contents")
    streams = list(contents) if isinstance(contents, Array) else [contents]
    todo = [_Holder(page, page.get("/Resources"), [s for s in streams if isinstance(s, Stream)])]
    while todo:
        holder = todo.pop()
        yield holder
        for child in _children(holder.resources):
            key = child.objgen
            if key != (0, 0):
                if key in seen:
                    continue
                seen.add(key)
            if isinstance(child, Stream):
                todo.append(_Holder(child, child.get("/Resources"), [child]))
            elif child.get("/Subtype") == "/Type3":
                procs = child.get("/CharProcs")
                glyphs = (
                    [p for p in procs.values() if isinstance(p, Stream)]
                    if isinstance(procs, Dictionary)
                    else []
                )
                todo.append(_Holder(child, child.get("/Resources"), glyphs))


def _children(resources: pikepdf.Dictionary) -> Iterator[pikepdf.Object]:
    """Form XObjects, tiling patterns, soft-mask groups and Type3 fonts in `resources`."""
    for category, key in (("/XObject", "/Subtype"), ("/Pattern", "/PatternType")):
        group = resources.get(category)
        for item in group.values() if isinstance(group, Dictionary) else []:
            if isinstance(item, Stream) and (item.get(key) in ("/Form", 1)):
                yield item
    states = resources.get("/ExtGState")
    for state in states.values() if isinstance(states, Dictionary) else []:
        mask = state.get("/SMask") if isinstance(state, Dictionary) else None
        if isinstance(mask, Dictionary) and isinstance(mask.get("/G"), Stream):
            yield mask.G
    fonts = resources.get("/Font")
    for font in fonts.values() if isinstance(fonts, Dictionary) else []:
        if isinstance(font, Dictionary) and font.get("/Subtype") == "/Type3":
            yield font


def _clean_holder(
    pdf: pikepdf.Pdf,
    holder: _Holder,
    page_no: int,
    problems: Problems,
    fonts: dict,
    contents_checked: bool = False,
) -> None:
    resources = holder.resources
    for key in ("/OPI", "/Ref", "/AA"):
        if key in holder.obj:
            del holder.obj[key]
    cmyk_defined = isinstance(resources.get("/ColorSpace"), Dictionary) and (
        "/DefaultCMYK" in resources.ColorSpace
    )
    uses_cmyk = _group_is_cmyk(holder.obj)
    xobjects = resources.get("/XObject")
    for xobject in xobjects.values() if isinstance(xobjects, Dictionary) else []:
        if isinstance(xobject, Stream):
            uses_cmyk |= _clean_xobject(xobject)
    states = resources.get("/ExtGState")
    for state in states.values() if isinstance(states, Dictionary) else []:
        if isinstance(state, Dictionary):
            _clean_graphics_state(state)
    for category in ("/ColorSpace", "/Shading", "/Pattern"):
        group = resources.get(category)
        for name, item in group.items() if isinstance(group, Dictionary) else []:
            if name.startswith("/Default"):
                continue
            uses_cmyk |= _mentions_cmyk(item)
    font_dict = resources.get("/Font")
    for font in font_dict.values() if isinstance(font_dict, Dictionary) else []:
        if isinstance(font, Dictionary) and not fontsub.is_embedded(font):
            _substitute(pdf, font, page_no, problems, fonts)
    for stream in holder.streams if not contents_checked else ():
        uses_cmyk |= _clean_content(stream)
    if uses_cmyk and not cmyk_defined:
        problems.add("uses DeviceCMYK colour; sohoa's PDF/A output intent is sRGB", page_no)


def _substitute(
    pdf: pikepdf.Pdf, font: pikepdf.Dictionary, page_no: int, problems: Problems, fonts: dict
) -> None:
    key = font.objgen
    if key != (0, 0) and key in fonts:
        if fonts[key]:
            problems.add(fonts[key], page_no)
        return
    try:
        fontsub.substitute(pdf, font, fonts.setdefault("programs", {}))
        reason = ""
    except fontsub.CannotSubstitute as e:
        reason = str(e)
        problems.add(reason, page_no)
    if key != (0, 0):
        fonts[key] = reason


def _clean_xobject(xobject: pikepdf.Stream) -> bool:
    """Neutralise what PDF/A forbids in an XObject; returns whether it is DeviceCMYK."""
    subtype = xobject.get("/Subtype")
    if subtype == "/PS" or xobject.get("/Subtype2") == "/PS":
        xobject.write(b"")  # PostScript XObjects are forbidden: an empty form draws nothing
        xobject.Subtype = Name.Form
        xobject.BBox = Array([0, 0, 0, 0])
        for key in ("/Subtype2", "/Level1"):
            if key in xobject:
                del xobject[key]
        return False
    if subtype != "/Image":
        return False
    for key in ("/Alternates", "/OPI"):
        if key in xobject:
            del xobject[key]
    if xobject.get("/Interpolate") is not None:
        xobject.Interpolate = False
    return _mentions_cmyk(xobject.get("/ColorSpace"))


def _clean_graphics_state(state: pikepdf.Dictionary) -> None:
    for key in ("/TR", "/HTP", "/HT"):
        if key in state:
            del state[key]
    if "/TR2" in state and state.TR2 != "/Default":
        state.TR2 = Name.Default
    mode = state.get("/BM")
    if isinstance(mode, Array):
        mode = next((m for m in mode if str(m) in BLEND_MODES), Name.Normal)
        state.BM = mode
    if mode is not None and str(mode) not in BLEND_MODES:
        state.BM = Name.Normal
    mask = state.get("/SMask")
    if isinstance(mask, Dictionary) and "/TR" in mask:
        del mask["/TR"]


def _group_is_cmyk(obj: pikepdf.Object) -> bool:
    group = obj.get("/Group") if isinstance(obj, Dictionary | Stream) else None
    return isinstance(group, Dictionary) and _mentions_cmyk(group.get("/CS"))


def _mentions_cmyk(obj: pikepdf.Object | None, depth: int = 0) -> bool:
    """Whether a colour space, shading or pattern uses DeviceCMYK (also as an alternate)."""
    if obj is None or depth > 8:
        return False
    if isinstance(obj, Name):
        return str(obj) in CMYK
    if isinstance(obj, Array):
        return any(_mentions_cmyk(item, depth + 1) for item in obj if not isinstance(item, Stream))
    if isinstance(obj, Dictionary | Stream):
        for key in ("/ColorSpace", "/CS", "/Shading", "/Alternate"):
            if key in obj and _mentions_cmyk(obj[key], depth + 1):
                return True
    return False


# A quick look at a content stream's bytes (ISO 32000-1 7.2) tells the common stream that holds
# nothing to drop without a Python object per instruction (parse_content_stream: ~half of a
# born-digital page's assembly). Regular expressions take out what cannot be an operator
# (literal strings without nested parentheses, hex strings, names, comments, numbers, then the
# arrays and dictionaries left empty); what remains must be plain defined operators. Anything
# else (a nested or stray parenthesis, a stray < > / % or bracket, a byte outside printable
# ASCII, an operator that needs its operands read) sends the stream to the full parse, which
# alone decides what is dropped. Only the white space every reader agrees on counts (qpdf also
# takes \x0b, others \x00): those bytes too send a stream to the full parse.
_SPACE = rb"\t\n\x0c\r "
_REGULAR = b"[" + re.escape(bytes(c for c in range(0x21, 0x7F) if c not in b"()<>[]{}/%")) + b"]"
_NOT_OPERATORS = re.compile(
    rb"\((?:[^()\\]++|\\.)*+\)"  # literal string, escapes included, no nested parentheses
    rb"|<[0-9A-Fa-f" + _SPACE + rb"]*+>"  # hex string
    rb"|/" + _REGULAR + rb"*+"  # name
    rb"|%[^\r\n]*+"  # comment
    rb"|(?<!" + _REGULAR + rb")[+-]?(?:\d+\.?\d*|\.\d+)(?!" + _REGULAR + rb")",  # number
    re.DOTALL,
)
# Arrays and dictionaries left empty once strings, names and numbers are out (TJ arrays, BDC
# property lists): an operator inside one keeps it from matching.
_EMPTY_BRACKETS = re.compile(rb"\[[" + _SPACE + rb"]*\]|<<[" + _SPACE + rb"]*>>")
# Operators that need no second look: every defined one but colour-space setters and CMYK
# colours (the full parse reads their operands) and inline images (binary data follows ID).
_NEEDS_A_LOOK = (b"k", b"K", b"cs", b"CS", b"BI", b"ID", b"EI")
_PLAIN = frozenset(op.encode() for op in OPERATORS) - set(_NEEDS_A_LOOK)
_PLAIN |= {b"true", b"false", b"null"}  # operands


def _plainly_clean(data: bytes) -> bool:
    """True when the content stream `data` surely holds only plain defined operators (no
    CMYK, no colour-space change, no inline image), outside any array or dictionary, nothing
    unplaced; False means "not sure", never "unclean". Regular expressions, no Python loop."""
    left = _EMPTY_BRACKETS.sub(b" ", _EMPTY_BRACKETS.sub(b" ", _NOT_OPERATORS.sub(b" ", data)))
    if b"\x0b" in left:  # white space to bytes.split, not to every PDF reader
        return False
    # Whatever is left, split at white space: a stray delimiter, a \x00 or a byte outside
    # ASCII stays in (or is) a token that is no plain operator.
    return set(left.split()) <= _PLAIN


def _clean_content(stream: pikepdf.Stream) -> bool:
    """Drop operators PDF does not define; returns whether the stream paints in DeviceCMYK."""
    try:
        if _plainly_clean(stream.read_bytes()):
            return False
    except pikepdf.PdfError:
        pass  # the full parse below decides what an unreadable stream becomes
    try:
        instructions = pikepdf.parse_content_stream(stream)
    except (pikepdf.PdfError, TypeError):  # TypeError: an operator inside an array
        stream.write(b"")  # unparseable content cannot be shown as it was meant anyway
        return False
    # Set operations on the operators alone: unpacking every instruction converts every
    # operand to Python, ~30x slower on a typical text page.
    operators = [item.operator for item in instructions]
    present = set(operators)
    unknown = present - KNOWN_OPERATORS - {INLINE_IMAGE}
    uses_cmyk = bool(present & CMYK_OPERATORS)
    if not uses_cmyk and present & (SET_SPACE | {INLINE_IMAGE}):
        uses_cmyk = any(_sets_cmyk(item) for item in instructions)
    if unknown:
        kept = [item for item, op in zip(instructions, operators, strict=True) if op not in unknown]
        stream.write(pikepdf.unparse_content_stream(kept))
    return uses_cmyk


def _sets_cmyk(item: pikepdf.ContentStreamInstruction | pikepdf.ContentStreamInlineImage) -> bool:
    if isinstance(item, pikepdf.ContentStreamInlineImage):
        return _mentions_cmyk(item.iimage.obj.get("/ColorSpace"))
    return item.operator in SET_SPACE and bool(item.operands) and str(item.operands[0]) in CMYK


def _clean_stream(stream: pikepdf.Stream) -> None:
    """External file data and LZW compression are not allowed in PDF/A."""
    for key in ("/F", "/FFilter", "/FDecodeParms"):
        if key in stream:
            del stream[key]
    filters = stream.get("/Filter")
    names = [filters] if isinstance(filters, Name) else list(filters or [])
    if Name.LZWDecode in names:
        try:
            data = stream.read_bytes()  # every filter decoded: stored again, Flate on save
        except pikepdf.PdfError:
            data = b""
        stream.write(data)


# Actions ISO 19005-2 6.6.1 forbids, plus those that reach outside the document (sohoa keeps
# none: its outputs are read offline, years later).
_ACTION_NAMES = (
    "/JavaScript /Launch /ImportData /SubmitForm /ResetForm /Rendition /Movie /Sound /GoToE "
    "/GoToR /Hide /SetOCGState /Trans /GoTo3DView /SetState /NOP /Thread /RichMediaExecute"
)
ACTIONS_REMOVED = frozenset(_ACTION_NAMES.split())
NAMED_KEPT = frozenset(("/NextPage", "/PrevPage", "/FirstPage", "/LastPage"))
# Keys that only ever carry scripts, triggers, forms or files (/Next: chained actions, and an
# outline item's sibling: outlines are not part of sohoa's output).
_KEY_NAMES = "/JS /AA /OpenAction /XFA /AcroForm /EmbeddedFiles /JavaScript /AF /Next /EF /RF"
KEYS_REMOVED = frozenset(_KEY_NAMES.split())


def _forbidden(obj: pikepdf.Object) -> str | None:
    """What `obj` is if it must not be in the output: an embedded file, a file specification,
    an action sohoa does not keep; else None."""
    kind = obj.get("/Type")
    if kind == "/EmbeddedFile":
        return "an embedded file"
    if kind == "/Filespec" or "/EF" in obj or "/RF" in obj:
        return "a file specification"
    action = obj.get("/S")
    if not isinstance(action, Name):
        return None
    if action in ACTIONS_REMOVED:
        return f"a {str(action)[1:]} action"
    if action == "/Named" and obj.get("/N") not in NAMED_KEPT:
        return "a Named action"
    if action == "/URI":
        uri = obj.get("/URI")
        text = bytes(uri) if isinstance(uri, pikepdf.String) else b""
        if not text.lower().startswith((b"http://", b"https://", b"mailto:")):
            return "a URI action to a local file or script"
    return None


def _sweep(pdf: pikepdf.Pdf, remove: bool) -> list[str]:
    """Visit every object reachable from the trailer (what the saved file holds) once; with
    `remove`, take out what `_forbidden` names and KEYS_REMOVED, and clean each stream's
    dictionary. Returns what was found and left: a page or the catalog is never taken out
    (the output would lose it), only stripped of an action type (/S); if it is still a file
    specification or an embedded file, that keeps the output from claiming PDF/A.

    Only dictionaries and arrays are read, never stream data: the cost is a dictionary walk.
    """
    keep = {page.objgen for page in pdf.pages} | {pdf.Root.objgen}
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    todo: list[pikepdf.Object] = [pdf.trailer]
    while todo:
        obj = todo.pop()
        if isinstance(obj, Array):
            children = list(enumerate(obj))
        else:
            if remove and isinstance(obj, Stream):
                _clean_stream(obj)
            children = list(obj.items())
        for key, child in children:
            if isinstance(key, str) and key in KEYS_REMOVED:
                if not remove:
                    found.add(f"a {key} entry")
                    continue
                del obj[key]
                continue
            if not isinstance(child, Dictionary | Stream | Array):
                continue
            what = None if isinstance(child, Array) else _forbidden(child)
            if what and remove and child.objgen not in keep:
                if isinstance(key, int):
                    obj[key] = None  # a null keeps the other items in place (key/value pairs)
                else:
                    del obj[key]
                continue
            if what and remove and "/S" in child:
                del child["/S"]  # a page or catalog is never an action: it stays, the /S goes
                what = _forbidden(child)
            if what:
                found.add(what)
            if child.is_indirect:
                if child.objgen in seen:
                    continue
                seen.add(child.objgen)
            todo.append(child)
    return sorted(found)
