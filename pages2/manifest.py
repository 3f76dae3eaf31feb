"""truth.json for this page set, in the structure `corpus/manifest.py` reads and writes.

Written apart from `corpus/` (this package imports none of it), but field for field the same
format, so one loader — `corpus.manifest.load_manifest(OUT_DIR)` — reads both sets and
`dataclasses.asdict(PageTruth)` gives the same keys as the corpus's page truth.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TRUTH_FILENAME = "truth.json"
MANIFEST_VERSION = 1


@dataclass
class PageTruth:
    page_no: int  # 1-based, within the file
    text: str  # NFC, the printed lines in reading order joined by "\n"
    rotated: bool = False  # never: this set has no quarter-turned pages
    level: str = "clean"
    rotation_deg: int = 0
    skew_deg: float = 0.0  # rotation the scanner applied, counter-clockwise positive
    doc_index: int = 0  # every page is its own document


@dataclass
class FileEntry:
    file: str
    format: str  # pdf_scanned | png
    level: str
    media_type: str
    pages: list[PageTruth]
    documents: list[dict[str, Any]]
    born_digital: bool = False
    compression: str = ""  # jpeg (the scanner's own bytes) | flate | png
    sha256: str = ""
    size_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metadata"] = self.documents[0]
        return data


@dataclass
class Manifest:
    seed: int
    files: list[FileEntry] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "seed": self.seed,
            "params": self.params,
            "files": [entry.to_dict() for entry in self.files],
        }

    def write(self, out_dir: Path) -> Path:
        path = Path(out_dir) / TRUTH_FILENAME
        path.write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return path
