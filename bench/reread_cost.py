"""CPU of the hook re-read (pipeline/reread.py) on noisy pages, in process (issue 17, round 13).

    .venv/bin/python bench/reread_cost.py PDF [PAGES]

Each page is prepared and read as sohoa does (`prepare`, `read_page`); then `restore_hooks` is
timed alone (this process's CPU), with the standard model as the product reads key zones.
Prints per page: the words read again, the words changed, CPU seconds; and the mean.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

from app.config import Settings  # noqa: E402
from pipeline import preprocess as pp  # noqa: E402
from pipeline.load import PDF, load_scanned_page, plan_pages  # noqa: E402
from pipeline.ocr import accurate_tessdata  # noqa: E402
from pipeline.page import read_page  # noqa: E402
from pipeline.reread import doubtful_acutes, restore_hooks  # noqa: E402


def main(path: Path, pages: int) -> None:
    tessdata = accurate_tessdata(Settings().tessdata_path)
    total_cpu, total_words = 0.0, 0
    plan = plan_pages(path, PDF)[:pages]
    for info in plan:
        page = load_scanned_page(path, PDF, info)
        prepared = pp.prepare(page.image, dpi=page.dpi)
        first = read_page(prepared.grey, page.dpi)
        unfiltered = pp.to_grey(prepared.display)
        t0 = time.process_time()
        out = restore_hooks(first, unfiltered, page.dpi, tessdata)
        cpu = time.process_time() - t0
        doubtful = len(doubtful_acutes(first.words))
        changed = sum(a.text != b.text for a, b in zip(first.words, out.words, strict=True))
        print(
            f"page {info.page_no}: noisy {pp.NOISY_PAGE_FLAG in prepared.flags}, "
            f"read again {doubtful}, changed {changed}, CPU {cpu:.3f} s",
            flush=True,
        )
        total_cpu += cpu
        total_words += doubtful
    words, cpu = total_words / len(plan), total_cpu / len(plan)
    print(f"mean: {words:.1f} words read again, {cpu:.3f} CPU s/page")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 8)
