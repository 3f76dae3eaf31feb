"""Dramatiq actors on the real in-process broker: retries end in a recorded failure."""

from pathlib import Path

from corpus import generate_batch
from schemas.models import DocumentStatus
from search.sqlite import SqliteIndex
from storage.local import LocalStore
from workers.batch import outcome, submit_all, wait_for
from workers.runtime import WorkerPool
from workers.services import Services


def test_a_step_failing_every_retry_marks_the_document_failed(tmp_path: Path) -> None:
    manifest = generate_batch(
        tmp_path / "in", pages=1, seed=51, formats=("pdf_digital",), levels=("clean",)
    )
    index = SqliteIndex(tmp_path / "index.sqlite3")
    index.close()  # every write to the index now raises: the index step cannot succeed
    services = Services(store=LocalStore(tmp_path / "store"), index=index)
    with WorkerPool(services, "", threads=2) as pool:
        subs = submit_all(services, pool, [tmp_path / "in" / manifest.files[0].file])
        wait_for(services, pool, subs, None)
    result, doc, error = outcome(services, subs[0])
    assert result == "failed"
    assert doc is not None and doc.status == DocumentStatus.failed
    assert error is not None and error.code == "step_failed"
    assert "sohoa.index failed after retries" in error.message
    assert [h.status for h in doc.history][-1] == DocumentStatus.failed
