"""CPU and wall time of one `sohoa` start, per command, beside the peer `python -c pass`.

    python bench/cli_start.py [--runs 5] [--tree DIR ...]

Each --tree is a source tree (default: this one) whose `app.cli.main` is started as `sohoa`
would be, so an older checkout (`git archive <commit> | tar -x -C DIR`) is measured in the
same run as this one. The data folder is a fresh temporary one with one ingested document, so
`status` and `show ID --json` read a real record. CPU is user+system of the child (os.wait4),
which the other load on a shared machine disturbs far less than wall time. Prints a Markdown
table: median of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pikepdf

HERE = Path(__file__).resolve().parent.parent
START = "import sys; from app.cli import main; sys.argv[0] = 'sohoa'; main()"


def timed(argv: list[str], env: dict[str, str], tree: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one child run to its end, started in `tree` (`-c` puts the working
    folder first on sys.path, before PYTHONPATH and the editable install)."""
    began = time.perf_counter()
    quiet = subprocess.DEVNULL
    child = subprocess.Popen(argv, env=env, cwd=tree, stdout=quiet, stderr=quiet)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - began, usage.ru_utime + usage.ru_stime


def born_digital_pdf(folder: Path) -> Path:
    """A one-page PDF with a text layer: ingested without OCR, so the setup stays quick."""
    pdf = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1)
    font.BaseFont = pikepdf.Name.Helvetica
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    text = b"BT /F1 14 Tf 72 760 Td (QUYET DINH ve viec thanh lap to cong tac) Tj ET"
    page.Contents = pdf.make_stream(text)
    path = folder / "quyet-dinh.pdf"
    pdf.save(path)
    return path


def ingested_id(tree: Path, env: dict[str, str], sample: Path) -> str:
    """Ingest the sample into the data folder; the document's id."""
    run = [sys.executable, "-c", START, "ingest", "--json", str(sample)]
    done = subprocess.run(run, env=env, capture_output=True, text=True, cwd=tree, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            found = json.loads(line)
            if found.get("document_id"):
                return str(found["document_id"])
    return "0" * 12  # `show` then measures its not-found path: still one full start


def commands(doc_id: str) -> dict[str, list[str]]:
    return {
        "python -c pass (peer)": ["-c", "pass"],
        "sohoa --version": ["-c", START, "--version"],
        "sohoa status": ["-c", START, "status"],
        "sohoa organs show Hà Nội": ["-c", START, "organs", "show", "Hà Nội"],
        "sohoa show ID --json": ["-c", START, "show", doc_id, "--json"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", type=Path, action="append", default=[])
    args = parser.parse_args()
    trees = args.tree or [HERE]
    print(f"| command | {' | '.join(f'{t} CPU s / wall s' for t in trees)} |")
    print(f"|---|{'---|' * len(trees)}")
    results: dict[str, list[str]] = {}
    for tree in trees:
        with tempfile.TemporaryDirectory(prefix="sohoa-bench-") as data:
            env = {**os.environ, "PYTHONPATH": str(tree), "SOHOA_DATA_DIR": data}
            doc_id = ingested_id(tree, env, born_digital_pdf(Path(data)))
            for name, argv in commands(doc_id).items():
                runs = [timed([sys.executable, *argv], env, tree) for _ in range(args.runs)]
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                results.setdefault(name, []).append(f"{cpu:.2f} / {wall:.2f}")
    for name, cells in results.items():
        print(f"| {name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
