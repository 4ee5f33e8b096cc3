"""Hybrid search finds what either arm alone misses: exact figures (lexical) and paraphrases (vector)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from accounts.models import User
from llm.embeddings import embed_query
from rag import retrieval
from rag.chunking import Passage
from rag.indexing import index_document
from rag.models import Chunk, Collection, Document

pytestmark = pytest.mark.django_db

NAMES = ["ひまわり", "さくら", "つばき", "あおば", "もみじ", "すみれ", "たんぽぽ", "わかば", "こすもす", "なのはな",
         "ゆり", "かえで"]
TOWNS = ["本町", "栄町", "緑町", "旭町", "若葉町", "中央町", "東町", "西町", "南町", "北町", "新町", "元町"]
# Twelve passages alike but for a name, a town and a figure: what embeddings blur and words pin down.
PASSAGES = {
    f"nursery-{i}": f"{name}園は市立の保育所です。所在地は{town}で、定員は{40 + 5 * i}名です。"
    for i, (name, town) in enumerate(zip(NAMES, TOWNS, strict=True))
} | {
    "moving-in": "他の市区町村から引っ越してきた場合は、転入した日から14日以内に市民課で転入届を提出してください。",
    "dogs": "生後91日以上の犬を飼い始めたら、30日以内に登録し、毎年狂犬病予防注射を受けさせてください。",
    "bulky-waste": "粗大ごみは事前に受付センターへ電話で申し込み、処理券を購入して貼ってから出してください。",
    "resident-tax": "個人住民税は、前年の所得に基づいて計算され、6月から翌年5月までの期間で納めます。",
    "library": "市立図書館の開館時間は午前9時から午後7時までです。毎週月曜日は休館日です。",
}
QUESTIONS = {
    # A figure: the words find it; the embedding of "定員がN名" hardly depends on N.
    "定員が40名の保育所はどこ？": "nursery-0",
    "定員が50名の保育所はどこ？": "nursery-2",
    "定員が60名の保育所はどこ？": "nursery-4",
    "定員が75名の保育所はどこ？": "nursery-7",
    "定員が90名の保育所はどこ？": "nursery-10",
    # A paraphrase: no word in common with the passage, the embedding finds it.
    "よそのまちから移り住んだら、いつまでに役所へ知らせる？": "moving-in",
    "ペットのワンちゃんを迎えたらやることは？": "dogs",
    "ソファやタンスを捨てたい": "bulky-waste",
}


@pytest.fixture
def corpus(tenant_a):
    connection.set_tenant(tenant_a)
    owner = User.objects.get(staff_number="A002")
    collection = Collection.objects.create(name="暮らしの案内", owner=owner, access=Collection.Access.PRIVATE)
    for key, text in PASSAGES.items():
        document = Document.objects.create(collection=collection, title=key, original_name=f"{key}.txt",
                                           content_hash=key, state=Document.State.READY)
        index_document(document, [Passage(text=text)])
    key_of = {chunk.pk: chunk.document.original_name.removesuffix(".txt")
              for chunk in Chunk.objects.filter(collection=collection).select_related("document")}
    return {"owner": owner, "collection": collection, "key_of": key_of}


def firsts(corpus) -> dict[str, dict[str, str | None]]:
    """The top passage of each arm alone and of the hybrid search, per question."""
    allowed = [corpus["collection"].pk]
    key_of = corpus["key_of"]
    result = {}
    for question in QUESTIONS:
        vector = embed_query(question)
        with transaction.atomic(), connection.cursor() as cursor:
            by_vector = retrieval._vector_arm(cursor, vector, allowed, 10, 40)
            by_words = retrieval._bm25_arm(cursor, retrieval.query_terms(question), allowed, 10,
                                           retrieval.DEFAULT_PARAMS)
        hybrid = retrieval.search(corpus["owner"], question, k=3, query_vector=vector)
        result[question] = {
            "vector": key_of[by_vector[0][0]] if by_vector else None,
            "lexical": key_of[by_words[0][0]] if by_words else None,
            "hybrid": hybrid[0].source.removesuffix(".txt") if hybrid else None,
        }
    return result


def test_hybrid_search_ranks_first_what_either_arm_alone_misses(corpus):
    top = firsts(corpus)
    right = {arm: sum(top[q][arm] == gold for q, gold in QUESTIONS.items()) for arm in ("vector", "lexical", "hybrid")}

    assert right["hybrid"] == len(QUESTIONS), top
    assert right["vector"] < len(QUESTIONS), top  # figures confuse the embedding
    assert right["lexical"] < len(QUESTIONS), top  # paraphrases share no word
    paraphrases = list(QUESTIONS)[5:]
    assert all(top[q]["lexical"] is None for q in paraphrases)


def test_hits_carry_scores_ranks_and_where_the_passage_is(corpus):
    hits = retrieval.search(corpus["owner"], "定員が40名の保育所はどこ？", k=3)

    assert [hit.rank for hit in hits] == [1, 2, 3]
    best = hits[0]
    assert best.source == "nursery-0.txt" and best.document_title == "nursery-0"
    assert best.collection_id == corpus["collection"].pk and "ひまわり園" in best.text
    assert best.lexical_score > 0 and 0 < best.vector_score <= 1
    assert 0 < best.fused_score <= 1 and best.fused_score >= hits[1].fused_score
    assert best.position == {}  # a .txt passage has no page, slide or sheet


def test_ts_rank_cd_and_rank_fusion_remain_available(corpus):
    question = "定員が40名の保育所はどこ？"
    for params in (retrieval.with_params(lexical="ts_rank_cd"), retrieval.with_params(fusion="rrf", rrf_k=60)):
        hits = retrieval.search(corpus["owner"], question, k=3, params=params)
        assert hits and hits[0].source == "nursery-0.txt", params


def test_an_empty_question_or_no_readable_collection_gives_nothing(corpus):
    assert retrieval.search(corpus["owner"], "   ") == []
    outsider = User.objects.get(staff_number="A003")
    assert retrieval.search(outsider, "定員が40名の保育所はどこ？") == []
