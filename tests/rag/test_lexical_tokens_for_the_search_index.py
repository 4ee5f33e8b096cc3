"""Lexical tokens are SudachiPy mode A normalized forms without particles, auxiliaries, symbols or spaces."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from rag.chunking import lexical_tokens


def test_particles_auxiliaries_punctuation_and_spaces_are_dropped():
    tokens = lexical_tokens("市役所の窓口で、住民票を申請しました。　")
    assert tokens == ["市", "役所", "窓口", "住民", "票", "申請", "為る"]
    for dropped in ("の", "で", "を", "まし", "た", "、", "。"):
        assert dropped not in tokens


def test_spelling_variants_and_full_width_letters_normalise_to_the_same_tokens():
    assert lexical_tokens("申し込み") == lexical_tokens("申込み") == lexical_tokens("申込")
    assert lexical_tokens("ＤＸ推進") == lexical_tokens("DX推進") == ["dx", "推進"]


def test_compounds_are_split_into_their_parts_so_a_part_matches():
    assert lexical_tokens("行政手続") == ["行政", "手続き"]
    assert lexical_tokens("手続") == lexical_tokens("手続き") == ["手続き"]


def test_long_texts_are_tokenised_in_pieces_without_losing_words():
    text = "個人情報保護条例に基づき開示請求を受け付けます。" * 2000  # 48,000 characters: past Sudachi's input limit
    tokens = lexical_tokens(text)
    assert tokens.count("開示") == 2000


def test_tokenising_from_many_threads_at_once_gives_the_same_tokens():
    texts = [f"第{i}回 庁議の議事録を公開します。" for i in range(200)]
    expected = [lexical_tokens(text) for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(lexical_tokens, texts)) == expected
