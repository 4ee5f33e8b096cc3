"""Without a configured model, staff still get a useful, deterministic, streamed answer."""

from __future__ import annotations

from llm import Passage, get_model, get_provider
from llm.config import OFFLINE_SPEC
from llm.offline import OFFLINE_PREFIX, OfflineProvider
from tests.llm.conftest import QUESTION
from tests.support.llm_streams import collect

PASSAGES = [
    Passage(1, "窓口案内", "市民課の窓口は平日の午前8時30分から午後5時15分まで開いています。土曜日は休みです。"),
    Passage(
        2,
        "手数料条例",
        "戸籍謄本の交付手数料は1通450円とする。住民票の写しの交付手数料は1通300円とする。印鑑登録証明書も同額とする。",
    ),
]


def ask(messages=QUESTION, passages=()):
    return collect(OfflineProvider(), model=OFFLINE_SPEC, messages=messages, passages=passages)


def test_the_same_question_always_gets_the_same_answer():
    assert ask().text == ask().text
    assert ask(passages=PASSAGES).text == ask(passages=PASSAGES).text


def test_without_passages_it_says_offline_mode_and_how_an_administrator_configures_a_model():
    text = ask().text

    assert "オフラインモード" in text
    assert "生成AIモデルが設定されていない" in text
    for variable in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_DEPLOYMENT",
                     "OPENAI_COMPAT_BASE_URL", "OPENAI_COMPAT_MODEL"):
        assert f"`{variable}`" in text
    assert "システム管理者" in text
    assert f"受け付けた質問：{len(QUESTION[0]['content'])}文字" in text


def test_the_answer_is_a_short_markdown_list():
    lines = ask().text.splitlines()

    assert sum(line.startswith("- ") for line in lines) >= 3
    assert len(lines) < 15


def test_with_passages_it_quotes_the_most_relevant_sentences_with_citations():
    text = ask(passages=PASSAGES).text

    assert text.startswith(OFFLINE_PREFIX)
    quotes = [line for line in text.splitlines() if line.startswith("- ")]
    assert quotes[0] == "- 「住民票の写しの交付手数料は1通300円とする。」[2]"
    assert all(line.endswith(("[1]", "[2]")) for line in quotes)


def test_passages_that_share_nothing_with_the_question_are_shown_from_their_beginning():
    text = ask(messages=[{"role": "user", "content": "xyz"}], passages=PASSAGES).text

    assert "- 「市民課の窓口は平日の午前8時30分から午後5時15分まで開いています。」[1]" in text
    assert "- 「戸籍謄本の交付手数料は1通450円とする。」[2]" in text


def test_it_streams_in_small_chunks_and_ends_with_usage():
    result = ask()

    assert len(result.deltas) > 20
    assert max(len(delta) for delta in result.deltas) <= 4
    assert result.done.finish_reason == "stop"
    assert result.done.completion_tokens > 0
    assert result.done.prompt_tokens > 0


def test_the_catalogue_serves_the_offline_model_with_the_offline_provider():
    model = get_model("offline")
    provider = get_provider(model)

    assert provider.offline is True
    result = collect(provider, model=model, messages=QUESTION)
    assert "オフラインモード" in result.text
