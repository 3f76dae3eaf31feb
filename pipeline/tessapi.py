"""Tesseract's own C API (libtesseract, `capi.h`) through ctypes: the page read in process.

Why not tesserocr for the page: its `ProcessPage`, the one call that renders the text-only PDF,
holds the GIL for the whole read (two worker threads would read one after the other) and takes
the page as an encoded image. Here every call into libtesseract releases the GIL (ctypes does
for a `CDLL`), the page goes in as raw grey bytes, and the PDF renderer is fed the API that has
already recognised the page (`TessResultRendererAddImage`), exactly as the `tesseract` CLI does
after its own `Recognize`: same words, same text-only PDF, without a process and a model load
per page. Only `pipeline.ocr` uses this module (STYLE §6).
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

LIBRARY = "libtesseract.so.5"
OEM_LSTM_ONLY = 1


class EngineError(RuntimeError):
    """libtesseract refused a call (no such language data, an image it cannot read)."""


@cache
def library() -> ctypes.CDLL | None:
    """libtesseract, with the argument types of the calls used here; None if not installed."""
    try:
        lib = ctypes.CDLL(LIBRARY)
    except OSError:
        return None
    p, s, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    signatures = {
        "TessBaseAPICreate": ([], p),
        "TessBaseAPIDelete": ([p], None),
        "TessBaseAPIInit2": ([p, s, s, i], i),
        "TessBaseAPIGetDatapath": ([p], s),
        "TessBaseAPISetVariable": ([p, s, s], i),
        "TessBaseAPISetPageSegMode": ([p, i], None),
        "TessBaseAPISetImage": ([p, ctypes.c_void_p, i, i, i, i], None),
        "TessBaseAPISetSourceResolution": ([p, i], None),
        "TessBaseAPIRecognize": ([p, p], i),
        "TessBaseAPIGetTsvText": ([p, i], ctypes.POINTER(ctypes.c_char)),
        "TessBaseAPIClear": ([p], None),
        "TessDeleteText": ([ctypes.POINTER(ctypes.c_char)], None),
        "TessMonitorCreate": ([], p),
        "TessMonitorDelete": ([p], None),
        "TessMonitorSetDeadlineMSecs": ([p, i], None),
        "TessPDFRendererCreate": ([s, s, i], p),
        "TessResultRendererBeginDocument": ([p, s], i),
        "TessResultRendererAddImage": ([p, p], i),
        "TessResultRendererEndDocument": ([p], i),
        "TessDeleteResultRenderer": ([p], None),
    }
    for name, (args, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes, function.restype = args, result
    return lib


@dataclass(frozen=True)
class Model:
    lang: str
    tessdata: Path | None  # the folder holding `<lang>.traineddata`; None: Tesseract's own


class Engine:
    """One loaded model, reused for every page this thread reads (`engine_for`)."""

    def __init__(self, model: Model, variables: dict[str, str]) -> None:
        self.lib = library()
        if self.lib is None:
            raise EngineError(f"{LIBRARY} is not installed")
        self.model = model
        self.handle = self.lib.TessBaseAPICreate()
        # Tesseract's own lines ("Error opening data file …", "Detected 18 diacritics") went to
        # the CLI's stderr; here they would land on the user's terminal and the worker's log,
        # beside our one line per problem. debug_file is global: set before Init2 it covers that.
        self.lib.TessBaseAPISetVariable(self.handle, b"debug_file", b"/dev/null")
        folder = f"{model.tessdata}/".encode() if model.tessdata is not None else None
        if self.lib.TessBaseAPIInit2(self.handle, folder, model.lang.encode(), OEM_LSTM_ONLY):
            self.lib.TessBaseAPIDelete(self.handle)
            self.handle = None
            where = model.tessdata or "tesseract's data folder"
            raise EngineError(f"no {model.lang!r} language data in {where}")
        # Where the model was found; the PDF renderer reads its glyphless font (pdf.ttf) there.
        self.datapath = self.lib.TessBaseAPIGetDatapath(self.handle)
        for name, value in {"debug_file": "/dev/null", **variables}.items():
            if not self.lib.TessBaseAPISetVariable(self.handle, name.encode(), value.encode()):
                raise EngineError(f"tesseract has no variable {name!r}")

    def read(
        self, grey: np.ndarray, dpi: int, psm: int, timeout_s: int, pdf_base: Path | None
    ) -> tuple[str, bytes | None]:
        """The TSV body of one grey page (no header line) and, with `pdf_base`, the text-only
        PDF page the renderer writes to `pdf_base`.pdf."""
        lib, handle = self.lib, self.handle
        image = np.ascontiguousarray(grey, dtype=np.uint8)
        height, width = image.shape[:2]
        lib.TessBaseAPISetPageSegMode(handle, psm)
        lib.TessBaseAPISetImage(handle, image.ctypes.data, width, height, 1, width)
        lib.TessBaseAPISetSourceResolution(handle, dpi)
        lib.TessBaseAPISetVariable(handle, b"user_defined_dpi", str(dpi).encode())  # as `--dpi`
        monitor = lib.TessMonitorCreate()
        try:
            lib.TessMonitorSetDeadlineMSecs(monitor, timeout_s * 1000)
            if lib.TessBaseAPIRecognize(handle, monitor) != 0:
                raise EngineError(f"tesseract could not read the page within {timeout_s} s")
            text = lib.TessBaseAPIGetTsvText(handle, 0)
            try:
                tsv = ctypes.string_at(text).decode("utf-8")
            finally:
                lib.TessDeleteText(text)
            pdf = self._text_pdf(pdf_base) if pdf_base is not None else None
        finally:
            lib.TessMonitorDelete(monitor)
            lib.TessBaseAPIClear(handle)  # the page goes, the model stays
        return tsv, pdf

    def _text_pdf(self, base: Path) -> bytes:
        """The renderer the CLI's `-c textonly_pdf=1 ... pdf` runs, fed this recognised page."""
        lib = self.lib
        renderer = lib.TessPDFRendererCreate(str(base).encode(), self.datapath, 1)
        if not renderer:
            raise EngineError("tesseract could not start its PDF renderer")
        try:
            ok = (
                lib.TessResultRendererBeginDocument(renderer, b"")
                and lib.TessResultRendererAddImage(renderer, self.handle)
                and lib.TessResultRendererEndDocument(renderer)
            )
        finally:
            lib.TessDeleteResultRenderer(renderer)  # closes the file
        if not ok:
            raise EngineError("tesseract could not render the text layer")
        return base.with_suffix(".pdf").read_bytes()

    def __del__(self) -> None:
        if getattr(self, "handle", None) and self.lib is not None:
            self.lib.TessBaseAPIDelete(self.handle)  # the model's memory, when the thread ends


_engines = threading.local()  # this thread's engines by model and variables


def engine_for(model: Model, variables: dict[str, str]) -> Engine:
    """This thread's engine for `model`, loaded on first use and kept: one page at a time per
    thread, so a worker thread never waits for another's model load or read."""
    engines = _engines.__dict__.setdefault("by_key", {})
    key = (model, tuple(sorted(variables.items())))
    if key not in engines:
        engines[key] = Engine(model, variables)
    return engines[key]
