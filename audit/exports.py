"""Exporting the prompt and operation logs to CSV or JSON Lines, as a background job.

``start_export`` (in the request) records the job and its audit event and queues ``audit.tasks.run_export``
after commit; the worker, in the municipality's schema, calls ``run_export``, which streams the events from the
database and writes the file row by row, so a million events take no more memory than a few thousand.
Tests and the benchmark call ``run_export`` directly.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.models import AuditEvent, ExportJob
from audit.queries import (
    EVENT_FIELDS,
    LogFilters,
    OperationRow,
    PromptRow,
    events_for_admin,
    export_dir,
    operation_row,
    parse_filters,
    people,
    prompt_row,
)
from audit.services import record
from audit.spreadsheet import UTF8_BOM, safe_row

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000  # rows fetched from the database at a time
PROGRESS_EVERY = 5000  # rows between two progress updates of the job

PROMPT_HEADER = [
    "日時", "職員番号", "氏名", "グループ", "モデル", "結果", "プロンプト文字数", "回答文字数", "プロンプト", "回答",
    "検出された個人情報", "所要時間(ms)",
]
OPERATION_HEADER = ["日時", "操作者", "操作", "対象", "詳細(JSON)", "IPアドレス"]

CONTENT_TYPES = {ExportJob.Format.CSV: "text/csv; charset=utf-8", ExportJob.Format.JSONL: "application/jsonl"}


class ExportFailed(Exception):
    """An export that cannot run, with a message for the administrator."""


# --------------------------------------------------------------------------- starting and downloading


def start_export(*, admin, filters: LogFilters, fmt: str, request=None) -> ExportJob:
    """Record an export of the events ``filters`` select and queue it; the file appears when the worker is done."""
    if fmt not in ExportJob.Format.values:
        raise ValidationError("出力形式はCSVかJSON Linesを選んでください。")
    # The same check the worker makes, here so that a refused export leaves no job behind.
    events_for_admin(admin, filters)
    with transaction.atomic():
        # The file holds what the screen showed when the button was pressed: events up to the newest one now.
        newest = AuditEvent.objects.aggregate(newest=Max("id"))["newest"] or 0
        job = ExportJob.objects.create(
            requested_by=admin, requested_by_label=str(admin)[:255], kind=filters.kind, format=fmt,
            filters=filters.to_params(), until_event_id=newest,
        )
        record(
            action="export.start", actor=admin, target=f"export:{job.pk}",
            detail={"kind": job.kind, "format": job.format, "filters": job.filters, "until_event_id": newest},
            request=request,
        )
        transaction.on_commit(lambda: _queue(job.pk))
    return job


def _queue(job_id: int) -> None:
    from audit.tasks import run_export as run_export_task

    run_export_task.delay(job_id)


def mark_downloaded(*, admin, job: ExportJob, request=None) -> None:
    with transaction.atomic():
        job.downloaded_at = timezone.now()
        ExportJob.objects.filter(pk=job.pk).update(downloaded_at=job.downloaded_at)
        record(
            action="export.download", actor=admin, target=f"export:{job.pk}",
            detail={"kind": job.kind, "format": job.format, "rows": job.rows_done, "file_size": job.file_size},
            request=request,
        )


def download_name(job: ExportJob) -> str:
    stamp = timezone.localtime(job.created_at).strftime("%Y%m%d-%H%M")
    name = "prompt-log" if job.kind == ExportJob.Kind.PROMPTS else "operation-log"
    return f"{name}-{stamp}-{job.pk}.{job.format}"


# --------------------------------------------------------------------------- writing the file


def prompt_csv_values(row: PromptRow) -> list[Any]:
    return [
        row.created_at.strftime("%Y-%m-%d %H:%M:%S"), row.staff_number, row.full_name, "、".join(row.groups),
        row.model, row.result, row.prompt_chars, row.answer_chars, row.prompt, row.answer, "、".join(row.pii_types),
        row.latency_ms,
    ]


def prompt_json(row: PromptRow) -> dict[str, Any]:
    return {
        "id": row.id, "created_at": row.created_at.isoformat(), "staff_number": row.staff_number,
        "full_name": row.full_name, "groups": list(row.groups), "model": row.model, "action": row.action,
        "result": row.result, "status": row.status, "prompt_chars": row.prompt_chars,
        "answer_chars": row.answer_chars, "prompt": row.prompt, "answer": row.answer,
        "pii_types": list(row.pii_types), "latency_ms": row.latency_ms,
    }


def detail_json(detail: Mapping[str, Any]) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)


def operation_csv_values(row: OperationRow) -> list[Any]:
    return [row.created_at.strftime("%Y-%m-%d %H:%M:%S"), row.actor, row.action, row.target,
            detail_json(row.detail) if row.detail else "", row.ip_address]


def operation_json(row: OperationRow) -> dict[str, Any]:
    return {
        "id": row.id, "created_at": row.created_at.isoformat(), "actor": row.actor, "actor_id": row.actor_id,
        "staff_number": row.staff_number, "action": row.action, "category": row.category, "target": row.target,
        "detail": row.detail, "ip_address": row.ip_address or None,
    }


@dataclass(frozen=True)
class _Shape:
    header: list[str]
    row: Any
    csv_values: Any
    as_json: Any


_SHAPES = {
    ExportJob.Kind.PROMPTS: _Shape(PROMPT_HEADER, prompt_row, prompt_csv_values, prompt_json),
    ExportJob.Kind.OPERATIONS: _Shape(OPERATION_HEADER, operation_row, operation_csv_values, operation_json),
}


def _write_rows(out: IO[str], job: ExportJob, events: Iterator[Mapping[str, Any]], on_progress) -> int:
    shape = _SHAPES[job.kind]
    directory = people()
    count = 0
    if job.format == ExportJob.Format.CSV:
        # Excel on Japanese Windows reads UTF-8 only with a BOM; every cell is neutralised against formulas.
        out.write(UTF8_BOM)
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(safe_row(shape.header))
        for event in events:
            writer.writerow(safe_row(shape.csv_values(shape.row(event, directory))))
            count += 1
            if count % PROGRESS_EVERY == 0:
                on_progress(count)
    else:
        for event in events:
            out.write(json.dumps(shape.as_json(shape.row(event, directory)), ensure_ascii=False, default=str))
            out.write("\n")
            count += 1
            if count % PROGRESS_EVERY == 0:
                on_progress(count)
    return count


def _update(job: ExportJob, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    ExportJob.objects.filter(pk=job.pk).update(**fields)


def run_export(job_id: int) -> ExportJob | None:
    """Write the file of one export job in the current schema; safe to run again for a job a worker lost."""
    job = ExportJob.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None:
        logger.warning("export job %s not found in this schema", job_id)
        return None
    if job.state == ExportJob.State.DONE:
        return job
    folder = export_dir()
    stamp = timezone.localtime(job.created_at).strftime("%Y%m%d%H%M%S")
    final = folder / f"{job.pk}-{job.kind}-{stamp}.{job.format}"
    partial = final.with_name(final.name + ".part")
    try:
        if job.requested_by is None or not job.requested_by.is_tenant_admin:
            raise ExportFailed("依頼した管理者が削除されたか管理者でなくなったため、エクスポートできません。"
                               "管理者がもう一度依頼してください。")
        filters = parse_filters(job.filters, kind=job.kind)
        events = events_for_admin(job.requested_by, filters, until_id=job.until_event_id)
        _update(job, state=ExportJob.State.RUNNING, started_at=timezone.now(), rows_total=events.count(),
                rows_done=0, error="")
        folder.mkdir(parents=True, exist_ok=True)
        with open(partial, "w", encoding="utf-8", newline="") as out:
            rows = _write_rows(
                out, job, events.values(*EVENT_FIELDS).iterator(chunk_size=CHUNK_SIZE),
                on_progress=lambda n: _update(job, rows_done=n),
            )
        os.replace(partial, final)
        _update(
            job, state=ExportJob.State.DONE, rows_done=rows, rows_total=rows, finished_at=timezone.now(),
            file_path=str(final.relative_to(settings.MEDIA_ROOT)), file_size=final.stat().st_size,
        )
    except Exception as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        if isinstance(exc, ExportFailed | PermissionDenied):
            message = str(exc)
        elif isinstance(exc, ValidationError):
            message = " ".join(exc.messages)
        else:
            logger.exception("export job %s failed", job_id)
            message = "エクスポート中にエラーが発生しました。時間をおいてもう一度お試しください。"
        _update(job, state=ExportJob.State.FAILED, finished_at=timezone.now(), error=message[:500])
    return job


def purge_old_exports(*, days: int | None = None) -> int:
    """Delete export files older than the retention period: they hold full prompts and answers.

    The job rows stay (they are the record that an export happened); only the files go.
    """
    days = settings.AKAGI_EXPORT_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - timezone.timedelta(days=days)
    removed = 0
    for job in ExportJob.objects.filter(created_at__lt=cutoff).exclude(file_path=""):
        path = settings.MEDIA_ROOT / job.file_path
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
            removed += 1
        ExportJob.objects.filter(pk=job.pk).update(file_path="", file_size=0)
    return removed
