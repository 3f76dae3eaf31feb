"""The ground truth of a generated batch: `truth.json` beside the files, and its dataclasses."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

TRUTH_FILENAME = "truth.json"  # never matches *.tif/*.jpg/*.png/*.pdf
MANIFEST_VERSION = 1


@dataclass
class PageTruth:
    page_no: int  # 1-based, within the file
    text: str  # NFC, lines joined by "\n", in reading order (see corpus/README.md)
    rotated: bool = False  # the page image was turned a quarter turn
    level: str = "clean"
    rotation_deg: int = 0  # clockwise rotation that makes the page upright (0, 90, 180, 270)
    skew_deg: float = 0.0  # small rotation applied, counter-clockwise positive
    doc_index: int = 0  # which of the file's documents this page belongs to


@dataclass
class FileEntry:
    file: str  # name relative to the batch directory
    format: str  # tiff | jpeg | png | pdf_scanned | pdf_digital
    level: str  # clean | light | heavy (born-digital PDFs are "clean")
    media_type: str
    pages: list[PageTruth]
    documents: list[dict[str, Any]]  # metadata of each document, in file order (usually one)
    born_digital: bool = False
    compression: str = ""  # tiff_deflate | group4 | jpeg | flate | png | text
    sha256: str = ""
    size_bytes: int = 0

    @property
    def metadata(self) -> dict[str, Any]:
        """Metadata of the (first) document in the file."""
        return self.documents[0]

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileEntry:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["pages"] = [PageTruth(**p) for p in data["pages"]]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metadata"] = self.metadata  # convenience copy for readers of the raw JSON
        return data


@dataclass
class Manifest:
    seed: int
    files: list[FileEntry] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    def file(self, name: str) -> FileEntry:
        for entry in self.files:
            if entry.file == name:
                return entry
        raise KeyError(name)

    def by_format(self, fmt: str) -> list[FileEntry]:
        return [entry for entry in self.files if entry.format == fmt]

    @property
    def scanned_page_count(self) -> int:
        return sum(len(e.pages) for e in self.files if not e.born_digital)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "seed": self.seed,
            "params": self.params,
            "files": [entry.to_dict() for entry in self.files],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            seed=data["seed"],
            params=data.get("params", {}),
            version=data.get("version", MANIFEST_VERSION),
            files=[FileEntry.from_dict(f) for f in data["files"]],
        )

    def write(self, out_dir: Path) -> Path:
        path = Path(out_dir) / TRUTH_FILENAME
        path.write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return path


def load_manifest(out_dir: Path) -> Manifest:
    """Read `out_dir/truth.json` (or the JSON file itself when given one)."""
    path = Path(out_dir)
    if path.is_dir():
        path = path / TRUTH_FILENAME
    return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
