"""Strings of the organ fields (app/web/organs.py, templates/organ_field.html), merged into
i18n's tables."""

from __future__ import annotations

VI = {
    "organ_find_hint": "Gõ tên hoặc mã cơ quan",
    "organ_find_help": "Gõ vài chữ của tên cơ quan (ví dụ: xã Đắk Mar) rồi chọn trong danh sách,"
    " hoặc nhập mã định danh (000.00.00.G09).",
    "organ_until": "đến",
    "organ_from": "từ",
}
EN = {
    "organ_find_hint": "Type an organ's name or code",
    "organ_find_help": "Type a few words of the organ's name (e.g. xã Đắk Mar) and pick it from"
    " the list, or enter its identifier (000.00.00.G09).",
    "organ_until": "until",
    "organ_from": "from",
}
