"""Tasks: provisioning a municipality from the console (利用団体の追加)."""

from config.celery import app
from tenants.services import provision_from_job


@app.task(name="tenants.tasks.provision.provision_tenant")
def provision_tenant(job_id: int) -> None:
    # Sent from the console on the public host, so tenant-schemas-celery runs it in public, where the job row is.
    provision_from_job(job_id=job_id)
