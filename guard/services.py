"""Changes to a municipality's screening settings. Each writes its audit event."""

from __future__ import annotations

import csv
import io

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import record
from guard.models import Action, BannedWord, PiiPolicy
from guard.normalize import fold
from guard.screening import DEFAULT_POLICY, LABELS

MAX_WORD_LENGTH = 100
MAX_IMPORT_BYTES = 1_000_000


def current_policy() -> dict[str, str]:
    return {**DEFAULT_POLICY, **dict(PiiPolicy.objects.values_list("pii_type", "action"))}


def banned_words() -> list[str]:
    return list(BannedWord.objects.values_list("normalized", flat=True))


def set_policy(*, changes: dict[str, str], actor, request=None) -> dict[str, str]:
    errors = [f"「{LABELS.get(t, t)}」の対応が正しくありません。" for t, a in changes.items()
              if t not in DEFAULT_POLICY or a not in Action.values]
    if errors:
        raise ValidationError(errors)
    before = current_policy()
    with transaction.atomic():
        for pii_type, action in changes.items():
            PiiPolicy.objects.update_or_create(pii_type=pii_type, defaults={"action": action})
        after = current_policy()
        diff = {t: {"before": before[t], "after": after[t]} for t in after if before[t] != after[t]}
        if diff:
            record(action="guard.policy", actor=actor, target="pii_policy", detail=diff, request=request)
    return after


def _clean_word(raw: str) -> tuple[str, str]:
    word = (raw or "").strip()
    if not word:
        raise ValidationError("禁止語が空です。")
    if len(word) > MAX_WORD_LENGTH:
        raise ValidationError(f"禁止語は{MAX_WORD_LENGTH}文字以内にしてください。")
    return word, fold(word)


def add_banned_word(*, word: str, note: str = "", actor, request=None) -> BannedWord:
    word, normalized = _clean_word(word)
    if BannedWord.objects.filter(normalized=normalized).exists():
        raise ValidationError(
            f"「{word}」は既に登録されています（全角・半角や大文字・小文字、空白の違いは同じ語として扱います）。"
        )
    with transaction.atomic():
        banned = BannedWord.objects.create(word=word, normalized=normalized, note=note.strip()[:200])
        record(action="guard.banned_word.add", actor=actor, target=word, request=request)
    return banned


def delete_banned_word(*, banned_id: int, actor, request=None) -> None:
    with transaction.atomic():
        banned = BannedWord.objects.filter(pk=banned_id).first()
        if banned is None:
            raise ValidationError("指定された禁止語は見つかりません。")
        record(action="guard.banned_word.delete", actor=actor, target=banned.word, request=request)
        banned.delete()


def decode_csv(data: bytes) -> str:
    """CSV files saved by Excel on Japanese Windows are Shift_JIS (CP932) or UTF-8 with a BOM; accept both."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(
        "ファイルの文字コードを判別できません。UTF-8 または Shift_JIS（CP932）のCSVで保存してください。"
    )


def import_banned_words(*, data: bytes, actor, request=None) -> dict[str, int]:
    """Add every word in the first column (a header row 禁止語/word is skipped); all or nothing."""
    if not data:
        raise ValidationError("ファイルが空です。1列目に禁止語を1行に1語ずつ記入したCSVを選んでください。")
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationError("ファイルが大きすぎます（上限1MB）。分割して取り込んでください。")
    rows = list(csv.reader(io.StringIO(decode_csv(data))))
    errors: list[str] = []
    seen: dict[str, str] = {}
    existing = set(BannedWord.objects.values_list("normalized", flat=True))
    for number, row in enumerate(rows, start=1):
        if not row or not row[0].strip():
            continue
        if number == 1 and row[0].strip() in {"禁止語", "word", "Word"}:
            continue
        raw = row[0]
        try:
            word, normalized = _clean_word(raw)
        except ValidationError as exc:
            errors.append(f"{number}行目: {exc.messages[0]}")
            continue
        if normalized in existing or normalized in seen:
            continue  # already banned: importing the same list twice is harmless
        seen[normalized] = word
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        BannedWord.objects.bulk_create(
            [BannedWord(word=word, normalized=normalized) for normalized, word in seen.items()]
        )
        record(action="guard.banned_word.import", actor=actor, target=f"{len(seen)}語",
               detail={"added": len(seen)}, request=request)
    return {"added": len(seen)}
