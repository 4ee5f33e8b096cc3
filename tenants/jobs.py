"""Background jobs of the operator console (provisioning, export, import, training reset) with progress.

A job is a ``TenantJob`` row in the public schema. The console creates it and queues a Celery task after commit;
the task runs the job's service inside ``run_job``, which reports progress and turns any failure into a Japanese
reason on the row, so the operator's page (polling ``job_status``) always ends in 完了 or 失敗.

A secret a job produces (the first administrator's initial password) is never stored in the row: it goes to the
cache for a short time and is removed the first time it is shown.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tenants.models import PUBLIC_SCHEMA, TenantJob

log = logging.getLogger(__name__)
SECRET_TTL_SECONDS = 3600
# A job that reported nothing for this long is taken to have lost its worker; a redelivered task may run it again.
STALE_AFTER = dt.timedelta(minutes=10)


class JobFailed(Exception):
    """A failure whose message is meant for the operator (Japanese, says what to do)."""


Report = Callable[[int, str], None]


def start_job(
    *,
    kind: str,
    actor=None,
    task=None,
    tenant=None,
    tenant_slug: str = "",
    params: dict[str, Any] | None = None,
) -> TenantJob:
    """Create a job and, once the transaction commits, queue ``task.delay(job_id)``."""
    job = TenantJob.objects.create(
        kind=kind,
        tenant=tenant,
        tenant_slug=tenant_slug or (tenant.slug if tenant is not None else ""),
        params=params or {},
        created_by_label=str(actor) if actor is not None else "system",
    )
    if task is not None:
        job_id = job.pk
        # The public schema is where the job row lives; tenant-schemas-celery sends the current schema along.
        transaction.on_commit(lambda: task.delay(job_id))
    return job


def report_progress(job_id: int, progress: int, step: str = "") -> None:
    TenantJob.objects.filter(pk=job_id).update(progress=max(0, min(int(progress), 100)), step=step[:200],
                                               heartbeat_at=timezone.now())


def run_job(job_id: int, work: Callable[[TenantJob, Report], dict[str, Any] | None]) -> TenantJob:
    """Run ``work(job, report)`` and record its outcome; exceptions end the job as 失敗 with a reason."""
    connection.set_schema_to_public()
    job = TenantJob.objects.get(pk=job_id)
    # Claim the job in one conditional UPDATE. A task redelivered by the broker (acks_late, after the visibility
    # timeout) finds it finished, or running with a fresh heartbeat (a long export still going): it does nothing.
    # Only a job whose worker fell silent is taken over.
    now = timezone.now()
    claimable = Q(state=TenantJob.State.QUEUED) | Q(state=TenantJob.State.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    claimed = TenantJob.objects.filter(claimable, pk=job_id).update(
        state=TenantJob.State.RUNNING, step="開始しました", heartbeat_at=now
    )
    if not claimed:
        return job

    def report(progress: int, step: str = "") -> None:
        report_progress(job_id, progress, step)

    try:
        result = work(job, report) or {}
    except (JobFailed, ValidationError) as exc:
        message = "、".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        _finish(job_id, state=TenantJob.State.FAILED, error=message)
    except Exception:
        log.exception("operator job %s (%s) failed", job_id, job.kind)
        _finish(job_id, state=TenantJob.State.FAILED,
                error="予期しないエラーで処理を完了できませんでした。何も変更されていないことを確認のうえ、"
                      "もう一度実行してください。繰り返す場合はシステム管理者にログの確認を依頼してください。")
    else:
        _finish(job_id, state=TenantJob.State.DONE, result=result)
    connection.set_schema_to_public()
    return TenantJob.objects.get(pk=job_id)


def _finish(job_id: int, *, state: str, error: str = "", result: dict | None = None) -> None:
    connection.set_schema_to_public()
    values: dict[str, Any] = {"state": state, "error": error, "finished_at": timezone.now()}
    if state == TenantJob.State.DONE:
        values.update(progress=100, step="完了しました")
    if result is not None:
        values["result"] = result
    TenantJob.objects.filter(pk=job_id).update(**values)


def put_secret(job_id: int, secret: str) -> None:
    cache.set(f"tenant-job-secret:{job_id}", secret, SECRET_TTL_SECONDS)


def pop_secret(job_id: int) -> str | None:
    """The job's secret the first time it is asked for; None afterwards (shown once)."""
    key = f"tenant-job-secret:{job_id}"
    secret = cache.get(key)
    if secret is not None:
        cache.delete(key)
    return secret


def assert_public() -> None:
    if connection.schema_name != PUBLIC_SCHEMA:
        raise RuntimeError("operator jobs run in the public schema")
