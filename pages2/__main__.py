"""python -m pages2 OUT_DIR [--pages N] [--seed S] [--level clean light heavy] [--format pdf|png]"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pages2.degrade import LEVELS
from pages2.manifest import TRUTH_FILENAME
from pages2.pages import FORMATS, write_set


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pages2",
        description="Write the independent ND30 page set (scanned pages) with truth.json.",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--pages", type=int, default=8, help="pages per level")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--level", nargs="+", choices=LEVELS, default=list(LEVELS))
    parser.add_argument(
        "--format", choices=FORMATS, default="pdf", help="one PDF per level, or one PNG per page"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    manifest = write_set(
        args.out_dir, pages=args.pages, seed=args.seed, levels=args.level, fmt=args.format
    )
    for entry in manifest.files:
        print(f"{args.out_dir / entry.file}  {entry.level:<5} {len(entry.pages)} page(s)")
    pages = sum(len(entry.pages) for entry in manifest.files)
    print(f"{args.out_dir / TRUTH_FILENAME}  ({len(manifest.files)} files, {pages} pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
