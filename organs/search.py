"""Finding organs as people type them (a pick-list's search box, `sohoa organs find`): by the
folded words of their names and header forms, the last word typed maybe unfinished, or by the
start of their OrganId. Built once per registry on first use; the registry ranks what it finds.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from organs.match import ABBREVIATIONS, words
from schemas.text import fold

_PUNCT = re.compile(r"[^\w\n]+")


class Index:
    def __init__(self, forms: Iterable[tuple[str, Iterable[str]]]) -> None:
        """`forms`: each organ's id and the names it is written by."""
        self._ids: dict[str, set[str]] = {}  # folded word → organ ids
        ids, lines = [], []
        for organ_id, names in forms:
            ids.append(organ_id)
            lines.append(" ".join(names).replace("&", " va "))
        # One fold of all the names at once: 38,000 folds one by one cost four times more.
        folded = _PUNCT.sub(" ", fold("\n".join(lines))).split("\n")
        self.folded: dict[str, str] = {}  # organ id → its names folded, for ranking
        for organ_id, line in zip(ids, folded, strict=True):
            self.folded[organ_id] = " ".join(line.split())
            for word in set(line.split()):
                for spelled in ABBREVIATIONS.get(word, word).split():
                    self._ids.setdefault(spelled, set()).add(organ_id)
        self._words = sorted(self._ids)
        self._organ_ids = sorted(ids)

    def find(self, text: str) -> set[str]:
        """Organs every typed word names (the last one by its start: `đắk h` finds `Đắk Hà`),
        and those whose OrganId starts with the text."""
        found = set(self._starting(self._organ_ids, text.strip().upper()) if text.strip() else ())
        typed = words(text)
        if not typed:
            return found
        sets = [self._ids.get(w, set()) for w in typed[:-1]]
        last: set[str] = set()
        for word in self._starting(self._words, typed[-1]):
            last |= self._ids[word]
        sets.append(last)
        sets.sort(key=len)
        return found | set.intersection(*sets)

    @staticmethod
    def _starting(sorted_words: list[str], start: str) -> list[str]:
        i = bisect.bisect_left(sorted_words, start)
        j = bisect.bisect_left(sorted_words, start + "\U0010ffff")
        return sorted_words[i:j]
