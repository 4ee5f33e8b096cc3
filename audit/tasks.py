from audit import exports
from config.celery import app


@app.task(name="audit.tasks.run_export")
def run_export(job_id: int) -> None:
    exports.run_export(job_id)


@app.task(name="audit.tasks.purge_old_exports")
def purge_old_exports() -> None:
    exports.purge_old_exports()
