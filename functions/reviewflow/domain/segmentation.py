"""Cutting text into the pieces a toxicity model accepts.

Comprehend's ``DetectToxicContent`` takes at most 10 segments of at most 1 KB (UTF-8 bytes) per
call, and it reads the segments of one call in order as context. A segment that ends mid-sentence
loses that context, so text is cut on sentence boundaries first, then between words, and only a
single "word" longer than a segment (a URL, a run of emoji, CJK text without spaces) is cut inside,
always between code points and, where possible, before a combining mark's base character.

Segments are slices of the original text with surrounding whitespace removed: joining them gives
back every non-whitespace character, in order. Whitespace-only pieces are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from itertools import accumulate

MAX_SEGMENT_BYTES = 1_024
MAX_SEGMENTS_PER_CALL = 10

# A sentence ends after terminal punctuation (optionally followed by closing quotes or brackets)
# and whitespace, after CJK full-width terminators even without whitespace, or at a line break.
_SENTENCE_END = re.compile(r"""[.!?\u2026]+['"\u2019\u201d)\]]*\s+|[\u3002\uff01\uff1f]+\s*|\n\s*""")
_WORD = re.compile(r"\S+")

_Span = tuple[int, int]


class _ByteIndex:
    """UTF-8 byte length of any slice of ``text`` in O(1), from prefix sums of character sizes."""

    def __init__(self, text: str) -> None:
        self._prefix = [0, *accumulate(_utf8_len(ch) for ch in text)]

    def size(self, start: int, end: int) -> int:
        return self._prefix[end] - self._prefix[start]


def _utf8_len(ch: str) -> int:
    code = ord(ch)
    if code < 0x80:
        return 1
    if code < 0x800:
        return 2
    if code < 0x10000:
        return 3
    return 4


def _strip(text: str, start: int, end: int) -> _Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _sentences(text: str) -> Iterator[_Span]:
    start = 0
    for match in _SENTENCE_END.finditer(text):
        span = _strip(text, start, match.end())
        if span:
            yield span
        start = match.end()
    span = _strip(text, start, len(text))
    if span:
        yield span


def split_sentences(text: str) -> list[str]:
    """The text's sentences (or lines), stripped, in order; whitespace-only ones dropped."""
    return [text[start:end] for start, end in _sentences(text)]


def _hard_split(text: str, start: int, end: int, index: _ByteIndex, limit: int) -> Iterator[_Span]:
    """Cut one unbreakable run at code-point boundaries, keeping combining marks with their base."""
    piece_start = start
    position = start
    while position < end:
        if index.size(piece_start, position + 1) > limit:
            cut = position
            # Back off so a base character and its combining marks stay together, unless the
            # cluster alone fills the piece.
            while cut > piece_start + 1 and unicodedata.combining(text[cut]):
                cut -= 1
            if cut == piece_start + 1 and unicodedata.combining(text[cut]):
                cut = position
            yield (piece_start, cut)
            piece_start = cut
            continue
        position += 1
    if piece_start < end:
        yield (piece_start, end)


def _units(text: str, index: _ByteIndex, limit: int) -> Iterator[_Span]:
    """Spans no longer than ``limit`` bytes: whole sentences, else words, else hard pieces."""
    for start, end in _sentences(text):
        if index.size(start, end) <= limit:
            yield (start, end)
            continue
        for word in _WORD.finditer(text, start, end):
            if index.size(word.start(), word.end()) <= limit:
                yield word.span()
            else:
                yield from _hard_split(text, word.start(), word.end(), index, limit)


def split_segments(text: str, max_bytes: int = MAX_SEGMENT_BYTES) -> list[str]:
    """Greedily pack sentences (or their words) into segments of at most ``max_bytes`` bytes."""
    if max_bytes < 4:
        raise ValueError("max_bytes must leave room for one 4-byte character")
    index = _ByteIndex(text)
    segments: list[str] = []
    current: _Span | None = None
    for unit_start, unit_end in _units(text, index, max_bytes):
        if current is not None and index.size(current[0], unit_end) <= max_bytes:
            current = (current[0], unit_end)
            continue
        if current is not None:
            segments.append(text[current[0] : current[1]])
        current = (unit_start, unit_end)
    if current is not None:
        segments.append(text[current[0] : current[1]])
    return segments


def batch_segments(segments: Sequence[str], batch_size: int = MAX_SEGMENTS_PER_CALL) -> list[list[str]]:
    """Consecutive groups of at most ``batch_size`` segments: one provider call each."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    return [list(segments[i : i + batch_size]) for i in range(0, len(segments), batch_size)]
