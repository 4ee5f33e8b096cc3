"""Tasks: 環境の引き継ぎ (export and import of a municipality's environment), each a wrapper over one job."""

from config.celery import app
from tenants.archive import jobs, storage
from tenants.jobs import run_job


@app.task(name="tenants.tasks.archive.export_tenant")
def export_tenant(job_id: int) -> str:
    return run_job(job_id, jobs.run_export).state


@app.task(name="tenants.tasks.archive.import_tenant")
def import_tenant(job_id: int) -> str:
    return run_job(job_id, jobs.run_import).state


@app.task(name="tenants.tasks.archive.purge_old_archives")
def purge_old_archives() -> int:
    return storage.purge_old_archives()
