"""The HTTP API on the embedded default, with real workers in the API process."""

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.config import Settings
from corpus import generate_batch
from schemas.text import fold
from tests.conftest import api_headers


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("api-data"), workers=2)
    with TestClient(create_app(settings), headers=api_headers(settings)) as client:
        yield client


def test_upload_then_search_and_download(client: TestClient, tmp_path: Path) -> None:
    manifest = generate_batch(tmp_path, pages=1, seed=41, formats=("png",), levels=("clean",))
    entry = manifest.files[0]
    with (tmp_path / entry.file).open("rb") as f:
        response = client.post("/documents", files={"file": (entry.file, f, "image/png")})
    assert response.status_code == 202
    doc_id = response.json()["document_id"]
    deadline = time.monotonic() + 120
    while client.get(f"/documents/{doc_id}").json()["status"] != "done":
        assert time.monotonic() < deadline, "OCR did not finish"
        time.sleep(0.5)
    found = client.get("/search", params={"q": fold(entry.metadata["subject"])}).json()
    assert found["hits"][0]["document_id"] == doc_id
    assert found["facets"]["status"] == {"done": 1}
    pdf = client.get(f"/documents/{doc_id[:12]}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    again = client.post(
        "/documents", files={"file": (entry.file, (tmp_path / entry.file).read_bytes())}
    )
    assert again.json()["outcome"] == "reused"


def test_errors_are_clear(client: TestClient) -> None:
    assert client.get("/documents/ffffffff").status_code == 404
    bad = client.post("/documents", files={"file": ("x.pdf", b"not a pdf at all")})
    assert (bad.status_code, bad.json()["error"]) == (422, "unsupported_type")
    assert client.get("/search", params={"q": "x", "filter": "colour=red"}).status_code == 422
