"""The words on the pages: organs, document kinds and sentences composed for this set alone.

Nothing here is taken from `corpus/` or the shared seed texts that the pipeline was tuned on:
the organs are in other provinces, the sentences were written for this package (quyết định,
công văn, thông báo, kế hoạch, tờ trình, biên bản) and carry the punctuation real documents
print — dashes, semicolons, quotes, parentheses, slashes in số/ký hiệu, percentages, dates.
Everything is NFC; a document is drawn from a `random.Random` the caller seeds.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta


@dataclass(frozen=True)
class Organ:
    parent: str  # the line above the organ's name ("" when there is none), mixed case
    name: str  # mixed case; the layout decides the capitals
    short: str  # the organ's part of a ký hiệu: QĐ-<short>
    place: str  # the place name of the date line
    head: str  # the head's title (position line)
    deputy: str  # the deputy's title
    unit: str  # the drafting unit on the "Lưu:" line
    level: str = ""  # province | district | commune (the registry's levels; a Sở is provincial)
    valid_from: str = ""  # ISO date the organ began ("" = long before this set's dates)
    valid_to: str = ""  # ISO date it ended (the 2025 reform: 2025-06-30; "" = still exists)


# The 2025 reform (Resolution 202/2025/QH15, in force 1 July 2025): provinces merged from 63 to
# 34, the district level abolished, communes merged. Organs dissolved on that day end here.
REFORM_DAY = "2025-07-01"
BEFORE_REFORM = "2025-06-30"
# Decree 45/2025 (1 March 2025): Sở Tài nguyên và Môi trường merged with Sở Nông nghiệp into Sở
# Nông nghiệp và Môi trường, Sở Lao động - Thương binh và Xã hội into Sở Nội vụ.
DEPARTMENTS_MERGED = "2025-02-28"

ORGANS: tuple[Organ, ...] = (
    Organ(
        "",
        "Ủy ban nhân dân tỉnh Quảng Trị",
        "UBND",
        "Quảng Trị",
        "Chủ tịch",
        "Phó Chủ tịch",
        "KT",
        level="province",
        valid_to=BEFORE_REFORM,
    ),
    Organ(
        "Ủy ban nhân dân tỉnh Ninh Bình",
        "Sở Tài nguyên và Môi trường",
        "STNMT",
        "Ninh Bình",
        "Giám đốc",
        "Phó Giám đốc",
        "QLĐĐ",
        level="province",
        valid_to=DEPARTMENTS_MERGED,
    ),
    Organ(
        "Ủy ban nhân dân tỉnh Sóc Trăng",
        "Sở Y tế",
        "SYT",
        "Sóc Trăng",
        "Giám đốc",
        "Phó Giám đốc",
        "NVY",
        level="province",
        valid_to=BEFORE_REFORM,
    ),
    Organ(
        "Ủy ban nhân dân tỉnh Lào Cai",
        "Ủy ban nhân dân huyện Bát Xát",
        "UBND",
        "Bát Xát",
        "Chủ tịch",
        "Phó Chủ tịch",
        "VP",
        level="district",
        valid_to=BEFORE_REFORM,
    ),
    Organ(
        "Ủy ban nhân dân huyện Tuy Phước",
        "Ủy ban nhân dân xã Phước Sơn",
        "UBND",
        "Phước Sơn",
        "Chủ tịch",
        "Phó Chủ tịch",
        "VP",
        level="commune",
        valid_to=BEFORE_REFORM,
    ),
    Organ(
        "Sở Giáo dục và Đào tạo Hà Tĩnh",
        "Trường Trung học phổ thông Nguyễn Du",
        "THPTND",
        "Hà Tĩnh",
        "Hiệu trưởng",
        "Phó Hiệu trưởng",
        "VT",
        level="province",
    ),
    Organ(
        "Sở Nông nghiệp và Phát triển nông thôn",
        "Chi cục Kiểm lâm tỉnh Lào Cai",
        "CCKL",
        "Lào Cai",
        "Chi cục trưởng",
        "Phó Chi cục trưởng",
        "QLBVR",
        level="province",
        valid_to=DEPARTMENTS_MERGED,  # as printed under this parent line
    ),
    Organ(
        "Ủy ban nhân dân thị xã Kỳ Anh",
        "Ban Quản lý dự án đầu tư xây dựng",
        "BQLDA",
        "Kỳ Anh",
        "Giám đốc",
        "Phó Giám đốc",
        "KHKT",
        level="district",
        valid_to=BEFORE_REFORM,
    ),
    Organ(
        "Sở Y tế tỉnh Sóc Trăng",
        "Trung tâm Y tế huyện Mỹ Tú",
        "TTYT",
        "Mỹ Tú",
        "Giám đốc",
        "Phó Giám đốc",
        "KHNV",
        level="district",
        valid_to=BEFORE_REFORM,
    ),
    Organ(
        "",
        "Sở Lao động - Thương binh và Xã hội tỉnh Bình Định",
        "SLĐTBXH",
        "Bình Định",
        "Giám đốc",
        "Phó Giám đốc",
        "BTXH",
        level="province",
        valid_to=DEPARTMENTS_MERGED,
    ),
)

# Organs of every level before and after the 2025 reform, for the pages after the first
# `pages.PINNED_PAGES` of a seed (those stay as they were: the OCR benchmark's pages). Real
# units: districts and communes dissolved on 1 July 2025, and the provinces and communes formed
# that day (Gia Lai took in Bình Định, Cần Thơ took in Sóc Trăng, Quảng Trị took in Quảng Bình).
WIDER_ORGANS: tuple[Organ, ...] = (
    Organ(
        "",
        "Ủy ban nhân dân tỉnh Bình Định",
        "UBND",
        "Bình Định",
        "Chủ tịch",
        "Phó Chủ tịch",
        "TH",
        level="province",
        valid_to=BEFORE_REFORM,
    ),
    Organ(
        "",
        "Ủy ban nhân dân tỉnh Gia Lai",
        "UBND",
        "Gia Lai",
        "Chủ tịch",
        "Phó Chủ tịch",
        "KTTH",
        level="province",
        valid_from=REFORM_DAY,
    ),
    Organ(
        "",
        "Ủy ban nhân dân thành phố Cần Thơ",
        "UBND",
        "Cần Thơ",
        "Chủ tịch",
        "Phó Chủ tịch",
        "VP",
        level="province",
        valid_from=REFORM_DAY,
    ),
    Organ(
        "Ủy ban nhân dân tỉnh Lào Cai",
        "Sở Nông nghiệp và Môi trường",
        "SNNMT",
        "Lào Cai",
        "Giám đốc",
        "Phó Giám đốc",
        "QLĐĐ",
        level="province",
        valid_from=REFORM_DAY,
    ),
    Organ(
        "Ủy ban nhân dân tỉnh Quảng Trị",
        "Ủy ban nhân dân thành phố Đông Hà",
        "UBND",
        "Đông Hà",
        "Chủ tịch",
        "Phó Chủ tịch",
        "VP",
        level="district",
        valid_to=BEFORE_REFORM,
    ),
    Organ(
        "",
        "Ủy ban nhân dân huyện Gia Viễn",
        "UBND",
        "Gia Viễn",
        "Chủ tịch",
        "Phó Chủ tịch",
        "NV",
        level="district",
        valid_to=BEFORE_REFORM,
    ),
    Organ(
        "Ủy ban nhân dân huyện Bát Xát",
        "Ủy ban nhân dân thị trấn Bát Xát",
        "UBND",
        "Bát Xát",
        "Chủ tịch",
        "Phó Chủ tịch",
        "VP",
        level="commune",
        valid_to=BEFORE_REFORM,
    ),
    Organ(
        "Ủy ban nhân dân thành phố Hà Tĩnh",
        "Ủy ban nhân dân phường Nam Hà",
        "UBND",
        "Nam Hà",
        "Chủ tịch",
        "Phó Chủ tịch",
        "VP",
        level="commune",
        valid_to=BEFORE_REFORM,
    ),
    Organ(
        "Ủy ban nhân dân tỉnh Gia Lai",
        "Ủy ban nhân dân xã Tuy Phước",
        "UBND",
        "Tuy Phước",
        "Chủ tịch",
        "Phó Chủ tịch",
        "VP",
        level="commune",
        valid_from=REFORM_DAY,
    ),
    Organ(
        "Tỉnh Quảng Trị",
        "Ủy ban nhân dân phường Đông Hà",
        "UBND",
        "Đông Hà",
        "Chủ tịch",
        "Phó Chủ tịch",
        "VP",
        level="commune",
        valid_from=REFORM_DAY,
    ),
    Organ(
        "Ủy ban nhân dân tỉnh Hà Tĩnh",
        "Ủy ban nhân dân phường Thành Sen",
        "UBND",
        "Thành Sen",
        "Chủ tịch",
        "Phó Chủ tịch",
        "VP",
        level="commune",
        valid_from=REFORM_DAY,
    ),
    Organ(
        "Ủy ban nhân dân thành phố Cần Thơ",
        "Ủy ban nhân dân phường Ninh Kiều",
        "UBND",
        "Ninh Kiều",
        "Chủ tịch",
        "Phó Chủ tịch",
        "VP",
        level="commune",
        valid_from=REFORM_DAY,
    ),
)

# The wider pages' dates: from this set's first year to the last month it can print.
FIRST_DAY = "2015-01-01"
LAST_DAY = "2026-11-30"
# (level, era) -> the organs of that kind: the wider pages draw a kind first, so every level
# before and after the reform is measured on about as many documents (no district after it).
ERAS = ("before", "after")
OLD_TONES_SHARE = 0.3  # wider pages printed with the older tone placement (hoà, uỷ, Thuỷ)


def organ_kinds() -> dict[tuple[str, str], tuple[Organ, ...]]:
    kinds: dict[tuple[str, str], list[Organ]] = {}
    for organ in ORGANS + WIDER_ORGANS:
        for era in ERAS:
            start, end = _window(organ, era)
            if start <= end:
                kinds.setdefault((organ.level, era), []).append(organ)
    return {k: tuple(v) for k, v in sorted(kinds.items())}


def _window(organ: Organ, era: str) -> tuple[str, str]:
    """First and last ISO day on which `organ` can date a document of `era`."""
    start = max(organ.valid_from or FIRST_DAY, FIRST_DAY if era == "before" else REFORM_DAY)
    end = min(organ.valid_to or LAST_DAY, BEFORE_REFORM if era == "before" else LAST_DAY)
    return start, end


def _day_in(rng: random.Random, start: str, end: str) -> date:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return first + timedelta(days=rng.randint(0, (last - first).days))


# kind -> (title printed above the subject, ký hiệu letters); công văn prints no title.
KINDS: dict[str, tuple[str, str]] = {
    "quyết định": ("Quyết định", "QĐ"),
    "công văn": ("", ""),
    "thông báo": ("Thông báo", "TB"),
    "kế hoạch": ("Kế hoạch", "KH"),
    "tờ trình": ("Tờ trình", "TTr"),
    "biên bản": ("Biên bản", "BB"),
}

TOPICS: tuple[str, ...] = (
    "chuyển đổi số trong công tác văn thư, lưu trữ",
    "phòng, chống thiên tai và tìm kiếm cứu nạn mùa mưa bão",
    "cấp giấy chứng nhận quyền sử dụng đất lần đầu",
    "tiêm chủng mở rộng cho trẻ em dưới 5 tuổi",
    "quản lý, bảo vệ rừng và phòng cháy, chữa cháy rừng",
    "sửa chữa, nâng cấp đường giao thông nông thôn",
    "chi trả trợ cấp xã hội hằng tháng qua tài khoản",
    "tuyển sinh vào lớp 10 trung học phổ thông",
    "kiểm tra an toàn thực phẩm dịp Tết Nguyên đán",
    "số hóa hồ sơ hộ tịch lưu trữ tại cấp xã",
)

SUBJECTS: dict[str, tuple[str, ...]] = {
    "quyết định": (
        "Về việc thành lập Tổ công tác {topic}",
        "Về việc phê duyệt kế hoạch {topic} năm {year}",
        "Về việc ban hành Quy chế phối hợp {topic}",
    ),
    "công văn": (
        "V/v đôn đốc triển khai {topic}",
        "V/v báo cáo kết quả {topic} quý {quarter}/{year}",
        "V/v góp ý dự thảo hướng dẫn {topic}",
    ),
    "thông báo": (
        "Kết luận của {deputy} tại cuộc họp về {topic}",
        "Về việc tạm dừng tiếp nhận hồ sơ trực tiếp từ ngày {day2}/{month2}/{year}",
    ),
    "kế hoạch": (
        "Triển khai {topic} năm {year}",
        "Kiểm tra, giám sát {topic} giai đoạn {year}-{year5}",
    ),
    "tờ trình": (
        "Về việc đề nghị bổ sung kinh phí {topic}",
        "Đề nghị phê duyệt danh mục dự án {topic}",
    ),
    "biên bản": (
        "Họp Hội đồng thẩm định hồ sơ {topic}",
        "Bàn giao hồ sơ, tài liệu {topic}",
    ),
}

OPENINGS: dict[str, tuple[str, ...]] = {
    "quyết định": (
        "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; Luật sửa đổi, "
        "bổ sung một số điều của Luật Tổ chức Chính phủ và Luật Tổ chức chính quyền địa "
        "phương ngày 22 tháng 11 năm 2019;",
        "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05/3/2020 của Chính phủ về công tác văn thư;",
        "Căn cứ Quyết định số {num2}/QĐ-UBND ngày {day}/{month}/{year} của Ủy ban nhân dân "
        "tỉnh về việc giao chỉ tiêu {topic};",
        "Xét đề nghị của Trưởng phòng Tổ chức - Hành chính tại Tờ trình số {num}/TTr-TCHC "
        "ngày {day2}/{month2}/{year}.",
    ),
    "công văn": ("Kính gửi: {addressee}.",),
    "tờ trình": ("Kính gửi: {addressee}.",),
    "biên bản": (
        "Hôm nay, vào lúc {hour} giờ {minute} phút, ngày {day} tháng {month} năm {year}, tại "
        "phòng họp số {room} ({place}), chúng tôi gồm:",
    ),
}

ADDRESSEES: tuple[str, ...] = (
    "Ủy ban nhân dân các xã, thị trấn",
    "Các phòng, ban chuyên môn thuộc huyện",
    "Thủ trưởng các đơn vị trực thuộc",
    "Sở Tài chính; Sở Kế hoạch và Đầu tư",
)

# Sentences of the body, grouped so that a paragraph reads as one thought.
SENTENCES: tuple[tuple[str, ...], ...] = (
    (
        "Thực hiện chỉ đạo của cấp trên về {topic}, đơn vị đã xây dựng kế hoạch chi tiết và "
        "phân công nhiệm vụ cụ thể cho từng bộ phận.",
        "Đến hết ngày {day}/{month}/{year}, tỷ lệ hồ sơ được giải quyết đúng hạn đạt {pct}%, "
        "tăng {pct_small}% so với cùng kỳ năm trước.",
        "Tuy nhiên, một số đơn vị còn chậm gửi báo cáo, số liệu chưa thống nhất giữa các "
        "biểu mẫu (nhất là biểu số 02 và biểu số 05).",
    ),
    (
        "Giao Văn phòng chủ trì, phối hợp với các cơ quan liên quan rà soát toàn bộ hồ sơ "
        "tồn đọng; kết quả gửi về trước ngày {day2}/{month2}/{year}.",
        "Trường hợp phát sinh vướng mắc, đề nghị phản ánh kịp thời qua số điện thoại "
        "0233.3852.{phone} hoặc hộp thư điện tử của đơn vị để được hướng dẫn.",
        "Thủ trưởng các đơn vị chịu trách nhiệm trước {head} về tiến độ và chất lượng thực "
        "hiện nhiệm vụ được giao.",
    ),
    (
        "Tổng kinh phí dự kiến là {money} đồng (bằng chữ: {money_words}), trong đó ngân sách "
        "tỉnh hỗ trợ {pct}%, phần còn lại do ngân sách huyện và nguồn xã hội hóa bảo đảm.",
        "Kinh phí được bố trí trong dự toán năm {year} đã giao cho đơn vị theo Quyết định số "
        "{num2}/QĐ-UBND.",
        "Việc thanh toán, quyết toán thực hiện theo đúng quy định hiện hành.",
    ),
    (
        "Qua kiểm tra thực tế tại {n} cơ sở, đoàn công tác nhận thấy phần lớn các cơ sở đã "
        "chấp hành tốt quy định; {n_small} cơ sở bị nhắc nhở, {n_tiny} cơ sở bị lập biên bản "
        "vi phạm hành chính.",
        "Các lỗi thường gặp là: không niêm yết giá công khai; hồ sơ nguồn gốc hàng hóa không "
        "đầy đủ; điều kiện bảo quản chưa bảo đảm.",
        "Đoàn đã yêu cầu các cơ sở khắc phục ngay và báo cáo kết quả trong thời hạn 15 ngày.",
    ),
    (
        "Mục tiêu chung là nâng cao chất lượng phục vụ người dân, doanh nghiệp; phấn đấu "
        "đến năm {year5} có ít nhất {pct}% thủ tục hành chính được cung cấp trực tuyến toàn "
        "trình.",
        "Yêu cầu đặt ra: bám sát thực tiễn, có lộ trình cụ thể, không hình thức, tránh chồng "
        "chéo giữa các cơ quan.",
        'Thành lập Tổ công tác liên ngành (sau đây gọi tắt là "Tổ công tác") do {deputy} '
        "làm Tổ trưởng.",
        "Các nhiệm vụ cụ thể được nêu tại Phụ lục kèm theo văn bản này.",
    ),
    (
        "Ý kiến của các thành viên dự họp cơ bản thống nhất với nội dung dự thảo; một số ý "
        "kiến đề nghị làm rõ khái niệm “hồ sơ điện tử” và trách nhiệm của bộ phận một cửa.",
        "Đại diện Phòng Tư pháp lưu ý: văn bản phải được rà soát tính hợp hiến, hợp pháp "
        "trước khi trình ký.",
        "Cuộc họp kết thúc vào lúc {hour2} giờ cùng ngày; biên bản được lập thành 03 bản có "
        "giá trị pháp lý như nhau.",
    ),
    (
        "Trong năm {year}, toàn huyện đã huy động {n} lượt người tham gia tuyên truyền, vận "
        "động; tổ chức {n_small} lớp tập huấn cho cán bộ cơ sở với hơn {n_big} học viên.",
        "Công tác phối hợp giữa chính quyền và các đoàn thể (Mặt trận Tổ quốc, Hội Nông dân, "
        "Hội Liên hiệp Phụ nữ) ngày càng chặt chẽ, hiệu quả.",
        "Kết quả trên là tiền đề quan trọng để thực hiện thắng lợi nhiệm vụ giai đoạn "
        "{year}–{year5}.",
    ),
    (
        "Đề nghị Ủy ban nhân dân các xã, thị trấn khẩn trương tổ chức thực hiện; định kỳ hằng "
        "tháng (trước ngày 25) tổng hợp, báo cáo kết quả về cơ quan thường trực.",
        "Không để xảy ra tình trạng chậm trễ, đùn đẩy trách nhiệm hoặc gây phiền hà cho người "
        "dân khi giải quyết thủ tục.",
        "Việc đánh giá, xếp loại thi đua cuối năm căn cứ vào mức độ hoàn thành các chỉ tiêu "
        "nêu trên.",
    ),
)

CLOSINGS: dict[str, tuple[str, ...]] = {
    "quyết định": (
        "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
        "Điều 3. Chánh Văn phòng, Thủ trưởng các cơ quan, đơn vị có liên quan chịu trách "
        "nhiệm thi hành Quyết định này./.",
    ),
    "công văn": ("Đề nghị các đơn vị quan tâm, phối hợp thực hiện./.",),
    "thông báo": ("{organ} thông báo để các cơ quan, đơn vị biết, thực hiện./.",),
    "kế hoạch": ("Trên đây là Kế hoạch {topic} năm {year} của {organ}./.",),
    "tờ trình": ("Kính trình {addressee} xem xét, quyết định./.",),
    "biên bản": ("Biên bản đã được đọc lại cho các thành viên cùng nghe và nhất trí ký tên./.",),
}

RECIPIENTS: tuple[str, ...] = (
    "Như trên",
    "Như Điều 3",
    "Thường trực Huyện ủy",
    "Chủ tịch, các Phó Chủ tịch UBND",
    "Sở Nội vụ (để b/c)",
    "Cổng thông tin điện tử tỉnh",
    "Các phòng chuyên môn",
    "Trung tâm Phục vụ hành chính công",
)

FAMILY_NAMES = ("Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Dương")
MIDDLE_NAMES = ("Thị", "Văn", "Hữu", "Ngọc", "Quang", "Minh", "Thanh", "Đức", "Xuân")
GIVEN_NAMES = (
    "Hạnh",
    "Tuấn",
    "Nguyệt",
    "Khải",
    "Phượng",
    "Lộc",
    "Dũng",
    "Huyền",
    "Quý",
    "Ánh",
    "Thắng",
    "Yến",
    "Nghĩa",
    "Thư",
)
# Given names whose tone mark the older placement moves (Thuỷ, Hoà): wider pages only.
TONE_NAMES = ("Thủy", "Hòa", "Khoa", "Thúy", "Hoàn")


@dataclass(frozen=True)
class Document:
    """One page of an administrative document, before any layout decision."""

    organ: Organ
    kind: str  # a key of KINDS
    number: str  # "07", "1523"
    notation: str  # "QĐ-UBND", "UBND-VP"
    day: int
    month: int
    year: int
    subject: str
    openings: tuple[str, ...]  # Căn cứ …; Kính gửi: …; the biên bản's first sentence
    paragraphs: tuple[str, ...]
    closings: tuple[str, ...]
    recipients: tuple[str, ...]  # without "- " and the final ";" / "."
    competence: str  # "KT. CHỦ TỊCH", "TM. ỦY BAN NHÂN DÂN" or ""
    position: str
    signer: str
    old_tones: bool = False  # marks placed the older way: "hoà", "uỷ" (as many organs print)

    @property
    def title(self) -> str:
        return KINDS[self.kind][0]

    @property
    def code_line(self) -> str:
        return f"Số: {self.number}/{self.notation}"

    def spell(self, text: str) -> str:
        """A fixed string (quốc hiệu, "Nơi nhận:") as this document prints it."""
        return old_tones(text) if self.old_tones else text


# The older placement of the tone mark in "oa", "oe", "uy" (hoà, khoẻ, uỷ), which many organs
# still print; both spellings are correct Vietnamese and both must be read as printed.
_PAIRS = "òa:oà óa:oá ỏa:oả õa:oã ọa:oạ òe:oè óe:oé ỏe:oẻ ọe:oẹ ùy:uỳ úy:uý ủy:uỷ ũy:uỹ ụy:uỵ"
_OLD_TONES = {
    variant(new): variant(old)
    for new, old in (pair.split(":") for pair in _PAIRS.split())
    for variant in (str.lower, str.upper, str.capitalize)
}


def old_tones(text: str) -> str:
    for new, old in _OLD_TONES.items():
        text = text.replace(new, old)
    return text


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _money(rng: random.Random) -> tuple[str, str]:
    millions = rng.choice((125, 480, 1250, 2300, 960))
    words = {
        125: "Một trăm hai mươi lăm triệu đồng",
        480: "Bốn trăm tám mươi triệu đồng",
        1250: "Một tỷ hai trăm năm mươi triệu đồng",
        2300: "Hai tỷ ba trăm triệu đồng",
        960: "Chín trăm sáu mươi triệu đồng",
    }[millions]
    return f"{millions * 1_000_000:,}".replace(",", "."), words


def _slots(rng: random.Random, organ: Organ, year: int) -> dict[str, str]:
    money, money_words = _money(rng)
    pct = rng.randint(62, 98)
    return {
        "topic": rng.choice(TOPICS),
        "year": str(year),
        "year5": str(year + 5),
        "quarter": rng.choice(("I", "II", "III", "IV")),
        "day": f"{rng.randint(1, 28):02d}",
        "month": f"{rng.randint(1, 12):02d}",
        "day2": f"{rng.randint(1, 28):02d}",
        "month2": f"{rng.randint(1, 12):02d}",
        "num": f"{rng.randint(1, 99):02d}",
        "num2": str(rng.randint(100, 3200)),
        "pct": f"{pct},{rng.randint(1, 9)}" if rng.random() < 0.4 else str(pct),
        "pct_small": f"{rng.randint(1, 9)},{rng.randint(1, 9)}",
        "n": str(rng.randint(24, 180)),
        "n_small": str(rng.randint(5, 19)),
        "n_tiny": f"{rng.randint(1, 4):02d}",
        "n_big": f"{rng.randint(1, 3)}.{rng.randint(100, 950)}",
        "money": money,
        "money_words": money_words,
        "phone": f"{rng.randint(0, 999):03d}",
        "hour": f"{rng.randint(7, 10):02d}",
        "hour2": str(rng.randint(11, 17)),
        "minute": rng.choice(("00", "15", "30", "45")),
        "room": str(rng.randint(1, 6)),
        "place": f"trụ sở {organ.name}",
        "organ": organ.name,
        "head": f"{organ.head} {organ.name}",
        "deputy": f"{organ.deputy} {organ.name}",
        "addressee": rng.choice(ADDRESSEES),
    }


def _signer(rng: random.Random, organ: Organ, kind: str) -> tuple[str, str]:
    """(competence, position) in capitals as printed; the head signs without a competence."""
    style = rng.random()
    if style < 0.35:
        return "", organ.head.upper()
    if style < 0.55 and organ.short == "UBND":
        return "TM. ỦY BAN NHÂN DÂN", organ.deputy.upper()
    if style < 0.8 or kind == "quyết định":
        return f"KT. {organ.head.upper()}", organ.deputy.upper()
    return f"TL. {organ.head.upper()}", "CHÁNH VĂN PHÒNG"


def _recipients(rng: random.Random, organ: Organ, kind: str) -> tuple[str, ...]:
    first = "Như Điều 3" if kind == "quyết định" else "Như trên"
    others = rng.sample([r for r in RECIPIENTS if not r.startswith("Như")], rng.randint(2, 4))
    return (first, *others, f"Lưu: VT, {organ.unit}")


def compose(rng: random.Random, *, wide: bool = False) -> Document:
    """A document of a random kind and organ; the body holds more paragraphs than one page
    takes, so the layout decides where the text stops.

    `wide`: the organ is drawn from every level before and after the 2025 reform (`ORGANS` and
    `WIDER_ORGANS`, one (level, era) kind first), the date inside the organ's life, and some
    documents print the older tone placement throughout. Without it the draws are exactly the
    ones this function always made (the pinned pages)."""
    issued = None
    if wide:
        kinds = organ_kinds()
        level_era = rng.choice(tuple(kinds))
        organ = rng.choice(kinds[level_era])
        issued = _day_in(rng, *_window(organ, level_era[1]))
        kind = rng.choice(tuple(KINDS))
        year = issued.year
    else:
        organ = rng.choice(ORGANS)
        kind = rng.choice(tuple(KINDS))
        year = rng.randint(2015, 2025)
    slots = _slots(rng, organ, year)
    fill = lambda text: nfc(text.format(**slots))  # noqa: E731 - one-line template filler
    groups = rng.sample(SENTENCES, len(SENTENCES))
    paragraphs = tuple(fill(" ".join(group[: rng.randint(2, len(group))])) for group in groups)
    openings = OPENINGS.get(kind, ())
    if kind == "quyết định":
        openings = openings[: rng.randint(2, 3)]
    letters = KINDS[kind][1]
    notation = f"{letters}-{organ.short}" if letters else f"{organ.short}-{organ.unit}"
    competence, position = _signer(rng, organ, kind)
    doc = Document(
        organ=organ,
        kind=kind,
        number=f"{rng.randint(1, 2999):02d}",
        notation=notation,
        day=rng.randint(1, 28),
        month=rng.randint(1, 12),
        year=year,
        subject=fill(rng.choice(SUBJECTS[kind])),
        openings=tuple(fill(o) for o in openings),
        paragraphs=paragraphs,
        closings=tuple(fill(c) for c in CLOSINGS[kind]),
        recipients=_recipients(rng, organ, kind),
        competence=competence,
        position=position,
        signer=nfc(
            f"{rng.choice(FAMILY_NAMES)} {rng.choice(MIDDLE_NAMES)} {rng.choice(GIVEN_NAMES)}"
        ),
    )
    if issued is None:
        return doc
    # drawn after everything the pinned pages draw, so those stay as they were
    signer = doc.signer.rsplit(" ", 1)[0] + " " + rng.choice(GIVEN_NAMES + TONE_NAMES)
    doc = replace(doc, day=issued.day, month=issued.month, signer=nfc(signer))
    return _with_old_tones(doc) if rng.random() < OLD_TONES_SHARE else doc


def _with_old_tones(doc: Document) -> Document:
    """The whole document printed with the older tone placement, as some organs print."""
    return replace(
        doc,
        subject=old_tones(doc.subject),
        openings=tuple(map(old_tones, doc.openings)),
        paragraphs=tuple(map(old_tones, doc.paragraphs)),
        closings=tuple(map(old_tones, doc.closings)),
        recipients=tuple(map(old_tones, doc.recipients)),
        signer=old_tones(doc.signer),
        old_tones=True,
    )
