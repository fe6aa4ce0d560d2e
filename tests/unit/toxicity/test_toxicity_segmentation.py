"""Segmentation: every segment fits Comprehend's 1 KB limit, nothing is lost, order is kept.

The property tests draw many random texts (seeded, so a failure reproduces) from an alphabet
mixing ASCII, accented Latin, CJK, emoji (4-byte and ZWJ sequences), combining marks, exotic
whitespace and sentence punctuation, including "words" far longer than a segment.
"""

from __future__ import annotations

import random
import unicodedata

import pytest

from reviewflow.domain.segmentation import (
    MAX_SEGMENT_BYTES,
    MAX_SEGMENTS_PER_CALL,
    batch_segments,
    split_segments,
    split_sentences,
)

WORD_CHARS = [
    *"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    *"éüñçøß",  # 2 bytes
    *"漢字仮名한국어€",  # 3 bytes
    "😀",
    "🚀",
    "👍🏽",  # 4-byte emoji, one with a skin-tone modifier
    "👩\u200d💻",  # ZWJ sequence
    "e\u0301",
    "a\u0308\u0323",  # base + combining marks
    "\u0301",  # a stray combining mark
]
PUNCTUATION = [".", "!", "?", "…", "。", "\uff01", "?\u201d", ").", ",", ";", "-"]
SPACES = [" ", " ", " ", "  ", "\n", "\n\n", "\t", "\u00a0", "\u3000", "\u2003"]


def _non_space(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


def _random_text(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(0, 400)):
        roll = rng.random()
        if roll < 0.03:
            # an unbreakable run longer than a segment (URL, emoji wall, CJK without spaces)
            parts.append("".join(rng.choice(WORD_CHARS) for _ in range(rng.randint(300, 1500))))
        else:
            parts.append("".join(rng.choice(WORD_CHARS) for _ in range(rng.randint(1, 12))))
        if rng.random() < 0.2:
            parts.append(rng.choice(PUNCTUATION))
        parts.append(rng.choice(SPACES))
    return "".join(parts)


@pytest.mark.parametrize("seed", range(300))
def test_any_text_splits_into_fitting_segments_that_keep_all_content_in_order(seed: int) -> None:
    text = _random_text(random.Random(seed))

    segments = split_segments(text)
    batches = batch_segments(segments)

    assert all(len(segment.encode("utf-8")) <= MAX_SEGMENT_BYTES for segment in segments)
    assert all(segment.strip() == segment and segment for segment in segments)
    assert _non_space("".join(segments)) == _non_space(text)
    assert all(1 <= len(batch) <= MAX_SEGMENTS_PER_CALL for batch in batches)
    assert [segment for batch in batches for segment in batch] == segments
    # Every segment is a verbatim slice of the text, and the slices come in order.
    position = 0
    for segment in segments:
        found = text.find(segment, position)
        assert found >= position
        assert text[position:found].isspace() or found == position
        position = found + len(segment)


@pytest.mark.parametrize("seed", range(50))
def test_hard_splits_never_separate_a_combining_mark_from_its_base(seed: int) -> None:
    rng = random.Random(seed)
    # One 3-5 KB "word" of accented clusters: every cut must fall before a base character.
    clusters = ["e\u0301", "a\u0308\u0323", "漢", "o", "👍🏽"]
    text = "".join(rng.choice(clusters) for _ in range(rng.randint(1000, 1800)))

    segments = split_segments(text)

    assert len(segments) >= 2
    assert "".join(segments) == text
    for segment in segments:
        assert len(segment.encode("utf-8")) <= MAX_SEGMENT_BYTES
        assert not unicodedata.combining(segment[0])


def test_whitespace_only_text_has_no_segments() -> None:
    assert split_segments(" \n\t\u3000\u00a0 ") == []
    assert split_segments("") == []
    assert batch_segments([]) == []


def test_short_text_is_one_segment_without_its_outer_whitespace() -> None:
    assert split_segments("  Great kettle.  Boils fast!\n") == ["Great kettle.  Boils fast!"]


def test_sentences_are_packed_greedily_and_never_cut_when_they_fit() -> None:
    sentence = "A" * 499 + "."  # 500 bytes
    text = " ".join([sentence] * 5)

    segments = split_segments(text)

    # Two sentences plus a space (1,001 bytes) fit; a third would not.
    assert segments == [f"{sentence} {sentence}", f"{sentence} {sentence}", sentence]


def test_an_overlong_sentence_is_split_between_words() -> None:
    words = [f"word{i:04d}" for i in range(300)]  # 8 bytes each, 2,699 bytes with spaces
    text = "Intro sentence. " + " ".join(words) + ". Outro!"

    segments = split_segments(text)

    assert all(len(segment.encode()) <= MAX_SEGMENT_BYTES for segment in segments)
    # No word is ever cut: each one appears whole in exactly one segment.
    for word in words:
        assert (
            sum(segment.split().count(word) for segment in segments)
            + sum(segment.split().count(word + ".") for segment in segments)
            == 1
        )
    assert segments[0].startswith("Intro sentence. word0000")
    assert segments[-1].endswith("word0299. Outro!")


def test_three_byte_characters_at_the_boundary() -> None:
    han = "漢"  # 3 bytes in UTF-8
    assert split_segments(han * 341) == [han * 341]  # 1,023 bytes: fits
    assert split_segments("a" + han * 341) == ["a" + han * 341]  # exactly 1,024 bytes: fits
    # 1,025 bytes: the 1,024th byte falls inside a character, so the cut is one character earlier.
    assert split_segments("ab" + han * 341) == ["ab" + han * 340, han]
    assert [len(s.encode()) for s in split_segments("ab" + han * 341)] == [1_022, 3]


def test_four_byte_emoji_are_never_cut() -> None:
    text = "😀" * 600  # 2,400 bytes, no spaces

    segments = split_segments(text)

    assert segments == ["😀" * 256, "😀" * 256, "😀" * 88]


def test_sentence_boundaries_include_cjk_terminators_and_line_breaks() -> None:
    text = "Great kettle! Boils fast.\nLid squeaks?  真好。很快\uff01 \u201cWow.\u201d Done"

    assert split_sentences(text) == [
        "Great kettle!",
        "Boils fast.",
        "Lid squeaks?",
        "真好。",
        "很快\uff01",
        "\u201cWow.\u201d",
        "Done",
    ]


def test_batches_hold_at_most_ten_segments_in_order() -> None:
    segments = [f"s{i}" for i in range(23)]

    assert batch_segments(segments) == [segments[0:10], segments[10:20], segments[20:23]]


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        split_segments("text", max_bytes=3)
    with pytest.raises(ValueError):
        batch_segments(["a"], batch_size=0)
