"""Page fingerprints (pipeline/fingerprint.py) and the page-match rule of workers/duplicates.py:
a rescan at another resolution and degradation hashes alike, a page of the same template with
another body does not read alike, and a match needs both kinds when a page has both."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np

from corpus.content import seed_paragraphs
from corpus.degrade import degrade, jpeg_round_trip
from corpus.nd30 import SyntheticDocument, layout_document, make_document, render_page
from pipeline.fingerprint import (
    image_bands,
    image_hash,
    image_similarity,
    text_bands,
    text_minhash,
    text_similarity,
)
from pipeline.preprocess import prepare
from storage.duplicates import PageFingerprint
from workers.duplicates import (
    BOTH_IMAGE_THRESHOLD,
    BOTH_TEXT_THRESHOLD,
    page_match,
)


def _grey(image) -> np.ndarray:  # noqa: ANN001
    return prepare(image, do_deskew=True).grey


def test_a_rescan_hashes_alike_and_shares_bands_a_blank_page_has_no_hash() -> None:
    rng = random.Random("fingerprint")
    clean = render_page(make_document(rng, pages=1).pages[0])
    first = image_hash(_grey(degrade(clean, "light", 1).image))
    low = clean.resize((clean.width * 2 // 3, clean.height * 2 // 3))
    again = image_hash(_grey(jpeg_round_trip(degrade(low, "heavy", 2).image, 40)))
    assert first and again and len(first) == len(again) == 64
    assert image_similarity(first, again) >= BOTH_IMAGE_THRESHOLD
    assert set(image_bands(first)) & set(image_bands(again))
    assert image_hash(np.full((400, 300), 255, np.uint8)) is None


def test_the_same_template_with_another_body_does_not_read_alike() -> None:
    rng = random.Random("fingerprint-text")
    doc = make_document(rng, pages=1)
    paragraphs = seed_paragraphs()
    body = tuple(paragraphs[(7 + i) % len(paragraphs)] for i in range(30))
    twin = SyntheticDocument(
        replace(doc.spec, body=body), tuple(layout_document(replace(doc.spec, body=body), 1))
    )
    ours, theirs = text_minhash(doc.pages[0].text), text_minhash(twin.pages[0].text)
    assert ours is not None and theirs is not None
    assert text_similarity(ours, theirs) < BOTH_TEXT_THRESHOLD
    slipped = doc.pages[0].text.replace("ư", "u", 3)  # an OCR slip or three: still alike
    assert text_similarity(ours, text_minhash(slipped)) >= BOTH_TEXT_THRESHOLD
    assert set(text_bands(ours)) & set(text_bands(text_minhash(slipped)))
    assert text_minhash("Số: 12") is None  # too little text to compare


def test_a_page_with_both_kinds_matches_only_when_both_are_alike() -> None:
    text = list(range(64))
    page = PageFingerprint(page_no=1, image="00" * 32, text=text)
    same_look_other_words = PageFingerprint(page_no=1, image="00" * 32, text=[-1] * 64)
    other_look_same_words = PageFingerprint(page_no=1, image="ff" * 32, text=text)
    assert page_match(page, page) is not None
    assert page_match(page, same_look_other_words) is None
    assert page_match(page, other_look_same_words) is None
    born_digital = PageFingerprint(page_no=2, text=text)  # text only: judged by the text
    found = page_match(born_digital, page)
    assert found is not None and found.text == 1.0 and found.image is None
