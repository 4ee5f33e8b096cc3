"""The offline provider: what staff get when no generative model is configured.

It keeps the whole service usable (and demonstrable) on a closed network with no model yet: with retrieved
passages it quotes the sentences that best match the question, with [n] citations; without, it explains
that no model is configured and how an administrator sets one up. Deterministic and without network, it is
also what the test suite and the demo municipalities use.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import AsyncIterator, Sequence

from llm.base import ModelSpec, Passage, StreamDelta, StreamDone, count_chars, estimate_tokens

OFFLINE_PREFIX = "（オフラインモード：生成AIモデルが設定されていないため、検索された資料の該当箇所をそのまま示します）"
MAX_QUOTES = 5
MAX_QUOTE_CHARS = 200
CHUNK_CHARS = 4  # small enough that the UI visibly streams, as it would with a real model

# A sentence ends at 。！？!? or a line break; the end mark stays with its sentence.
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]*")


def _normalise(text: str) -> str:
    # NFKC folds full-width digits/letters onto ASCII so 「１０月」 matches 「10月」; case-folded for English.
    return unicodedata.normalize("NFKC", text).casefold()


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\s+", "", _normalise(text))
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _question(messages: list[dict[str, str]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return message.get("content", "")
    return ""


def _quotes(question: str, passages: Sequence[Passage]) -> list[tuple[str, int]]:
    """Up to MAX_QUOTES (sentence, passage number) pairs, most question-like first."""
    wanted = _bigrams(question)
    scored = []
    for order, passage in enumerate(passages):
        for position, match in enumerate(_SENTENCE.finditer(passage.text)):
            sentence = match.group().strip()
            if len(sentence) < 2:
                continue
            score = len(wanted & _bigrams(sentence))
            # Ties keep document order, so the same input always gives the same answer.
            scored.append((-score, order, position, sentence, passage.number))
    scored.sort()
    best = [(sentence, number) for negative, _o, _p, sentence, number in scored if negative < 0][:MAX_QUOTES]
    if not best:
        # Nothing shares even two characters with the question: show how each passage begins rather than nothing.
        firsts: dict[int, tuple[str, int]] = {}
        for _s, order, _p, sentence, number in sorted(scored, key=lambda item: (item[1], item[2])):
            firsts.setdefault(order, (sentence, number))
        best = list(firsts.values())[:3]
    return [(s if len(s) <= MAX_QUOTE_CHARS else s[:MAX_QUOTE_CHARS] + "…", n) for s, n in best]


def answer_with_passages(question: str, passages: Sequence[Passage]) -> str:
    lines = [OFFLINE_PREFIX, ""]
    lines += [f"- 「{sentence}」[{number}]" for sentence, number in _quotes(question, passages)]
    return "\n".join(lines) + "\n"


def answer_without_passages(question: str) -> str:
    return "\n".join([
        "（オフラインモード）生成AIモデルが設定されていないため、この質問への回答を作成できません。",
        "",
        f"- 受け付けた質問：{count_chars(question)}文字",
        "- オフラインモードでは、文章の作成・要約・翻訳はできません。"
        "資料の検索結果がある場合は、該当する箇所をそのまま示します。",
        "- 生成AIを使えるようにするには、システム管理者（運用担当者）が次のどちらかの環境変数を設定して、"
        "サービスを再起動します。",
        "  - Azure OpenAI：`AZURE_OPENAI_ENDPOINT`・`AZURE_OPENAI_API_KEY`・`AZURE_OPENAI_DEPLOYMENT`",
        "  - OpenAI互換サーバー（vLLM・Ollama など）：`OPENAI_COMPAT_BASE_URL`・`OPENAI_COMPAT_MODEL`",
        "- 詳しくは、庁内のシステム管理者にお問い合わせください。",
        "",
    ])


class OfflineProvider:
    """Deterministic answers without a model; streams like a real one so the UI behaves the same."""

    offline = True

    def __init__(self, *, chunk_delay: float = 0.0) -> None:
        self.chunk_delay = chunk_delay  # seconds between chunks; a little makes demos look like the real thing

    async def stream_chat(
        self,
        *,
        model: ModelSpec,
        messages: list[dict[str, str]],
        passages: Sequence[Passage] = (),
        max_output_tokens: int | None = None,
    ) -> AsyncIterator[StreamDelta | StreamDone]:
        question = _question(messages)
        text = answer_with_passages(question, passages) if passages else answer_without_passages(question)
        for start in range(0, len(text), CHUNK_CHARS):
            yield StreamDelta(text[start : start + CHUNK_CHARS])
            # Always yield to the loop, even without a delay: 200 concurrent offline streams must interleave.
            await asyncio.sleep(self.chunk_delay)
        prompt = "".join(message.get("content", "") for message in messages)
        prompt += "".join(passage.text for passage in passages)
        yield StreamDone(
            prompt_tokens=estimate_tokens(prompt), completion_tokens=estimate_tokens(text), finish_reason="stop"
        )
