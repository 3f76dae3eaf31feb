"""Every string of the web pages, one table per language: Vietnamese by default, English on
`?lang=en` (remembered in a cookie) or when the browser asks for it first."""

from __future__ import annotations

from fastapi import Request

from app.web.strings_admin import EN as ADMIN_EN
from app.web.strings_admin import VI as ADMIN_VI
from app.web.strings_exchange import EN as EXCHANGE_EN
from app.web.strings_exchange import VI as EXCHANGE_VI
from app.web.strings_organs import EN as ORGANS_EN
from app.web.strings_organs import VI as ORGANS_VI
from app.web.strings_review import EN as REVIEW_EN
from app.web.strings_review import VI as REVIEW_VI
from app.web.strings_upload import EN as UPLOAD_EN
from app.web.strings_upload import VI as UPLOAD_VI

LANG_COOKIE = "sohoa_lang"
DEFAULT = "vi"

VI = {
    "app": "Số hóa",
    "login_title": "Đăng nhập",
    "login": "Tên đăng nhập",
    "password": "Mật khẩu",
    "sign_in": "Đăng nhập",
    "login_failed": "Sai tên đăng nhập hoặc mật khẩu.",
    "login_locked": "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau.",
    "error": "Lỗi",
    "not_found": "Không tìm thấy văn bản.",
    "logout": "Đăng xuất",
    "search": "Tìm kiếm",
    "search_label": "Tìm văn bản",
    "search_placeholder": "ví dụ: quyết định, quyet dinh",
    "results": "{total} văn bản",
    "no_results": "Không tìm thấy văn bản nào.",
    "filters": "Lọc",
    "clear_filters": "Bỏ lọc",
    "remove_filter": "Bỏ lọc này",
    "prev": "Trang trước",
    "next": "Trang sau",
    "page_of": "Trang {page}/{pages}",
    "sort_by": "Sắp xếp",
    "sort_relevance": "Liên quan nhất",
    "sort_date": "Mới nhất",
    "sort_date_asc": "Cũ nhất",
    "subject": "Trích yếu",
    "code": "Số, ký hiệu",
    "organ": "Cơ quan",
    "date": "Ngày",
    "type": "Loại văn bản",
    "page": "Trang",
    "pages": "Số trang",
    "status": "Trạng thái",
    "facet_organ": "Cơ quan",
    "facet_level": "Cấp",
    "facet_type": "Loại văn bản",
    "facet_year": "Năm",
    "facet_signer": "Người ký",
    "facet_dossier": "Hồ sơ",
    "facet_needs_review": "Cần kiểm tra",
    "yes": "có",
    "no": "không",
    "document": "Văn bản",
    "metadata": "Thông tin văn bản",
    "field": "Trường",
    "value": "Giá trị",
    "confidence": "Độ tin cậy",
    "review_reasons": "Lý do cần kiểm tra",
    "metadata_complete": "Thông tin đầy đủ",
    "history": "Lịch sử",
    "text": "Nội dung trang",
    "downloads": "Tải về",
    "download_pdf": "PDF có thể tìm kiếm",
    "dossier": "Hồ sơ",
    "shared_with": "Chia sẻ với cơ quan",
    "owner": "Cơ quan sở hữu",
    "page_images": "Ảnh trang",
    "zoom": "Phóng to",
    "no_image": "Chưa có ảnh trang (văn bản chưa xử lý xong).",
    "back_to_search": "Quay lại tìm kiếm",
    "language": "English",
    "skip": "Bỏ qua, đến nội dung chính",
    "f_organ_name": "Tên cơ quan",
    "f_organ_parent": "Cơ quan chủ quản",
    "f_code_number": "Số",
    "f_code_notation": "Ký hiệu",
    "f_issued_place": "Địa danh",
    "f_issued_date": "Ngày ban hành",
    "f_type_name": "Loại văn bản",
    "f_subject": "Trích yếu",
    "f_signer_competence": "Thẩm quyền ký",
    "f_signer_position": "Chức vụ người ký",
    "f_signer_name": "Người ký",
    "f_recipients": "Nơi nhận",
    "f_priority": "Độ khẩn",
    "f_page_amount": "Số trang",
    "f_language": "Ngôn ngữ",
    "f_organ_id": "Mã cơ quan",
    "local_organ_code": "mã cục bộ, không phải mã định danh QCVN 102",
    "f_organ_level": "Cấp cơ quan",
    "f_document_id": "Mã văn bản (edXML)",
}

EN = {
    "app": "Số hóa",
    "login_title": "Sign in",
    "login": "Login",
    "password": "Password",
    "sign_in": "Sign in",
    "login_failed": "Wrong login or password.",
    "login_locked": "Too many failed sign-ins; try again later.",
    "error": "Error",
    "not_found": "No such document.",
    "logout": "Sign out",
    "search": "Search",
    "search_label": "Search documents",
    "search_placeholder": "e.g. quyết định, quyet dinh",
    "results": "{total} document(s)",
    "no_results": "No document matches.",
    "filters": "Filters",
    "clear_filters": "Clear filters",
    "remove_filter": "Remove this filter",
    "prev": "Previous page",
    "next": "Next page",
    "page_of": "Page {page} of {pages}",
    "sort_by": "Sort",
    "sort_relevance": "Most relevant",
    "sort_date": "Newest first",
    "sort_date_asc": "Oldest first",
    "subject": "Subject",
    "code": "Number, notation",
    "organ": "Organ",
    "date": "Date",
    "type": "Type",
    "page": "Page",
    "pages": "Pages",
    "status": "Status",
    "facet_organ": "Organ",
    "facet_level": "Level",
    "facet_type": "Type",
    "facet_year": "Year",
    "facet_signer": "Signer",
    "facet_dossier": "Dossier",
    "facet_needs_review": "Needs review",
    "yes": "yes",
    "no": "no",
    "document": "Document",
    "metadata": "Metadata",
    "field": "Field",
    "value": "Value",
    "confidence": "Confidence",
    "review_reasons": "Review reasons",
    "metadata_complete": "Metadata complete",
    "history": "History",
    "text": "Page text",
    "downloads": "Downloads",
    "download_pdf": "Searchable PDF",
    "dossier": "Dossier",
    "shared_with": "Shared with organs",
    "owner": "Owner organ",
    "page_images": "Page images",
    "zoom": "Zoom",
    "no_image": "No page image yet (the document is not processed).",
    "back_to_search": "Back to search",
    "language": "Tiếng Việt",
    "skip": "Skip to main content",
    "f_organ_name": "Organ",
    "f_organ_parent": "Parent organ",
    "f_code_number": "Number",
    "f_code_notation": "Notation",
    "f_issued_place": "Place",
    "f_issued_date": "Issued",
    "f_type_name": "Type",
    "f_subject": "Subject",
    "f_signer_competence": "Signing competence",
    "f_signer_position": "Signer's position",
    "f_signer_name": "Signer",
    "f_recipients": "Recipients",
    "f_priority": "Priority",
    "f_page_amount": "Page amount",
    "f_language": "Language",
    "f_organ_id": "Organ id",
    "local_organ_code": "local code, not a QCVN 102 OrganId",
    "f_organ_level": "Organ level",
    "f_document_id": "edXML document id",
}


def _merged(*tables: dict[str, str]) -> dict[str, str]:
    """One language's strings from the core table and each page module's: a key defined twice
    with different words would silently show one page's word on another's button, so it stops
    the import (the same word under the same key in two modules is fine)."""
    merged: dict[str, str] = {}
    for table in tables:
        twice = {key for key in merged.keys() & table.keys() if merged[key] != table[key]}
        if twice:
            raise RuntimeError(f"web strings defined twice: {', '.join(sorted(twice))}")
        merged |= table
    return merged


# The strings of each page module, merged in (one import and one table per module).
VI = _merged(VI, REVIEW_VI, UPLOAD_VI, EXCHANGE_VI, ADMIN_VI, ORGANS_VI)
EN = _merged(EN, REVIEW_EN, UPLOAD_EN, EXCHANGE_EN, ADMIN_EN, ORGANS_EN)
STRINGS = {"vi": VI, "en": EN}


def language(request: Request) -> str:
    """`?lang=` first, then the cookie it leaves, then the browser's first choice; else vi."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE, "")
    if asked in STRINGS:
        return asked
    accept = request.headers.get("accept-language", "").lower()
    first = accept.split(",")[0].split(";")[0].strip()
    return "en" if first.startswith("en") else DEFAULT
