"""Round-13 review: a local organ's code (`LOCAL-<parent>-<hash>`, pipeline/local_organ.py)
never passes for an official QCVN 102 code: the edXML header a record is sent with carries no
DocumentId made from it, and the archive's descriptive record does not name it a `mã định
danh`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from app.api import create_app
from app.compose import build_services, build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from pipeline.local_organ import local_code
from schemas.models import Field
from storage.records import RecordStore
from tests.conftest import cli_with_env
from tests.pki_support import init_ca
from tests.test_web import HTML, add_users, hostile_pdf, log_in, upload
from workers import tasks
from workers.archive_export import export_packages, plan_query
from workers.exchange_setup import build_exchange
from workers.submit import accept

COMMUNE, DEPARTMENT = "003.00.00.H55", "000.00.02.H55"  # as in tests/test_exchange.py


@pytest.fixture(scope="module")
def local_record(tmp_path_factory: pytest.TempPathFactory):
    """A stored record whose issuing organ was read as a local organ under a known parent."""
    folder = tmp_path_factory.mktemp("local-organ")
    source = write_pdf_digital(folder / "doc.pdf", make_documents(1, seed=7, pages=1)[0].pages)
    services = build_services(Settings(data_dir=folder / "data", workers=1))
    doc_id = accept(services, source).doc_id
    tasks.start_document(services, doc_id, lambda *a: None, lambda *a: None)
    tasks.assemble_document(services, doc_id, lambda *a: None, "test")
    tasks.index_document(services, doc_id)
    doc = services.records.require(doc_id)
    code = local_code(COMMUNE, "Trường Tiểu học Kon Tum")
    doc.metadata.organ_id = Field(value=code, confidence=0.8)
    doc.metadata.document_id = Field(value=f"{code},2024/03/05,12/QĐ-TH", confidence=0.8)
    services.records.put(doc)
    return folder, services, doc_id, code


def test_a_record_of_a_local_organ_is_sent_without_a_document_id_from_its_code(
    local_record,
) -> None:
    _, services, doc_id, code = local_record
    ex = build_exchange(services)
    init_ca(ex)
    ex.create_keys(COMMUNE)
    env = ex.build([doc_id], COMMUNE, [DEPARTMENT], unrestricted=True)
    with ex.open_envelope(env.message_id) as src:
        xml = src.read()
    assert env.document_id == ""
    assert b"LOCAL-" not in xml and code.encode() not in xml
    assert b"12" in xml  # the rest of the header is still there (CodeNumber)


def test_the_archive_description_does_not_call_a_local_code_an_official_identifier(
    local_record,
) -> None:
    folder, services, doc_id, code = local_record
    out = folder / "bags"
    plans = list(plan_query(services, ""))
    export_packages(services, plans, out)
    described = list(out.rglob(f"metadata/descriptive/{doc_id}.xml"))
    assert len(described) == 1
    root = etree.fromstring(described[0].read_bytes())
    fields = {f.get("name"): f for f in root.iter("{*}field")}
    assert fields["organ_id"].text == code  # kept: it is how this installation knows the organ
    for name in ("organ_id", "document_id"):
        assert "định danh" not in fields[name].get("vi").replace("không phải mã định danh", "")
        assert "QCVN 102" in fields[name].get("vi"), json.dumps(dict(fields[name].attrib))


SERVE_ONE_PAGE = """
import sys
from pathlib import Path
from fastapi.testclient import TestClient
from app.api import create_app
from app.config import Settings
from organs.registry import _load_once
from tests.test_web import HTML, add_users, log_in
settings = Settings(data_dir=Path(sys.argv[1]), workers=1)
add_users(settings)
with TestClient(create_app(settings)) as client:
    log_in(client, "officer")
    pages = [client.get(url, headers=HTML).status_code for url in ("/", "/?q=quyet", "/review")]
print(pages, _load_once.cache_info().currsize)
"""


def test_the_web_app_starts_and_serves_pages_without_loading_the_organ_registry(
    tmp_path: Path,
) -> None:
    """The national registry (61k organs, tens of MB) is loaded when an organ is looked up,
    not by a server starting (it built the exchange with it) nor by a page naming none."""
    done = subprocess.run(
        [sys.executable, "-c", SERVE_ONE_PAGE, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "[200, 200, 200] 0"


def test_organs_show_says_a_local_code_is_no_official_one_and_names_its_parent(
    tmp_path: Path,
) -> None:
    code = local_code("000.00.00.Z01", "Trường Tiểu học Ba Đình")
    env = {**os.environ, "SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_ORGANS": "national"}
    shown = cli_with_env(env, "organs", "show", code)
    assert shown.returncode == 3, shown.stdout
    said = " ".join(shown.stderr.split())
    assert f"{code} is a local code" in said and "not a QCVN 102 OrganId" in said
    assert "000.00.00.Z01 Ủy ban nhân dân thành phố Hà Nội" in said


def test_the_document_page_says_a_local_code_is_no_official_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    add_users(settings)
    with TestClient(create_app(settings)) as client:
        doc_id = upload(client, settings, hostile_pdf(tmp_path / "hostile.pdf"), "doc.pdf")
        records = RecordStore(build_store(Settings(data_dir=settings.data_dir)))
        doc = records.require(doc_id)
        code = local_code(COMMUNE, "Trường Tiểu học Kon Tum")
        doc.metadata.organ_id = Field(value=code, confidence=0.8)
        records.put(doc)
        log_in(client, "officer")
        url = f"/documents/{doc_id}/view"
        vi = client.get(url, params={"lang": "vi"}, headers=HTML).text
        assert f"{code} <small>(mã cục bộ, không phải mã định danh QCVN 102)</small>" in vi
        en = client.get(url, params={"lang": "en"}, headers=HTML).text
        assert f"{code} <small>(local code, not a QCVN 102 OrganId)</small>" in en
