"""Passages end at sentence ends, stay within the size limit, overlap by whole sentences and keep positions."""

from __future__ import annotations

import itertools
import re

import pytest

from rag.chunking import chunk, split_sentences
from rag.parsing import ParsedDocument, Section, parse
from tests.rag import documents


def doc(*sections: Section, title: str = "文書") -> ParsedDocument:
    return ParsedDocument(title=title, sections=list(sections), format="txt")


SENTENCES = [
    f"第{i}項の規定により、担当課は申請内容を確認し、必要な書類をそろえて提出するものとする。" for i in range(1, 41)
]


def test_passages_end_at_sentence_ends_and_never_exceed_the_maximum():
    passages = chunk(doc(Section("".join(SENTENCES))), target_chars=200, max_chars=300, overlap_chars=0)
    assert len(passages) > 5
    for passage in passages:
        assert len(passage.text) <= 300
        assert passage.text.endswith("。")
        assert passage.text.startswith("第")
    assert "".join(passage.text for passage in passages) == "".join(SENTENCES)


def test_passages_are_packed_close_to_the_target():
    passages = chunk(doc(Section("".join(SENTENCES))), target_chars=200, max_chars=300, overlap_chars=0)
    sizes = [len(passage.text) for passage in passages[:-1]]
    assert all(150 <= size <= 200 for size in sizes), sizes


def test_neighbouring_passages_overlap_by_whole_sentences_within_the_overlap_budget():
    passages = chunk(doc(Section("".join(SENTENCES))), target_chars=200, max_chars=300, overlap_chars=60)
    for previous, following in itertools.pairwise(passages):
        first_sentence = split_sentences(following.text)[0]
        assert previous.text.endswith(first_sentence)
        assert len(first_sentence) <= 60
    no_overlap = chunk(doc(Section("".join(SENTENCES))), target_chars=200, max_chars=300, overlap_chars=0)
    assert len(passages) > len(no_overlap)


def test_a_quotation_is_kept_whole_when_it_fits():
    quoted = "課長は「申請は本日までです。遅れた場合は受け付けません。必ず確認してください。」と述べた。"
    text = quoted + "次の議題に移った。"
    assert split_sentences(text) == [quoted, "次の議題に移った。"]


def test_sentences_end_at_japanese_and_western_marks_and_at_line_ends():
    assert split_sentences("本当ですか？はい！そうです。Really? Yes! Done.\n次の行\n\n最後") == [
        "本当ですか？", "はい！", "そうです。", "Really? ", "Yes! ", "Done.\n", "次の行\n\n", "最後",
    ]


def test_an_unbalanced_bracket_does_not_swallow_the_rest_of_the_text():
    sentences = split_sentences("注（1参照。次の文。\nその次の文。")
    assert sentences[-1] == "その次の文。"


def test_a_long_run_without_punctuation_is_cut_at_word_boundaries_never_inside_words_or_numbers():
    words = "地方公共団体情報システム標準化 Interoperability 1234567.89 https://www.city.example.lg.jp/kurashi/ "
    text = words * 40  # no sentence end at all
    passages = chunk(doc(Section(text)), target_chars=150, max_chars=200, overlap_chars=0)
    assert len(passages) > 5
    tokens = set(words.split())
    for passage in passages:
        assert len(passage.text) <= 200
        for piece in passage.text.split():
            assert re.fullmatch(r"[\x21-\x7e]+", piece) is None or piece in tokens, piece
    assert "".join(passage.text for passage in passages).replace(" ", "") == text.replace(" ", "")


def test_a_long_japanese_run_is_cut_between_words_by_sudachi():
    text = "申請書類の確認" * 200  # 1,400 characters with no punctuation and no spaces
    passages = chunk(doc(Section(text)), target_chars=300, max_chars=400, overlap_chars=0)
    for passage in passages:
        assert len(passage.text) <= 400
        assert passage.text.startswith(("申請", "書類", "の", "確認")), passage.text[:5]
    assert "".join(passage.text for passage in passages) == text


def test_passages_never_cross_headings_pages_slides_or_sheets():
    sections = [
        Section("第一章の本文です。", heading_path=["第一章"]),
        Section("第二章の本文です。", heading_path=["第二章"]),
        Section("一ページ目です。", page=1),
        Section("二ページ目です。", page=2),
        Section("スライド1です。", slide=1),
        Section("スライド2です。", slide=2),
    ]
    passages = chunk(doc(*sections))
    assert [passage.text for passage in passages] == [section.text for section in sections]
    assert [passage.position for passage in passages] == [section.position for section in sections]
    assert [passage.index for passage in passages] == list(range(6))


def test_rows_of_a_sheet_are_packed_together_with_the_union_of_their_cells():
    rows = [Section(f"職員{i} | 市民課 | 内線{100 + i}", sheet="名簿", cells=f"B{i}:D{i}") for i in range(2, 12)]
    rows.append(Section("別表 | 税務課", sheet="別表", cells="A1:B1"))
    passages = chunk(doc(*rows), target_chars=100, max_chars=150, overlap_chars=0)
    assert [(p.sheet, p.cells) for p in passages] == [("名簿", "B2:D6"), ("名簿", "B7:D11"), ("別表", "A1:B1")]
    assert passages[0].text.split("\n")[0] == "職員2 | 市民課 | 内線102"


def test_a_short_remainder_joins_the_previous_passage_instead_of_standing_alone():
    text = "".join(SENTENCES[:4]) + "以上。"
    passages = chunk(doc(Section(text)), target_chars=130, max_chars=300, overlap_chars=0)
    assert passages[-1].text.endswith("以上。")
    assert len(passages[-1].text) > 10


def test_passage_text_has_no_prefix_and_context_carries_title_and_headings():
    passages = chunk(doc(Section("避難所は小学校です。", heading_path=["防災", "避難"]), title="防災の手引き"))
    passage = passages[0]
    assert passage.text == "避難所は小学校です。"
    assert passage.context == "防災の手引き > 防災 > 避難"
    assert passage.search_text == "防災の手引き > 防災 > 避難\n避難所は小学校です。"
    same_title = chunk(doc(Section("本文。", heading_path=["防災"]), title="防災"))[0]
    assert same_title.context == "防災"


def test_speaker_notes_become_their_own_passages_on_their_slide():
    passages = chunk(parse("案内.pptx", documents.pptx_bytes()))
    notes = [passage for passage in passages if "ノート" in passage.heading_path]
    assert [(passage.slide, passage.text) for passage in notes] == [(1, "説明の際は混雑時間帯にも触れること。")]


@pytest.mark.parametrize(("target", "maximum", "overlap"), [(0, 10, 0), (20, 10, 0), (100, 200, 100)])
def test_impossible_sizes_are_rejected(target, maximum, overlap):
    with pytest.raises(ValueError):
        chunk(doc(Section("本文。")), target_chars=target, max_chars=maximum, overlap_chars=overlap)
