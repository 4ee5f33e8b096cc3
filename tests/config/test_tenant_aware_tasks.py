"""A Celery task always runs in the schema of the municipality it was sent from."""

from django.db import connection

from accounts.models import User
from config.tasks import diagnose


def test_a_task_sent_from_a_municipality_runs_in_its_schema(tenant_a, tenant_b, celery_worker_process):
    for tenant in (tenant_a, tenant_b):
        connection.set_tenant(tenant)
        expected_users = User.objects.count()
        result = diagnose.delay().get(timeout=30)
        assert result == {"schema": tenant.schema_name, "users": expected_users}


def test_a_task_sent_from_the_public_schema_runs_in_public(db, celery_worker_process):
    connection.set_schema_to_public()
    assert diagnose.delay().get(timeout=30)["schema"] == "public"
