"""Round-13 review: review reasons read back into Vietnamese (app/web/reasons.py). The organ
reading joins its reasons with "; " (an unknown organ and why it is no local organ,
pipeline/reconcile.py): each part is worded, an OCR'd organ name stays escaped, and the English
page shows the sentence exactly as stored."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.api import create_app
from app.compose import build_store
from app.config import Settings
from storage.records import RecordStore
from tests.test_web import HTML, add_users, hostile_pdf, log_in, upload

HOSTILE = "TRƯỜNG <script>alert(1)</script> & CO"
STORED = (
    f"organ_name low confidence 0.55: no organ named '{HOSTILE}' in the registry; "
    "no organ kind in the name; the parent line names no one registry organ; "
    "the name not read surely"
)


def test_an_unknown_organs_reasons_are_worded_part_by_part_and_stay_escaped(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    add_users(settings)
    with TestClient(create_app(settings)) as client:
        doc_id = upload(client, settings, hostile_pdf(tmp_path / "hostile.pdf"), "doc.pdf")
        records = RecordStore(build_store(Settings(data_dir=settings.data_dir)))
        doc = records.require(doc_id)
        doc.metadata.review_reasons = [STORED]
        records.put(doc)
        log_in(client, "officer")
        url = f"/documents/{doc_id}/view"
        vi = client.get(url, params={"lang": "vi"}, headers=HTML).text
        escaped = "TRƯỜNG &lt;script&gt;alert(1)&lt;/script&gt; &amp; CO"
        assert (
            f"<li>Tên cơ quan: độ tin cậy thấp 0.55: danh mục cơ quan không có cơ quan tên "
            f"&#39;{escaped}&#39;; tên không cho biết loại cơ quan; dòng cơ quan chủ quản không "
            "chỉ đúng một cơ quan trong danh mục; tên đọc chưa chắc chắn</li>"
        ) in vi
        assert "<script>alert(1)" not in vi
        assert "no organ kind" not in vi and "not read surely" not in vi
        en = client.get(url, params={"lang": "en"}, headers=HTML).text
        assert f"<li>{STORED.replace(HOSTILE, escaped).replace(chr(39), '&#39;')}</li>" in en
