"""Celery tasks of the operator console, one module per concept (each a thin wrapper around a service).

Celery's autodiscovery imports ``tenants.tasks``; importing the modules here registers every task.
"""

from tenants.tasks import archive, provision, summary, training  # noqa: F401
