"""Tasks: the 研修環境 reset, run as an operator job with progress (see tenants.jobs)."""

from config.celery import app
from tenants.jobs import run_job
from tenants.training_env import run_reset_job


@app.task(name="tenants.tasks.training.reset_training", acks_late=True)
def reset_training(job_id: int) -> None:
    run_job(job_id, run_reset_job)
