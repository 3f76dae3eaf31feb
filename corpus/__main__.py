"""python -m corpus OUT_DIR [--pages N] [--seed S] [--bad] …: write a batch and print it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from corpus.bad_inputs import make_bad_inputs
from corpus.batch import FORMATS, generate_batch
from corpus.degrade import LEVELS
from corpus.manifest import TRUTH_FILENAME


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m corpus",
        description="Write synthetic ND30 scans and born-digital PDFs with truth.json.",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--pages", type=int, default=20, help="scanned pages (about)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--levels", nargs="+", choices=LEVELS, default=list(LEVELS))
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--no-rotate", action="store_true", help="no page turned 90°")
    parser.add_argument(
        "--multi-document",
        action="store_true",
        help="add one scanned PDF holding several documents",
    )
    parser.add_argument("--bad", action="store_true", help="also write bad inputs in OUT_DIR/bad")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    manifest = generate_batch(
        args.out_dir,
        pages=args.pages,
        seed=args.seed,
        levels=args.levels,
        formats=args.formats,
        rotate_one=not args.no_rotate,
        multi_document=args.multi_document,
    )
    for entry in manifest.files:
        rotated = [p.page_no for p in entry.pages if p.rotated]
        note = f"  rotated page {rotated[0]}" if rotated else ""
        docs = f"  {len(entry.documents)} documents" if len(entry.documents) > 1 else ""
        print(
            f"{args.out_dir / entry.file}  {entry.format:<11} {entry.level:<5} "
            f"{len(entry.pages)} page(s)  {entry.metadata['type_name']}{docs}{note}"
        )
    print(
        f"{args.out_dir / TRUTH_FILENAME}  ({len(manifest.files)} files, "
        f"{manifest.scanned_page_count} scanned pages)"
    )
    if args.bad:
        for name, path in make_bad_inputs(args.out_dir / "bad", seed=args.seed).items():
            print(f"{path}  bad input: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
