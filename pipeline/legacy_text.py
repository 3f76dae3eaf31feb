"""Legacy Vietnamese 8-bit encodings (TCVN3/ABC, VNI-Windows, VISCII): tables and detection.

Born-digital documents from before Unicode became mandatory (Decision 72/2002/QĐ-TTg) show
Vietnamese through fonts whose byte codes are not Unicode: PDFium reads them through the font's
Latin encoding, as `Céng hßa x· héi chñ nghÜa ViÖt Nam`. Each table here maps a font's byte code
to the Unicode it draws, so a font can be given a ToUnicode map (pipeline.legacy_pdf) and its text
read as Unicode by any reader, ours included.

Sources: VISCII is RFC 1456 (checked against glibc's VISCII charmap). TCVN3 is the VN3 subset of
TCVN 5712:1993 that the `.Vn` fonts carry (checked against glibc's TCVN5712-1 for every code VN3
keeps, and against the PyPI package viparse's table, MIT, built from government documents of
1998-2009): lower-case letters only, so capitals with tones are set in separate `.VnTimeH`-style
fonts that draw capitals at the lower-case codes. VNI-Windows writes a toned letter as a base
letter and one or two mark codes (`Coäng` = Cộng); its mark codes map to combining marks here,
which NFC composes with the base (checked against every entry of viparse's VNI table).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from itertools import islice

TCVN3, VNI, VISCII = "tcvn3", "vni", "viscii"

# VN3: 0xA1-0xAE hold the letters without tone, capitals first; 0xB5-0xFE the toned lower case.
_TCVN3_ROWS = {
    0xA1: "ĂÂÊÔƠƯĐăâêôơưđ",
    0xB5: "àảãáạ",
    0xBB: "ằẳẵắ",
    0xC6: "ặầẩẫấậè",
    0xCE: "ẻẽéẹềểễếệìỉ",
    0xDC: "ĩíịò",
    0xE1: "ỏõóọồổỗốộờởỡớợù",
    0xF1: "ủũúụừửữứựỳỷỹýỵ",
}

# VISCII: the six C0 codes it takes over, then 0x80-0xFF (codes equal to Latin-1 left out).
_VISCII_C0 = {0x02: "Ẳ", 0x05: "Ẵ", 0x06: "Ẫ", 0x14: "Ỷ", 0x19: "Ỹ", 0x1E: "Ỵ"}
_VISCII_ROWS = {
    0x80: "ẠẮẰẶẤẦẨẬẼẸẾỀỂỄỆỐỒỔỖỘỢỚỜỞỊỎỌỈỦŨỤỲ",
    0xA0: "ÕắằặấầẩậẽẹếềểễệốồổỗỠƠộờởịỰỨỪỬơớƯ",
    0xC4: "ẢĂẳẵ",
    0xCB: "Ẻ",
    0xCE: "ĨỳĐứ",
    0xD5: "ạỷừử",
    0xDB: "ỹỵ",
    0xDE: "ỡư",
    0xE4: "ảăữẫ",
    0xEB: "ẻ",
    0xEE: "ĩỉđự",
    0xF6: "ỏọụ",
    0xFB: "ũủ",
    0xFE: "ợỮ",
}

# VNI-Windows: mark codes (lower-case and capital forms) and the letters it codes in one byte.
_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE = "\u0302", "\u0306"
_VNI_MARKS = {
    "ø": _GRAVE,
    "ù": _ACUTE,
    "û": _HOOK,
    "õ": _TILDE,
    "ï": _DOT,
    "â": _CIRCUMFLEX,
    "ê": _BREVE,
    "à": _CIRCUMFLEX + _GRAVE,
    "á": _CIRCUMFLEX + _ACUTE,
    "å": _CIRCUMFLEX + _HOOK,
    "ã": _CIRCUMFLEX + _TILDE,
    "ä": _CIRCUMFLEX + _DOT,
    "è": _BREVE + _GRAVE,
    "é": _BREVE + _ACUTE,
    "ú": _BREVE + _HOOK,
    "ü": _BREVE + _TILDE,
    "ë": _BREVE + _DOT,
}
_VNI_LETTERS = {"ñ": "đ", "ô": "ơ", "ö": "ư", "ò": "ị", "æ": "ỉ", "ó": "ĩ", "í": "í", "ì": "ì"}


def _rows(rows: dict[int, str]) -> dict[int, str]:
    return {start + i: char for start, chars in rows.items() for i, char in enumerate(chars)}


def _vni() -> dict[int, str]:
    table = {}
    for latin, mark in _VNI_MARKS.items():
        table[ord(latin)] = table[ord(latin.upper())] = mark
    for latin, letter in _VNI_LETTERS.items():
        table[ord(latin)], table[ord(latin.upper())] = letter, letter.upper()
    return table


# Font byte code -> the Unicode it draws, for the codes where that differs from Latin-1.
TABLES: dict[str, dict[int, str]] = {
    TCVN3: _rows(_TCVN3_ROWS),
    VNI: _vni(),
    VISCII: _VISCII_C0 | _rows(_VISCII_ROWS),
}


def code_to_unicode(encoding: str, code: int, capitals: bool = False) -> str | None:
    """What a font of `encoding` draws at byte `code` (None: a control code it does not use).

    `capitals`: a TCVN3 capitals font (`.VnTimeH`), which draws every letter upper-case."""
    text = TABLES[encoding].get(code)
    if text is None:
        if (code < 0x20 and code not in b"\t\n\r") or 0x7F <= code < 0xA0:
            return None
        text = chr(code)
    return text.upper() if capitals else text


def decode(data: bytes, encoding: str, capitals: bool = False) -> str:
    """Bytes shown in a font of `encoding`, as Unicode NFC."""
    chars = (code_to_unicode(encoding, code, capitals) for code in data)
    return unicodedata.normalize("NFC", "".join(c if c is not None else " " for c in chars))


# Font names (subset tag and style suffix removed) of the legacy font families.
_STYLE = re.compile(r"([,-](bold|italic|oblique|regular|bolditalic|boldoblique))+$", re.I)
_TCVN3_NAME = re.compile(r"^\.?Vn[A-Z0-9]")  # .VnTime, .VnArialH, VnTimes (dot lost)
_VNI_NAME = re.compile(r"^VNI[-_ ]?[A-Z]", re.I)  # VNI-Times, VNI-Helve, VNI Times
_VISCII_NAME = re.compile(r"VISCII|^VI[ -]?(Times|Arial|Courier)", re.I)


def font_encoding(base_font: str) -> tuple[str, bool] | None:
    """(encoding, capitals) of a font known by its name, or None."""
    name = _STYLE.sub("", base_font.split("+", 1)[-1].strip())
    if _VNI_NAME.search(name):
        return VNI, False
    if _TCVN3_NAME.search(name):
        return TCVN3, name.endswith("H")
    if _VISCII_NAME.search(name):
        return VISCII, False
    return None


# Characters that a legacy font's text shows as through a Latin encoding (WinAnsi, Latin-1) but
# that are rare in Unicode Vietnamese and in English: their presence is what makes a page worth a
# closer look. Letters Vietnamese shares with Latin-1 (à á â ã è é ê ì í ò ó ô õ ù ú ý) are not.
_SHARED = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
_SUSPECT = frozenset(
    c
    for c in map(chr, [*range(0x01, 0x20), *range(0x80, 0x100)])
    if c not in _SHARED and c not in "\t\n\r\xa0"
) | frozenset("\u2212\u2219")  # 0xAD and 0xB7 as some .Vn fonts' glyph names read
SUSPECT_MIN = 3


@lru_cache(maxsize=1)
def _suspect_pattern() -> re.Pattern[str]:
    return re.compile("[" + re.escape("".join(sorted(_SUSPECT))) + "]")


def suspect(text: str) -> bool:
    """True when `text` (as PDFium read it) may hold legacy-encoded runs: a cheap gate, run on
    every born-digital page; the fonts decide (pipeline.legacy_pdf)."""
    found = islice(_suspect_pattern().finditer(text), SUSPECT_MIN)
    return sum(1 for _ in found) >= SUSPECT_MIN


# A Vietnamese syllable: onset, vowels (at most one tone), coda. Used to recognise a legacy
# encoding when the font's name does not say it: the font's bytes decode to real syllables.
_VOWELS = "aăâeêioôơuưy"
_ONSET = "(?:ngh|ng|gh|gi|kh|ph|th|tr|ch|nh|qu|[bcdđghklmnpqrstvx])?"
_CODA = "(?:ng|nh|ch|[cmnpt])?"
_SYLLABLE = re.compile(f"{_ONSET}[{_VOWELS}]{{1,3}}{_CODA}")
_WORD = re.compile(r"[^\W\d_]+")


def _plain(word: str) -> str:
    """Lower case, tones removed; any other mark stays (so `coäng` is no syllable)."""
    tones = (_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT)
    decomposed = unicodedata.normalize("NFD", word.lower())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))


def _tones(word: str) -> int:
    marks = (_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT)
    return sum(c in marks for c in unicodedata.normalize("NFD", word))


def is_syllable(word: str) -> bool:
    """A Vietnamese syllable as spelled (one tone at most), not necessarily a word."""
    return bool(_SYLLABLE.fullmatch(_plain(word))) and _tones(word) <= 1


def syllable_share(text: str) -> tuple[int, float]:
    """(how many words carry a non-ASCII letter, share of those that are Vietnamese syllables)."""
    words = [w for w in _WORD.findall(text) if not w.isascii()]
    if not words:
        return 0, 0.0
    return len(words), sum(map(is_syllable, words)) / len(words)


# Tokens of a font's bytes: runs between ASCII spaces, digits and punctuation, the same whichever
# encoding reads them (VISCII's six C0 letters included).
_TOKEN = re.compile(rb"[\x02\x05\x06\x14\x19\x1eA-Za-z\x80-\xff]+")
_LEGACY_BYTE = re.compile(rb"[\x02\x05\x06\x14\x19\x1e\x80-\xff]")
MIN_WORDS, MIN_SHARE, MIN_GAIN = 3, 0.9, 0.15


def _share(tokens: list[bytes], read: Callable[[bytes], str]) -> float:
    return sum(is_syllable(read(token)) for token in tokens) / len(tokens)


def guess_encoding(data: bytes) -> str | None:
    """The legacy encoding under which a font's bytes read as Vietnamese syllables, when read as
    Latin-1 they clearly do not (so Unicode, English and a font's own codes are never taken for
    legacy). Of two that read equally well the more common one wins (TCVN3, VNI, VISCII)."""
    tokens = [t for t in _TOKEN.findall(data) if _LEGACY_BYTE.search(t)]
    if len(tokens) < MIN_WORDS:
        return None
    best, best_share = (
        None,
        max(MIN_SHARE, _share(tokens, lambda t: t.decode("latin-1")) + MIN_GAIN),
    )
    for encoding in (TCVN3, VNI, VISCII):
        share = _share(tokens, lambda t, e=encoding: decode(t, e))
        if share >= best_share and (best is None or share > best_share):
            best, best_share = encoding, share
    return best


@lru_cache(maxsize=4)
def _inverse(encoding: str) -> dict[str, int]:
    table = TABLES[encoding]
    return {text: code for code, text in sorted(table.items(), reverse=True) if len(text) == 1}


def encode(text: str, encoding: str) -> bytes:
    """Unicode as a legacy font's bytes (how the test documents and the bench make legacy PDFs);
    a capitals font (`.VnTimeH`) is given the lower-case text. Raises ValueError for a character
    the encoding cannot show."""
    if encoding == VNI:
        return _encode_vni(text)
    inverse = _inverse(encoding)
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        code = inverse.get(char, ord(char) if ord(char) < 0x100 else None)
        if code is None or (char not in inverse and code in TABLES[encoding]):
            raise ValueError(f"{encoding} cannot show {char!r}")
        out.append(code)
    return bytes(out)


def _encode_vni(text: str) -> bytes:
    table = TABLES[VNI]
    marks = {code: mark for code, mark in table.items() if unicodedata.combining(mark[0])}
    letters = {text: code for code, text in table.items() if code not in marks}
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        if char in letters:
            out.append(letters[char])
            continue
        base, *rest = unicodedata.normalize("NFD", char)
        if rest and rest[0] == "\u031b":  # ơ ư: the horn letter is one code, its tone a mark
            base, rest = unicodedata.normalize("NFC", base + rest[0]), rest[1:]
        if ord(base) >= 0x80 and base not in letters:
            raise ValueError(f"vni cannot show {char!r}")
        out.append(letters.get(base, ord(base)))
        # NFD puts a dot below before the circumflex or breve; VNI's codes put the quality first
        mark = "".join(sorted(rest, key=lambda m: m not in (_CIRCUMFLEX, _BREVE)))
        if mark:
            codes = [code for code, m in marks.items() if m == mark]
            if not codes:
                raise ValueError(f"vni cannot show {char!r}")
            # lower-case marks sit at the higher codes (ù 0xF9, Ù 0xD9)
            out.append(max(codes) if base.islower() else min(codes))
    return bytes(out)
