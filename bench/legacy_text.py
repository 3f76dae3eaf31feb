"""What the legacy-encoding gate costs on Unicode born-digital pages (docs/benchmarks.md).

Every born-digital page's text goes through `pipeline.legacy_text.suspect`; only pages it lets
through are looked at font by font. Measured: CPU time of reading N generated Unicode pages with
`iter_text_pages` (the peer: the read itself) and of the gate on their texts.

    .venv/bin/python -m bench.legacy_text [pages]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from corpus import write_pdf_digital
from corpus.nd30 import make_document
from pipeline.legacy_text import suspect
from pipeline.load import iter_text_pages


def main(pages: int = 200) -> None:
    layouts = []
    k = 0
    while len(layouts) < pages:
        layouts.extend(make_document(random.Random(f"bench-legacy:{k}"), None).pages)
        k += 1
    layouts = layouts[:pages]
    with tempfile.TemporaryDirectory() as tmp:
        path = write_pdf_digital(Path(tmp) / "unicode.pdf", layouts)
        start = time.process_time()
        texts = [p.text for p in iter_text_pages(path, list(range(1, pages + 1)))]
        read_s = time.process_time() - start
    start = time.process_time()
    flagged = sum(suspect(t) for t in texts)
    gate_s = time.process_time() - start
    chars = sum(map(len, texts))
    print(f"{pages} Unicode pages, {chars / pages:.0f} characters a page")
    print(f"read (iter_text_pages): {read_s * 1000 / pages:.2f} ms CPU a page")
    print(f"gate (suspect):         {gate_s * 1e6 / pages:.1f} µs CPU a page ({flagged} flagged)")
    print(f"gate / read:            {gate_s / read_s * 100:.2f} %")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
