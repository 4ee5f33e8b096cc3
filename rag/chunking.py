"""Parsed documents to passages, Japanese-aware, and SudachiPy tokens for the lexical index.

A passage never crosses a heading, page, slide or sheet: citations must open where the text is. Inside that,
text is cut into sentences (。！？!? and line ends, a 「…」 quotation kept whole when it fits), sentences are
packed up to ``target_chars``, and neighbouring passages share whole trailing sentences (``overlap_chars``).
A sentence longer than ``max_chars`` is cut at a comma, then at a word boundary from SudachiPy, never inside
a Latin word, a number or a URL. Passage text is the document's own text: no "passage: " prefix (the
embedding step adds it) and no headings (they are in ``context``/``search_text``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from rag.parsing.types import ParsedDocument, Section, position_dict

__all__ = ["Passage", "chunk", "lexical_tokens"]

_OPENERS = "「『（(【〔"
_CLOSERS = "」』）)】〕"
_ENDERS = "。！？!?"
_TRAILERS = _CLOSERS + "\"'”’"
_SOFT_BREAK = re.compile(r"[、，,;；：:]\s*|\s+")
_FULLWIDTH_ALNUM = re.compile(r"[０-９Ａ-Ｚａ-ｚ]")
_CELLS = re.compile(r"^([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?$")


@dataclass(slots=True)
class Passage:
    text: str
    heading_path: list[str] = field(default_factory=list)
    page: int | None = None
    slide: int | None = None
    sheet: str | None = None
    cells: str | None = None
    index: int = 0  # order in the document, from 0
    context: str = ""  # the document title and headings above the passage, "梅雨 > 梅雨前線"

    @property
    def position(self) -> dict:
        return position_dict(self)

    @property
    def search_text(self) -> str:
        """What to embed and index: the passage with its title and headings, which its text may not repeat."""
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(slots=True)
class _Unit:
    text: str
    joiner: str  # put before this unit when it follows another in a passage: "" inside a section, "\n" between
    cells: str | None


def chunk(
    parsed: ParsedDocument, *, target_chars: int = 500, max_chars: int = 800, overlap_chars: int = 80
) -> list[Passage]:
    if not 0 < target_chars <= max_chars or not 0 <= overlap_chars < target_chars:
        raise ValueError("need 0 < target_chars <= max_chars and 0 <= overlap_chars < target_chars")
    passages: list[Passage] = []
    for group in _groups(parsed.sections):
        first = group[0]
        units = list(_units(group, max_chars))
        for texts_units in _pack(units, target_chars, max_chars, overlap_chars):
            text = "".join(unit.text if i == 0 else unit.joiner + unit.text for i, unit in enumerate(texts_units))
            text = text.strip()
            if not text:
                continue
            passages.append(
                Passage(
                    text=text,
                    heading_path=list(first.heading_path),
                    page=first.page,
                    slide=first.slide,
                    sheet=first.sheet,
                    cells=_union_cells([unit.cells for unit in texts_units]),
                    index=len(passages),
                    context=_context(parsed.title, first.heading_path),
                )
            )
    return passages


def _groups(sections: list[Section]) -> list[list[Section]]:
    groups: list[list[Section]] = []
    key = None
    for section in sections:
        section_key = (tuple(section.heading_path), section.page, section.slide, section.sheet)
        if groups and section_key == key:
            groups[-1].append(section)
        else:
            groups.append([section])
            key = section_key
    return groups


def _units(group: list[Section], max_chars: int):
    for section_number, section in enumerate(group):
        joiner = "\n" if section_number else ""
        for sentence in split_sentences(section.text.strip()):
            for piece in _split_long(sentence, max_chars):
                yield _Unit(piece, joiner, section.cells)
                joiner = ""


def _pack(units: list[_Unit], target: int, max_chars: int, overlap: int) -> list[list[_Unit]]:
    """Greedy packing of whole units; each new passage starts with the previous one's last sentences."""
    passages: list[list[_Unit]] = []
    current: list[_Unit] = []
    carried = 0  # units at the start of ``current`` repeated from the previous passage
    length = 0
    for unit in units:
        added = len(unit.text) + (len(unit.joiner) if current else 0)
        fits_target = length + added <= target
        small = length < target // 2 and length + added <= max_chars
        if current and not (fits_target or small):
            passages.append(current)
            current = _overlap_tail(current, overlap)
            while current and _length(current) + len(unit.joiner) + len(unit.text) > max_chars:
                current = current[1:]
            carried = len(current)
            length = _length(current)
            added = len(unit.text) + (len(unit.joiner) if current else 0)
        current.append(unit)
        length += added
    if current:
        new = current[carried:]
        # A short remainder (the last sentence or two of a section) joins the previous passage when it fits,
        # rather than standing alone as a passage too small to retrieve well.
        if passages and new and _length(new) < target // 4 and _length(passages[-1] + new) <= max_chars:
            passages[-1] = passages[-1] + new
        else:
            passages.append(current)
    return passages


def _overlap_tail(units: list[_Unit], overlap: int) -> list[_Unit]:
    tail: list[_Unit] = []
    size = 0
    for unit in reversed(units[1:]):  # never the whole passage again
        size += len(unit.text) + len(unit.joiner)
        if size > overlap:
            break
        tail.insert(0, unit)
    return tail


def _length(units: list[_Unit]) -> int:
    return sum(len(unit.text) + (len(unit.joiner) if i else 0) for i, unit in enumerate(units))


def split_sentences(text: str) -> list[str]:
    """Sentences with their trailing spaces, so that joining them gives ``text`` back exactly.

    A sentence ends after 。！？!? (and any closing brackets or quotes right after) outside 「」『』（）, after an
    English full stop followed by a space, and at every line end.
    """
    sentences: list[str] = []
    start = 0
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        end = None
        if char == "\n":
            depth = 0  # an unbalanced bracket must not swallow the rest of the document
            end = i + 1
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0 and (
            char in _ENDERS or (char == "." and i + 1 < n and text[i + 1] in " \t" and i > 0 and text[i - 1].isalpha())
        ):
            end = i + 1
            while end < n and text[end] in _TRAILERS:
                end += 1
        if end is not None:
            while end < n and text[end] in " \t\u3000\n" and (char != "\n"):
                end += 1
                if text[end - 1] == "\n":
                    break
            if text[start:end].strip():
                sentences.append(text[start:end])
            elif sentences:
                sentences[-1] += text[start:end]
            start = end
            i = end
            continue
        i += 1
    if start < n:
        if text[start:].strip() or not sentences:
            sentences.append(text[start:])
        else:
            sentences[-1] += text[start:]
    return sentences


def _split_long(sentence: str, max_chars: int) -> list[str]:
    pieces = []
    rest = sentence
    while len(rest) > max_chars:
        cut = _cut_point(rest, max_chars)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def _cut_point(text: str, limit: int) -> int:
    """Where to cut ``text`` to at most ``limit`` characters, preferring sentence ends, then commas, then words."""
    floor = limit // 3  # do not leave a tiny piece when a later break exists
    window = text[:limit]
    for cuts in (
        (i + 1 for i, char in enumerate(window) if char in _ENDERS),
        (match.end() for match in _SOFT_BREAK.finditer(window)),
        _word_boundaries(text, limit),
    ):
        best = None
        for cut in cuts:
            if floor <= cut <= limit and _safe_cut(text, cut):
                best = cut
        if best:
            return best
    for cut in range(limit, 0, -1):  # a single run with no word boundary at all, e.g. a very long number
        if _safe_cut(text, cut):
            return cut
    return limit


def _safe_cut(text: str, cut: int) -> bool:
    """False inside a Latin word, a number, a URL or an e-mail address (any run of non-space ASCII)."""
    if cut <= 0 or cut >= len(text):
        return True
    left, right = text[cut - 1], text[cut]
    if "!" <= left <= "~" and "!" <= right <= "~":
        return False
    return not (_FULLWIDTH_ALNUM.match(left) and _FULLWIDTH_ALNUM.match(right))


def _word_boundaries(text: str, limit: int):
    # A little past the limit, so that the word the limit falls in is analysed whole.
    for morpheme in _tokenizer("C").tokenize(text[: limit + 32]):
        yield morpheme.begin()


def _union_cells(ranges: list[str | None]) -> str | None:
    bounds = None
    for value in ranges:
        match = _CELLS.match(value or "")
        if not match:
            continue
        col1, row1 = _column_number(match.group(1)), int(match.group(2))
        col2 = _column_number(match.group(3)) if match.group(3) else col1
        row2 = int(match.group(4)) if match.group(4) else row1
        if bounds is None:
            bounds = [col1, row1, col2, row2]
        else:
            bounds = [min(bounds[0], col1), min(bounds[1], row1), max(bounds[2], col2), max(bounds[3], row2)]
    if bounds is None:
        return None
    return f"{_column_letters(bounds[0])}{bounds[1]}:{_column_letters(bounds[2])}{bounds[3]}"


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _context(title: str, heading_path: list[str]) -> str:
    parts = list(heading_path)
    if title and (not parts or parts[0] != title):
        parts.insert(0, title)
    return " > ".join(parts)


# --------------------------------------------------------------------------- lexical tokens (SudachiPy)

_DROPPED_POS = {"助詞", "助動詞", "補助記号", "空白"}
_SUDACHI_CHARS = 4_000  # Sudachi refuses inputs over about 49 KB of UTF-8; 4,000 characters is at most 16 KB
_dictionary = None
_dictionary_lock = threading.Lock()
_local = threading.local()


def _tokenizer(mode: str):
    """A tokenizer for this thread over the one dictionary of the process (Sudachi tokenizers are not shareable)."""
    global _dictionary
    tokenizers = getattr(_local, "tokenizers", None)
    if tokenizers is None:
        tokenizers = _local.tokenizers = {}
    tokenizer = tokenizers.get(mode)
    if tokenizer is None:
        from sudachipy import Dictionary, SplitMode

        with _dictionary_lock:
            if _dictionary is None:
                _dictionary = Dictionary(dict="core")
            fields = {"pos", "normalized_form"} if mode == "A" else set()
            tokenizer = _dictionary.tokenizer(mode=getattr(SplitMode, mode), fields=fields)
        tokenizers[mode] = tokenizer
    return tokenizer


def lexical_tokens(text: str) -> list[str]:
    """SudachiPy mode A normalized forms without particles, auxiliaries, symbols and spaces, Latin lower-cased.

    Normalized forms make 申し込み/申込み/申込 and ＤＸ/DX the same token; mode A keeps compounds in their parts,
    so 行政手続 matches 手続 too. Use the same function on queries.
    """
    tokenizer = _tokenizer("A")
    tokens: list[str] = []
    for piece in _pieces(text):
        for morpheme in tokenizer.tokenize(piece):
            if morpheme.part_of_speech()[0] in _DROPPED_POS:
                continue
            form = morpheme.normalized_form().strip()
            if form:
                tokens.append(form.lower() if form.isascii() else form)
    return tokens


def _pieces(text: str):
    start = 0
    while len(text) - start > _SUDACHI_CHARS:
        window = text[start : start + _SUDACHI_CHARS]
        cut = max(window.rfind("\n"), *(window.rfind(ender) for ender in _ENDERS), window.rfind(" "))
        cut = start + cut + 1 if cut > _SUDACHI_CHARS // 2 else start + _SUDACHI_CHARS
        yield text[start:cut]
        start = cut
    if start < len(text):
        yield text[start:]
