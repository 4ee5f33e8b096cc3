"""Width-, case- and space-insensitive matching with offsets that point back into the original text."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """The comparison form of a banned word: NFKC, case-folded, without any whitespace."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if not ch.isspace())


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` character by character and return, for every folded character, its original index.

    Folding per character keeps the mapping exact; the few NFKC compositions across characters that this
    misses (a base letter plus a separate combining mark) do not occur in typed Japanese prompts.
    """
    folded: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        if ch.isspace():
            continue
        for out in unicodedata.normalize("NFKC", ch).casefold():
            if out.isspace():
                continue
            folded.append(out)
            origin.append(index)
    return "".join(folded), origin


def find_folded(text: str, needles: list[str]) -> list[tuple[int, int, str]]:
    """Every occurrence of each folded needle in ``text``, as (start, end, needle) in original offsets."""
    haystack, origin = fold_with_offsets(text)
    hits: list[tuple[int, int, str]] = []
    for needle in needles:
        if not needle:
            continue
        start = haystack.find(needle)
        while start != -1:
            end = start + len(needle) - 1
            hits.append((origin[start], origin[end] + 1, needle))
            start = haystack.find(needle, start + 1)
    return hits
