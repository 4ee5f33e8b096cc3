"""A console job redelivered by the broker runs again only when its first worker has gone silent."""

import datetime as dt

import pytest
from django.utils import timezone

from tenants.jobs import JobFailed, run_job
from tenants.models import TenantJob

pytestmark = pytest.mark.django_db


def _job(**fields) -> TenantJob:
    return TenantJob.objects.create(kind=TenantJob.Kind.EXPORT, tenant_slug="demo-a", **fields)


def test_a_redelivered_job_that_is_still_reporting_progress_is_left_alone():
    job = _job(state=TenantJob.State.RUNNING, heartbeat_at=timezone.now(), progress=40)
    runs = []
    run_job(job.pk, lambda job, report: runs.append(job.pk))
    job.refresh_from_db()
    assert runs == [] and job.state == TenantJob.State.RUNNING and job.progress == 40


def test_a_job_whose_worker_fell_silent_is_taken_over_and_finished():
    job = _job(state=TenantJob.State.RUNNING, heartbeat_at=timezone.now() - dt.timedelta(hours=1), progress=40)
    finished = run_job(job.pk, lambda job, report: {"slug": "demo-a"})
    assert finished.state == TenantJob.State.DONE and finished.progress == 100 and finished.result == {"slug": "demo-a"}


def test_a_finished_job_is_never_run_twice_and_a_failure_keeps_its_japanese_reason():
    job = _job()
    failed = run_job(job.pk, lambda job, report: (_ for _ in ()).throw(JobFailed("識別子がすでに使われています。")))
    assert failed.state == TenantJob.State.FAILED and failed.error == "識別子がすでに使われています。"
    runs = []
    assert run_job(job.pk, lambda job, report: runs.append(1)).state == TenantJob.State.FAILED
    assert runs == []
