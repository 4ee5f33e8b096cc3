"""Normalised text with a map back to the original offsets, and the small helpers every detector shares.

Detectors work on an NFKC copy of the prompt (full-width digits and letters become ASCII, half-width katakana
becomes full-width, every kind of dash becomes ``-``, the ideographic space becomes a plain space) and report
offsets into that copy; :meth:`Normalized.span` turns them back into offsets of the text the user typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Dashes and minus signs that people type between digit groups. NFKC already turns ``－`` into ``-``; the
# katakana long-vowel mark ``ー`` (and half-width ``ｰ``) is a dash only between digits, see ``normalize``.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d"), "-")
_SOUND_MARKS = "\u3099\u309a\uff9e\uff9f"


@dataclass(frozen=True)
class Hit:
    """A finding in normalised offsets, before it is mapped back to the original text."""

    type: str
    start: int
    end: int
    reason: str


class Normalized:
    """``text`` is the normalised copy; ``starts[i]``/``ends[i]`` give the original span of character ``i``."""

    __slots__ = ("ends", "original", "starts", "text")

    def __init__(self, original: str):
        self.original = original
        chars: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        i, n = 0, len(original)
        while i < n:
            j = i + 1
            # A base character and the combining marks after it normalise together (ｶﾞ → ガ).
            while j < n and (unicodedata.combining(original[j]) or original[j] in _SOUND_MARKS):
                j += 1
            cluster = original[i:j]
            out = cluster if cluster.isascii() else unicodedata.normalize("NFKC", cluster).translate(_DASHES)
            for ch in out:
                chars.append(" " if ch.isspace() else ch)
                starts.append(i)
                ends.append(j)
            i = j
        # The long-vowel mark between two digits is a hyphen typed with the kana keyboard (1ー2ー3).
        for k in range(1, len(chars) - 1):
            if chars[k] == "ー" and chars[k - 1].isdigit() and chars[k + 1].isdigit():
                chars[k] = "-"
        self.text = "".join(chars)
        self.starts = starts
        self.ends = ends

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of the normalised range ``[start, end)``."""
        return self.starts[start], self.ends[end - 1]


# --------------------------------------------------------------------------- context windows

_SENTENCE_END = re.compile(r"[。\n！？!?]")


def before(text: str, start: int, width: int = 20) -> str:
    """Up to ``width`` characters before ``start``, cut at the previous sentence end."""
    window = text[max(0, start - width):start]
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    return window[ends[-1]:] if ends else window


def after(text: str, end: int, width: int = 12) -> str:
    """Up to ``width`` characters after ``end``, cut at the next sentence end."""
    window = text[end:end + width]
    cut = _SENTENCE_END.search(window)
    return window[:cut.start()] if cut else window


def nearest_label(window: str, labels: dict[str, re.Pattern[str]]) -> str | None:
    """The key of the label that occurs last (closest to the number) in ``window``, if any."""
    best, best_end = None, -1
    for key, pattern in labels.items():
        for match in pattern.finditer(window):
            if match.end() > best_end:
                best, best_end = key, match.end()
    return best


def is_fake_digits(digits: str) -> bool:
    """Placeholder numbers from forms and manuals: one digit repeated after the leading one (000-0000-0000)."""
    return len(set(digits[1:] or digits)) <= 1


EXAMPLE_WORDS = re.compile(
    r"(?:書式|記入|記載|入力|表記)?例|サンプル|ダミー|架空|見本|形式|フォーマット|xxx", re.IGNORECASE
)
