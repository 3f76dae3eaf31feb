"""Storage layout (DESIGN §3), in one place."""


def original_key(doc_id: str) -> str:
    return f"originals/{doc_id}"


def record_key(doc_id: str) -> str:
    return f"records/{doc_id}.json"


def status_key(doc_id: str) -> str:
    return f"records/{doc_id}.status"


def page_key(doc_id: str, page_no: int, ext: str = "json") -> str:
    return f"{pages_prefix(doc_id)}{page_no:04d}.{ext}"


def pdf_key(doc_id: str) -> str:
    return f"derived/{doc_id}/searchable.pdf"


def dossier_key(file_code: str) -> str:
    return f"dossiers/{file_code}.json"


def is_content_addressed(key: str) -> bool:
    """Keys whose bytes are fixed by their name: never rewritten with other bytes."""
    return key.startswith("originals/")


def pages_prefix(doc_id: str) -> str:
    """Where a document's page results (`NNNN.json`) and page PDFs are stored."""
    return f"derived/{doc_id}/pages/"


def assembly_claim_key(doc_id: str) -> str:
    """Created once per run by the one `assemble` that may write the document's PDF."""
    return f"derived/{doc_id}/assembly.claim"


def record_lock_key(doc_id: str) -> str:
    """Held for the few milliseconds a person's change rewrites the record (workers/locks.py)."""
    return f"locks/records/{doc_id}"


def dossier_lock_key(file_code: str) -> str:
    return f"locks/dossiers/{file_code}"


def batch_key(batch_id: str) -> str:
    """An upload batch of the web page: who, which organ, which files (workers/batches.py)."""
    return f"batches/{batch_id}.json"


def batch_lock_key(batch_id: str) -> str:
    return f"locks/batches/{batch_id}"
