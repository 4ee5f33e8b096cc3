"""The export and import as operator jobs: what ``tenants.tasks.archive`` runs inside ``tenants.jobs.run_job``.

Both services run inside one long transaction (a read-only snapshot for the export, the all-or-nothing load for
the import), so progress written through the job's own connection would stay invisible until the end.
``SideReporter`` writes it through a second connection that commits at once.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from psycopg import sql

from tenants.archive import storage
from tenants.archive.export import export_tenant
from tenants.archive.importer import import_archive
from tenants.jobs import JobFailed
from tenants.models import TenantJob

log = logging.getLogger(__name__)


class SideReporter:
    """Job progress through a separate autocommit connection, at most twice a second."""

    def __init__(self, job_id: int, interval: float = 0.5):
        self.job_id, self.interval = job_id, interval
        self.last = 0.0
        self.conn = None

    def __call__(self, progress: int, step: str = "") -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        try:
            if self.conn is None:
                self.conn = connections.create_connection(DEFAULT_DB_ALIAS)
            with self.conn.cursor() as cursor:
                cursor.execute(
                    sql.SQL("UPDATE public.{} SET progress = %s, step = %s, heartbeat_at = now() WHERE id = %s").format(
                        sql.Identifier(TenantJob._meta.db_table)),
                    [max(0, min(int(progress), 99)), step[:200], self.job_id],
                )
        except Exception:  # progress is a courtesy; the job's outcome is recorded by run_job either way
            log.warning("could not report progress of job %s", self.job_id, exc_info=True)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _actor(job: TenantJob):
    from accounts.models import User

    actor_id = job.params.get("actor_id")
    return User.objects.filter(pk=actor_id).first() if actor_id else None


def run_export(job: TenantJob, report) -> dict[str, Any]:
    from tenants.models import Tenant

    tenant = job.tenant or Tenant.objects.filter(slug=job.tenant_slug).first()
    if tenant is None or tenant.is_public:
        raise JobFailed(f"利用団体「{job.tenant_slug}」が見つかりません。一覧を確認してから書き出し直してください。")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    out = storage.archive_dir() / f"{tenant.slug}-{stamp}-{job.pk}.tar.gz"
    side = SideReporter(job.pk)
    try:
        figures = export_tenant(tenant, out, actor=_actor(job), actor_label=job.created_by_label, report=side)
    finally:
        side.close()
    TenantJob.objects.filter(pk=job.pk).update(file_path=storage.relative(out), file_size=figures["size"])
    return figures


def run_import(job: TenantJob, report) -> dict[str, Any]:
    upload = storage.resolve_in(storage.upload_dir(), job.params.get("upload", ""))
    if upload is None:
        raise JobFailed("アップロードされたアーカイブが見つかりません（保存期間が過ぎたか、別のサーバーに"
                        "置かれています）。もう一度アップロードしてください。")
    side = SideReporter(job.pk)
    try:
        figures = import_archive(upload, slug=job.tenant_slug, name=job.params.get("name") or None,
                                 actor=_actor(job), actor_label=job.created_by_label, report=side)
    finally:
        side.close()
        upload.unlink(missing_ok=True)  # the archive holds password hashes: it is not kept once taken in
    TenantJob.objects.filter(pk=job.pk).update(tenant_id=figures.pop("tenant_id"))
    return figures
