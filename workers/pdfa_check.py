"""`sohoa pdfa check`: each document's searchable PDF validated against PDF/A-2b by veraPDF,
run by the operator when wanted (docs/preservation.md "PDF/A validation by veraPDF").

veraPDF is GPL/MPL dual-licensed: it is run as an external program (scripts/verapdf.sh, which
installs it from Maven Central into ~/.cache), never linked nor shipped. Each result is kept
beside the record (`pdfa/<id>.json`: tool, version, profile, outcome, failed rules), written to
the audit log (`pdfa_check`), and becomes a PREMIS `validation` event in the document's
archival package (workers/archive_export.py).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from schemas.errors import NotFound, ToolMissing
from schemas.models import utcnow
from storage.base import ObjectStore
from storage.keys import pdf_key
from workers.services import Services

PROFILE = "PDF/A-2b"
TOOL = "veraPDF"
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "verapdf.sh"
BATCH = 50  # PDFs per veraPDF run: one JVM start for many files
CHUNK = 1024 * 1024
_VERSION = re.compile(r"veraPDF (\S+)")


@dataclass
class PdfaCheck:
    doc_id: str
    outcome: str  # pass | fail | missing (no searchable PDF stored)
    version: str = ""
    profile: str = PROFILE
    tool: str = TOOL
    failed_rules: list[str] = field(default_factory=list)  # "6.6.2.1-1 The Catalog …"
    checked_at: str = ""
    # SHA-256 of the PDF validated: the result is about those bytes only (a PDF made again
    # later is not covered by it; "" in results kept before this was recorded).
    sha256: str = ""


def result_key(doc_id: str) -> str:
    return f"pdfa/{doc_id}.json"


def stored_check(store: ObjectStore, doc_id: str) -> PdfaCheck | None:
    """The last veraPDF result kept for the document, if it was ever checked."""
    try:
        raw = json.loads(store.get_bytes(result_key(doc_id)))
    except (NotFound, ValueError):
        return None
    try:
        return PdfaCheck(**raw)
    except TypeError:
        return None


def run_verapdf(
    script: Path, pdfs: dict[str, Path], launcher: str | None = None
) -> tuple[str, dict[str, tuple[bool, list]]]:
    """veraPDF's version and, per key, (compliant?, failed rules) of the PDF at its path.
    `launcher`: veraPDF's own (SOHOA_VERAPDF); without it `script` installs veraPDF itself."""
    chosen = ["--launcher", launcher] if launcher else []
    try:
        proc = subprocess.run(
            ["bash", str(script), *chosen, *map(str, pdfs.values())],
            capture_output=True,
            text=True,
            timeout=3600,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ToolMissing(f"veraPDF could not be run ({script}): {e}") from e
    if proc.returncode == 2:  # the script's "cannot find or install veraPDF"
        raise ToolMissing(_not_found(launcher, proc.stderr))
    if proc.returncode not in (0, 1):
        raise ToolMissing(
            f"veraPDF could not validate (exit {proc.returncode}): {proc.stderr[-800:]}"
        )
    found = _VERSION.search(proc.stderr)
    blocks = verdict_blocks(proc.stdout, {str(p.resolve()) for p in pdfs.values()})
    verdicts = {}
    for key, path in pdfs.items():
        lines = blocks.get(str(path.resolve()), [])
        if not lines:
            raise ToolMissing(f"veraPDF gave no verdict for {path.name}: {proc.stderr[-800:]}")
        rules = [" ".join(x.split()) for x in lines[1:] if not x.strip().startswith("e.g.")]
        verdicts[key] = (lines[0].startswith("PASS "), rules)
    return (found.group(1) if found else "unknown"), verdicts


def _not_found(launcher: str | None, stderr: str) -> str:
    """What to do when veraPDF is not there: name the setting, and why the script gave up."""
    why = " ".join(stderr.split())[-600:]
    if launcher:
        return (
            f"veraPDF not found: the launcher {launcher} (SOHOA_VERAPDF or --verapdf) "
            f"cannot be run: {why}"
        )
    return (
        "veraPDF not found: set SOHOA_VERAPDF (or --verapdf PATH) to veraPDF's launcher, the "
        "`verapdf` of its installation; without it scripts/verapdf.sh installs veraPDF from "
        f"Maven Central on first use, which needs java and mvn: {why}"
    )


def verdict_blocks(stdout: str, asked: set[str]) -> dict[str, list[str]]:
    """scripts/verapdf.sh's output cut into each file's block: its `PASS path` / `FAIL path`
    line, then its failed rules. A verdict starts a block only for a file asked about, and once
    (defence in depth: the runner keeps text read from the PDF inside one line)."""
    asked = set(asked)
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in stdout.splitlines():
        if line.startswith(("PASS ", "FAIL ")) and line.split()[1] in asked:
            asked.discard(line.split()[1])
            current = blocks.setdefault(line.split()[1], [])
        if current is not None:
            current.append(line)
    return blocks


def check_documents(
    services: Services,
    doc_ids: Iterable[str],
    *,
    script: Path = SCRIPT,
    launcher: str | None = None,
    on_result: Callable[[PdfaCheck], None] | None = None,
) -> list[PdfaCheck]:
    """Validate each document's searchable PDF, BATCH at a time (each copied from the store —
    folder or S3 — into a temporary folder); keep, audit and return every result."""
    results: list[PdfaCheck] = []
    batch: list[str] = []
    for doc_id in doc_ids:
        batch.append(doc_id)
        if len(batch) == BATCH:
            results.extend(_check_batch(services, batch, script, launcher, on_result))
            batch = []
    if batch:
        results.extend(_check_batch(services, batch, script, launcher, on_result))
    return results


def _check_batch(
    services: Services,
    doc_ids: list[str],
    script: Path,
    launcher: str | None,
    on_result: Callable[[PdfaCheck], None] | None,
) -> list[PdfaCheck]:
    results = []
    with tempfile.TemporaryDirectory(prefix="sohoa-pdfa-") as folder:
        pdfs: dict[str, Path] = {}
        digests: dict[str, str] = {}
        for doc_id in doc_ids:
            path = Path(folder) / f"{doc_id}.pdf"
            try:
                digests[doc_id] = _copy_hashing(services.store, pdf_key(doc_id), path)
                pdfs[doc_id] = path
            except NotFound:
                path.unlink(missing_ok=True)
        version, verdicts = run_verapdf(script, pdfs, launcher) if pdfs else ("", {})
    now = utcnow().isoformat()
    for doc_id in doc_ids:
        if doc_id in verdicts:
            compliant, rules = verdicts[doc_id]
            outcome = "pass" if compliant else "fail"
            result = PdfaCheck(
                doc_id, outcome, version, failed_rules=rules, checked_at=now, sha256=digests[doc_id]
            )
        else:
            result = PdfaCheck(doc_id, "missing", checked_at=now)
        _keep(services, result)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def _copy_hashing(store: ObjectStore, key: str, path: Path) -> str:
    """Copy the stored object to `path`; the SHA-256 of the bytes copied."""
    digest = hashlib.sha256()
    with store.open(key) as src, path.open("wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
    return digest.hexdigest()


def _keep(services: Services, result: PdfaCheck) -> None:
    from exchange.audit import AuditLog  # imported on use, as workers/archive_export.py does

    if result.outcome != "missing":
        body = json.dumps(asdict(result), ensure_ascii=False, indent=1).encode()
        services.store.put_bytes(result_key(result.doc_id), body)
    AuditLog.for_options(services.store, services.exchange).append(
        "-",
        "pdfa_check",
        result.doc_id,
        tool=f"{result.tool} {result.version}".strip(),
        profile=result.profile,
        outcome=result.outcome,
        failed_rules=result.failed_rules or None,
    )
