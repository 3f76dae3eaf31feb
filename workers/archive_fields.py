"""Which rule of Vietnam's records law each exported field answers to (docs/preservation.md).

One row per field, read by the descriptive metadata writer (workers/archive_xml.py). `rule`
says where the field's name comes from:

- `ND30-VI`: Nghị định 30/2020/NĐ-CP, Phụ lục VI, the input fields of a document (văn bản) or
  a dossier (hồ sơ) handed to the archive;
- `ND30-I`: the same decree, Phụ lục I (thể thức: the parts every administrative document
  carries), for what Phụ lục VI does not list but the document shows;
- `sohoa`: ours, with no field of its own in those rules (the organ registry's id and level,
  the edXML DocumentId, the machine's confidence).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArchiveField:
    name: str  # AdminMetadata attribute, Dossier attribute, or a record property
    vi: str  # the rule's own name for it
    rule: str  # ND30-VI | ND30-I | sohoa


DOCUMENT_FIELDS: tuple[ArchiveField, ...] = (
    ArchiveField("dossier", "Mã hồ sơ", "ND30-VI"),
    ArchiveField("order_in_dossier", "Số thứ tự văn bản trong hồ sơ", "ND30-VI"),
    ArchiveField("type_name", "Tên loại văn bản", "ND30-VI"),
    ArchiveField("code_number", "Số của văn bản", "ND30-VI"),
    ArchiveField("code_notation", "Ký hiệu của văn bản", "ND30-VI"),
    ArchiveField("issued_date", "Ngày, tháng, năm văn bản", "ND30-VI"),
    ArchiveField("organ_name", "Tên cơ quan, tổ chức ban hành văn bản", "ND30-VI"),
    ArchiveField("subject", "Trích yếu nội dung", "ND30-VI"),
    ArchiveField("language", "Ngôn ngữ", "ND30-VI"),
    ArchiveField("page_amount", "Số lượng trang của văn bản", "ND30-VI"),
    ArchiveField("organ_parent", "Tên cơ quan, tổ chức chủ quản trực tiếp", "ND30-I"),
    ArchiveField("issued_place", "Địa danh", "ND30-I"),
    ArchiveField("signer_competence", "Quyền hạn của người ký", "ND30-I"),
    ArchiveField("signer_position", "Chức vụ của người ký", "ND30-I"),
    ArchiveField("signer_name", "Họ và tên người ký", "ND30-I"),
    ArchiveField("recipients", "Nơi nhận", "ND30-I"),
    ArchiveField("priority", "Mức độ khẩn", "ND30-I"),
    ArchiveField("organ_id", "Mã định danh cơ quan", "sohoa"),
    ArchiveField("organ_level", "Cấp cơ quan", "sohoa"),
    ArchiveField("document_id", "edXML DocumentId", "sohoa"),
)

DOSSIER_FIELDS: tuple[ArchiveField, ...] = (
    ArchiveField("file_code", "Mã hồ sơ", "ND30-VI"),
    ArchiveField("title", "Tiêu đề hồ sơ", "ND30-VI"),
    ArchiveField("maintenance", "Thời hạn bảo quản", "ND30-VI"),
    ArchiveField("rights", "Chế độ sử dụng", "ND30-VI"),
    ArchiveField("start_date", "Thời gian bắt đầu", "ND30-VI"),
    ArchiveField("end_date", "Thời gian kết thúc", "ND30-VI"),
    ArchiveField("doc_total", "Tổng số văn bản trong hồ sơ", "ND30-VI"),
    ArchiveField("page_total", "Tổng số trang của hồ sơ", "ND30-VI"),
    ArchiveField("organ", "Cơ quan", "sohoa"),
)
