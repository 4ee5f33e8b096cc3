"""Taking an archive in as a new municipality: verify everything first, then create and load in one transaction.

Pass 1 (``verify``) reads the whole archive and refuses a damaged, altered, foreign or newer one before
anything exists. Pass 2 runs in ONE database transaction: ``create_tenant`` makes the schema (every migration,
as for any new municipality), ``loader`` replaces what the migrations seeded with the archive's tables and
files, and the plan and usage counters are written in the public schema. Any failure rolls the whole
transaction back, schema, tenant and domain rows included (PostgreSQL's DDL is transactional, and the server
rolls back the transaction of a worker that dies), and the files already copied are removed.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from audit.services import record
from tenants.archive import manifest as m
from tenants.archive.loader import Loader
from tenants.archive.verify import (
    ArchiveStream,
    Report,
    check_compatible,
    check_slug_free,
    noop,
    slug_taken,
    verify_archive,
)
from tenants.crossing import in_tenant
from tenants.models import DailyUsageSummary, MonthlyUsage, Tenant

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- public rows


def _plan(raw: bytes) -> dict[str, Any]:
    try:
        plan = json.loads(raw)
        values = {
            "seat_cap": plan["seat_cap"], "monthly_char_cap": plan["monthly_char_cap"],
            "allowed_models": plan["allowed_models"], "monthly_price_cap_yen": plan["monthly_price_cap_yen"],
            "is_training": plan["is_training"],
        }
        ints_ok = all(
            values[f] is None or (isinstance(values[f], int) and not isinstance(values[f], bool) and values[f] >= 0)
            for f in ("seat_cap", "monthly_price_cap_yen")
        ) and isinstance(values["monthly_char_cap"], int) and values["monthly_char_cap"] >= 0
        if not (ints_ok and isinstance(values["is_training"], bool) and isinstance(values["allowed_models"], list)
                and all(isinstance(x, str) for x in values["allowed_models"])):
            raise ValueError("plan")
        return values
    except (ValueError, KeyError, TypeError) as exc:
        raise m.ArchiveError("アーカイブのプラン（public/tenant.json）が読み取れません。"
                             "取り込みを取り消しました。") from exc


def _usage_rows(tenant: Tenant, monthly_raw: bytes, daily_raw: bytes) -> None:
    daily_fields = {f.name for f in DailyUsageSummary._meta.concrete_fields} - {"id", "tenant", "computed_at"}
    try:
        monthly = [
            MonthlyUsage(tenant=tenant, month=date.fromisoformat(row["month"]), used_chars=int(row["used_chars"]),
                         cost_yen=Decimal(str(row["cost_yen"])), prompts=int(row["prompts"]))
            for row in json.loads(monthly_raw)
        ]
        daily = []
        for row in json.loads(daily_raw):
            if not isinstance(row, dict) or not set(row) <= daily_fields:
                raise ValueError("daily")
            daily.append(DailyUsageSummary(tenant=tenant, **{**row, "day": date.fromisoformat(row["day"])}))
        with transaction.atomic():
            MonthlyUsage.objects.bulk_create(monthly)
            DailyUsageSummary.objects.bulk_create(daily)
    except (ValueError, KeyError, TypeError, InvalidOperation, ValidationError, IntegrityError) as exc:
        raise m.ArchiveError("アーカイブの利用量（public/ の集計）が読み取れません。"
                             "取り込みを取り消しました。") from exc


def _plan_warnings(plan: dict[str, Any]) -> list[str]:
    try:
        from llm.catalogue import available_models

        known = {model.name for model in available_models()}
    except Exception:  # a catalogue that cannot be read only costs the warning
        return []
    unknown = [name for name in plan["allowed_models"] if name not in known]
    if not unknown:
        return []
    return [f"プランで認めるモデルのうち、この環境のカタログにないもの: {', '.join(unknown)}。"
            "運営コンソールのプラン画面で見直してください。"]


# --------------------------------------------------------------------------- the whole import


def import_archive(path: Path | str, *, slug: str, name: str | None = None, actor=None, actor_label: str = "",
                   report: Report | None = None) -> dict[str, Any]:
    """Take ``path`` in as the new municipality ``slug``; all or nothing. Returns figures for the operator."""
    from tenants.services import create_tenant, site_url

    path, report = Path(path), report or noop
    started = time.monotonic()
    slug = (slug or "").strip().lower()
    try:
        check_slug_free(slug)
        manifest, archive_sha256 = verify_archive(path, report=report)
        check_compatible(manifest)
        name = (name or "").strip() or str(manifest.source.get("name") or slug)
        if len(name) > 100:
            raise m.ArchiveError("表示名は100文字以内で指定してください。")
        plan = _plan(manifest.public[m.TENANT_MEMBER])
    except (m.ArchiveError, ValidationError) as exc:
        _record_refusal(slug, path, exc, actor, actor_label)
        raise
    loader = None
    try:
        with transaction.atomic():
            report(42, "利用団体のデータベースを作成しています")
            try:
                result = create_tenant(slug=slug, name=name, seat_cap=plan["seat_cap"],
                                       monthly_char_cap=plan["monthly_char_cap"], actor=actor)
            except IntegrityError as exc:  # another import took the slug in the meantime
                raise m.ArchiveError(slug_taken(slug)) from exc
            if not result.created:
                raise m.ArchiveError(slug_taken(slug))
            tenant = result.tenant
            with in_tenant(tenant), connection.cursor() as cursor:
                loader = Loader(manifest, tenant.schema_name, cursor)
                loader.prepare()
                for member_name, fileobj in ArchiveStream(path, report, 50, 45, "データを取り込んでいます"):
                    loader.member(member_name, fileobj)
                report(96, "仕上げています")
                cleared = loader.finish()
                unfinished = _unfinished_documents()
            Tenant.objects.filter(pk=tenant.pk).update(**plan)
            _usage_rows(tenant, manifest.public[m.MONTHLY_USAGE_MEMBER], manifest.public[m.DAILY_SUMMARY_MEMBER])
            warnings = list(manifest.warnings) + _plan_warnings(plan)
            if loader.dropped_rows:
                warnings.append(f"この環境にない権限の割り当て {loader.dropped_rows} 件は取り込んでいません。")
            if cleared:
                warnings.append(f"利用団体のフォルダの外を指していたファイルの参照 {cleared} 件を外しました。")
            if unfinished:
                warnings.append(f"書き出し時に処理中だった文書が {unfinished} 件あります。ナレッジの画面で"
                                "「再取り込み」を行ってください。")
            if manifest.embedding_model and manifest.embedding_model != _embedding_model():
                warnings.append(f"書き出し元の埋め込みモデル（{manifest.embedding_model}）がこの環境と異なります。"
                                f"manage.py rag_reembed --tenant {slug} で埋め込み直すまで、ナレッジの検索は"
                                "語句の一致だけで行われます。")
            figures = {
                "slug": slug, "name": name, "url": site_url(slug), "source_slug": manifest.source.get("slug"),
                "tables": len(manifest.tables),
                "rows": sum(t.rows for t in manifest.tables if t.role == "data"),
                "files": len(manifest.media), "warnings": warnings,
            }
            record(action="tenant.import", actor=actor, actor_label=actor_label or ("" if actor else "system"),
                   target=f"tenant:{slug}",
                   detail={**{k: v for k, v in figures.items() if k != "warnings"}, "archive": path.name,
                           "archive_sha256": archive_sha256, "exported_at": manifest.created_at,
                           "source_domain": manifest.source.get("base_domain"), "warnings": warnings})
    except Exception as exc:
        if loader is not None:
            loader.remove_files()
        if isinstance(exc, (m.ArchiveError, ValidationError)):
            _record_refusal(slug, path, exc, actor, actor_label)
            raise
        log.exception("import of %s as %s failed", path.name, slug)
        first_line = str(exc).splitlines()[0][:200] if str(exc) else ""
        error = m.ArchiveError(f"予期しないエラーで取り込めませんでした（{type(exc).__name__}: {first_line}）。"
                               "すべて取り消し、何も作成していません。繰り返す場合はシステム管理者にログの確認を"
                               "依頼してください。")
        _record_refusal(slug, path, error, actor, actor_label)
        raise error from exc
    except BaseException:  # interrupted (Ctrl-C, worker shutdown): the transaction is rolled back, files removed
        if loader is not None:
            loader.remove_files()
        raise
    figures["seconds"] = round(time.monotonic() - started, 2)
    figures["tenant_id"] = tenant.pk
    return figures


def _unfinished_documents() -> int:
    from django.apps import apps

    document = apps.get_model("rag", "Document")
    return document.objects.exclude(state__in=[document.State.READY, document.State.FAILED]).count()


def _embedding_model() -> str:
    from tenants.archive.export import _embedding_model as current

    return current()


def _record_refusal(slug: str, path: Path, exc: BaseException, actor, actor_label: str) -> None:
    reason = "、".join(exc.messages) if isinstance(exc, ValidationError) else (
        str(exc) if isinstance(exc, m.ArchiveError) else f"予期しないエラー（{type(exc).__name__}）")
    try:
        connection.set_schema_to_public()
        record(action="tenant.import_failed", actor=actor, actor_label=actor_label or ("" if actor else "system"),
               target=f"tenant:{slug}", detail={"archive": path.name, "reason": reason[:1000]})
    except Exception:  # the refusal itself is what the operator must see; a failed audit write is only logged
        log.exception("could not audit the refused import of %s", slug)
