"""The billing unit and the rough token estimate."""

from __future__ import annotations

from llm import count_chars, estimate_tokens


def test_characters_are_counted_after_nfc_normalisation():
    decomposed = "か\u3099"  # か + combining voiced sound mark, as pasted from some PDFs: renders as が

    assert count_chars(decomposed) == count_chars("が") == 1
    assert count_chars("住民票 300円\n") == 9
    assert count_chars("") == 0


def test_tokens_are_about_one_per_japanese_character_and_one_per_four_ascii_characters():
    assert estimate_tokens("住民票の写し") == 6
    assert estimate_tokens("abcdefgh") == 2
    assert estimate_tokens("abc") == 1
    assert estimate_tokens("手数料は300円") == 5 + 1  # 5 Japanese characters, 3 digits
    assert estimate_tokens("") == 0
