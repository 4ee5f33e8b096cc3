"""SudachiPy morphological analysis, loaded once and shared by the name and address detectors.

Loading the dictionary takes about a second, so it is a lazy module-level singleton guarded by a lock. A
Sudachi tokenizer must not be used by two threads at once, so each thread gets its own tokenizer over the one
shared dictionary. Sudachi refuses inputs over ~49 KB, so long texts are cut on line or sentence boundaries.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass

CHUNK_CHARS = 4_000  # 12 KB of UTF-8 at most: far below Sudachi's limit, and cheap to analyse

_lock = threading.Lock()
_dictionary = None
_local = threading.local()
_BREAK = re.compile(r"\n|[。！？!?]")
_SOFT_BREAK = re.compile(r"[、，,\s]")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")


@dataclass(frozen=True, slots=True)
class Tok:
    surface: str
    start: int  # offsets into the text given to ``tokenize``
    end: int
    pos: tuple[str, ...]  # Sudachi part of speech, e.g. ("名詞", "固有名詞", "人名", "姓", "*", "*")
    oov: bool

    @property
    def is_person(self) -> bool:
        return self.pos[2] == "人名"

    @property
    def is_place(self) -> bool:
        return self.pos[2] == "地名"

    @property
    def is_proper(self) -> bool:
        return self.pos[1] == "固有名詞"

    @property
    def is_common_noun(self) -> bool:
        return self.pos[0] == "名詞" and self.pos[1] == "普通名詞"

    @property
    def is_space(self) -> bool:
        return self.pos[0] == "空白" or self.surface.isspace()


def _tokenizer():
    global _dictionary
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        with _lock:
            if _dictionary is None:
                from sudachipy import Dictionary

                _dictionary = Dictionary(dict="core")
            from sudachipy import SplitMode

            tokenizer = _dictionary.tokenizer(mode=SplitMode.C)
        _local.tokenizer = tokenizer
    return tokenizer


def _dictionary_loaded():
    if _dictionary is None:
        _tokenizer()
    return _dictionary


@functools.lru_cache(maxsize=4096)
def is_surname(surface: str) -> bool:
    """Whether the dictionary has a surname entry for ``surface`` (桜井 is a surname and a city)."""
    dictionary = _dictionary_loaded()
    with _lock:
        return any(tuple(m.part_of_speech()[2:4]) == ("人名", "姓") for m in dictionary.lookup(surface))


def warm_up() -> None:
    """Load the dictionary now rather than on the first prompt."""
    tokenize("山田太郎さん")


def chunks(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """Cut ``text`` into ``[start, end)`` pieces of at most ``size`` characters, preferring sentence ends."""
    pieces, start, n = [], 0, len(text)
    while n - start > size:
        limit = start + size
        cut = None
        for pattern in (_BREAK, _SOFT_BREAK):
            for match in pattern.finditer(text, start + size // 2, limit):
                cut = match.end()
            if cut:
                break
        cut = cut or limit
        pieces.append((start, cut))
        start = cut
    if start < n:
        pieces.append((start, n))
    return pieces


def tokenize(text: str) -> list[Tok]:
    tokenizer = _tokenizer()
    out: list[Tok] = []
    for begin, end in chunks(text):
        for m in tokenizer.tokenize(text[begin:end]):
            out.append(Tok(m.surface(), begin + m.begin(), begin + m.end(), tuple(m.part_of_speech()), m.is_oov()))
    return out


def needs_analysis(text: str) -> bool:
    """Only text with kanji or kana can hold a Japanese name or address."""
    return _JAPANESE.search(text) is not None
