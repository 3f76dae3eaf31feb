"""Which Tesseract read of the place-and-date line (`pipeline.date_zone`) gives the date: page
segmentation mode and upscale, on the pages2 tuning part (seed 1, light and heavy), counted on
the pages whose date line the pipeline reads again (a digit unsure or guessed).

    .venv/bin/python bench/date_line.py [--docs 60]

Prints, per read: date parts right, whole dates right, and the CPU seconds of the reads (this
process's, Tesseract runs in-process through tesserocr). The page OCR comes from the metadata
bench's cache (`bench/out/metadata-cache`): run `bench/metadata.py --skip-corpus --parts tuning`
first. Hand-run; the result is in docs/benchmarks.md ("Metadata dates, round 14").
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

READS = [(7, 2.0), (7, 3.0), (6, 2.0), (13, 2.0)]  # (psm, upscale)


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    import metadata as bench
    import metadata_pages2 as p2

    from pages2.pages import scan_page
    from pipeline.date_zone import date_line_box, zone_date
    from pipeline.ocr import ocr_zone
    from pipeline.page import zone_image
    from pipeline.preprocess import prepare
    from schemas.models import PageResult

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=60)
    args = parser.parse_args()
    score = {read: [0, 0, 0.0] for read in READS}  # parts right, dates right, CPU seconds
    lines = 0
    options = bench._page_options()
    cache = str(bench.CACHE_DIR)
    for level in ("light", "heavy"):
        for i in range(args.docs):
            page = PageResult.model_validate(p2._ocr_page2((p2.PARTS["tuning"], i, level, cache)))
            found = date_line_box(page)
            if found is None or not found[1]:
                continue  # no date line the page read found unsure
            lines += 1
            truth = date.fromisoformat(p2.pages2_truth(p2.PARTS["tuning"], i)["issued_date"])
            image = scan_page(i, seed=p2.PARTS["tuning"], level=level).image
            grey = zone_image(prepare(image, quarter_turns_cw=page.rotation_deg // 90), options)
            for psm, scale in READS:
                started = _cpu()
                words = ocr_zone(
                    grey, page.dpi, found[0], scale=scale, psm=psm, tessdata=options.tessdata
                )
                score[(psm, scale)][2] += _cpu() - started
                parts = zone_date(words)
                if parts is None:
                    continue
                v = parts.values
                right = [
                    v["d"] == truth.day and "d" not in parts.unread,
                    v["m"] == truth.month and "m" not in parts.unread,
                    v["y"] == truth.year and "y" not in parts.unread,
                ]
                score[(psm, scale)][0] += sum(right)
                score[(psm, scale)][1] += all(right)
    print(f"date lines read again: {lines}")
    for (psm, scale), (parts, dates, cpu) in score.items():
        print(
            f"psm {psm} x{scale}: parts right {parts}/{3 * lines},"
            f" dates right {dates}/{lines}, CPU {cpu:.1f} s"
        )


if __name__ == "__main__":
    main()
