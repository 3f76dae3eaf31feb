"""Peak memory and CPU of pipeline.preprocess.drop_specks on a page of a given size (issue 17
clean-up of noisy pages): synthetic text bars plus dust, run in a fresh process so ru_maxrss is
this page's. Compare two checkouts in the same run with PYTHONPATH:

    PYTHONPATH=. python bench/specks_memory.py 14000 10000
    PYTHONPATH=/tmp/base python bench/specks_memory.py 14000 10000
"""

from __future__ import annotations

import os
import resource
import sys
import time

import numpy as np

from pipeline.preprocess import drop_specks


def main() -> None:
    h, w = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(1)
    grey = np.full((h, w), 235, np.uint8)
    for y in range(100, h - 100, 60):
        grey[y : y + 20, 100 : w - 100 : 3] = 20  # text-like strokes
    grey.flat[rng.integers(0, h * w, size=h * w // 400)] = 30  # dust
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = time.process_time()
    drop_specks(grey, 300)
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()[0]
    print(
        f"{h}x{w}: peak RSS {peak:.0f} MB ({peak - before:.0f} MB above the page), "
        f"CPU {cpu:.1f} s, load {load:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
