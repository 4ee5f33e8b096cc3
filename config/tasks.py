"""Operational tasks of the platform itself."""

from django.db import connection

from config.celery import app


@app.task(name="config.tasks.diagnose")
def diagnose() -> dict:
    """What a worker sees when it runs a task for the sender's municipality (``manage.py check_worker``)."""
    from accounts.models import User

    return {"schema": connection.schema_name, "users": User.objects.count()}
