"""Born-digital ingest (issue 17: ≥ 50 pages/s; bench/born_digital.py measures it): the work a
text layer does not need is not done, and the quick look at content streams that spares the
full parse never passes what the full parse would drop."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pikepdf
import pytest

from app.compose import build_services
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from corpus.metrics import word_error
from pipeline import hygiene
from pipeline.pdf import PagePart, assemble
from tests.hostile_pdfs import write_hostile_set
from workers import describe
from workers.batch import outcome, submit_all, wait_for
from workers.runtime import WorkerPool


def test_a_born_digital_ingest_does_only_the_work_its_text_layer_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four documents in one PDF: cut into four parts, each PDF/A with its exact text, and
    along the way no content stream parsed whole for hygiene (the quick look passes them, and a
    part's pages come from the document's PDF/A, already checked) and no OCR word pairs read."""
    docs = make_documents(4, seed=5, pages=2)
    source = write_pdf_digital(tmp_path / "four.pdf", [p for d in docs for p in d.pages])
    parsed: list[object] = []
    pairs_read: list[object] = []
    parse, pairs = pikepdf.parse_content_stream, describe.word_pairs

    def spy(stream: object, operators: str = "") -> list:
        if not operators:  # a whole parse (the limits' count of drawing operators is not one)
            parsed.append(stream)
        return parse(stream, operators)

    monkeypatch.setattr(pikepdf, "parse_content_stream", spy)
    monkeypatch.setattr(describe, "word_pairs", lambda *a: pairs_read.append(a) or pairs(*a))
    data = tmp_path / "data"
    settings = Settings(data_dir=data, storage="", search="", broker="", workers=2)
    services = build_services(settings)
    with WorkerPool(services, "", threads=2) as pool:
        subs = submit_all(services, pool, [source])
        wait_for(services, pool, subs, None)

    result, doc, error = outcome(services, subs[0])
    assert result == "ok", error
    assert doc is not None and doc.pdfa and len(doc.parts) == len(docs)
    for part_id, truth in zip(doc.parts, docs, strict=True):
        part = services.records.require(part_id)
        assert part.pdfa, part.not_pdfa
        texts = [p.text for p in part.pages]
        assert [word_error(t.text, text) for t, text in zip(truth.pages, texts, strict=True)] == [
            0.0
        ] * len(truth.pages)
    assert parsed == []
    assert pairs_read == []


def _needs_a_change(pdf: pikepdf.Pdf, data: bytes) -> bool:
    """What the full parse says of a stream: an operator to drop, CMYK, or unparseable."""
    try:
        found = {i.operator for i in pikepdf.parse_content_stream(pdf.make_stream(data))}
    except (pikepdf.PdfError, TypeError):
        return True
    unknown = found - hygiene.KNOWN_OPERATORS - {hygiene.INLINE_IMAGE}
    return bool(unknown or found & hygiene.CMYK_OPERATORS)


def _content_streams(tmp_path: Path) -> list[bytes]:
    docs = make_documents(1, seed=2, pages=1)
    files = [*write_hostile_set(tmp_path / "hostile").values()]
    files.append(write_pdf_digital(tmp_path / "digital.pdf", docs[0].pages))
    streams = []
    for path in files:
        with pikepdf.open(path) as pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") != "/Image":
                    try:
                        streams.append(obj.read_bytes())
                    except pikepdf.PdfError:
                        continue
    return [s for s in streams if s]


PIECES = [
    *(b"(", b")", b"\\", b"%", b"<", b">", b"<<", b">>", b"[", b"]", b"{", b"}", b"/"),
    *(b" bogus ", b" 0 0 0 1 k ", b" BI ", b"\x0b", b"\x00", b"\r", b" Tj1 ", b" PS "),
    *(b"(a(b)c)", b"<41 42>", b"1.2.3", b"-", b".", b"(x\\)", b"\\)", b"EI", b"\x80"),
]


def test_the_quick_look_never_passes_what_the_full_parse_would_change(tmp_path: Path) -> None:
    """Every content stream of the hostile set and a born-digital page, and 3000 mutations of
    them (operators glued, strings nested or broken, odd white space): whenever the quick look
    calls a stream plainly clean, the full parse finds nothing to drop in it either."""
    streams = _content_streams(tmp_path)
    rng = random.Random(17)
    cases = list(streams)
    for _ in range(3000):
        data = bytearray(rng.choice(streams))
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data) + 1)
            if rng.random() < 0.3:
                del data[at : at + rng.randint(1, 5)]
            else:
                data[at:at] = rng.choice(PIECES)
        cases.append(bytes(data))
    pdf = pikepdf.new()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # qpdf warns about the broken streams
        wrong = [c for c in cases if hygiene._plainly_clean(c) and _needs_a_change(pdf, c)]
    passed = sum(hygiene._plainly_clean(c) for c in cases)
    assert wrong == []
    assert passed > len(streams) // 2  # the look does pass ordinary streams


@pytest.mark.parametrize(
    "hidden",
    [
        b"(a (b) c) Tj bogus",  # after a string with nested parentheses
        b"(a) Tj\x0bbogus",  # glued by a byte only some readers take for white space
        b"[(a) bogus (b)] TJ",  # inside an array
        b"(a) Tj bogus%comment",
    ],
)
def test_an_unknown_operator_is_dropped_wherever_the_quick_look_cannot_see(
    hidden: bytes, tmp_path: Path
) -> None:
    source = tmp_path / "in.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.pages[0].obj.Contents = pdf.make_stream(b"BT /F1 12 Tf " + hidden + b" ET")
        pdf.save(source)
    out = tmp_path / "out.pdf"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assemble([PagePart(source, 0)], out, "t")
    with pikepdf.open(out) as pdf:
        assert b"bogus" not in pdf.pages[0].Contents.read_bytes()


def test_objects_written_together_are_each_whole_and_leave_nothing_aside(tmp_path: Path) -> None:
    """put_all on the local store: every object readable as written, a content-addressed key
    refused different bytes as by put_bytes, and no temporary file left either way."""
    from schemas.errors import StorageError
    from storage.base import put_all
    from storage.local import LocalStore

    store = LocalStore(tmp_path / "store")
    items = [(f"derived/d/pages/{n:04d}.json", f'{{"page_no": {n}}}'.encode()) for n in range(70)]
    put_all(store, items)
    assert [store.get_bytes(key) for key, _ in items] == [data for _, data in items]
    digest = "a" * 64
    store.put_bytes(f"originals/{digest}", b"first")
    with pytest.raises(StorageError):
        put_all(store, [("derived/d/x.json", b"x"), (f"originals/{digest}", b"other")])
    assert store.get_bytes(f"originals/{digest}") == b"first"
    assert not [p for p in (tmp_path / "store").rglob(".tmp-*")]
