from config.celery import app
from rag import ingest, services


# acks_late: a message is acknowledged only when the run ends, so a worker killed mid-way leaves it to be
# delivered again (Redis: after the broker's visibility timeout); reject_on_worker_lost: the same when only the
# pool's child process dies (the out-of-memory killer), at once. rag.ingest makes a second run harmless.
@app.task(name="rag.tasks.ingest_document", acks_late=True, reject_on_worker_lost=True)
def ingest_document(document_id: int, content_hash: str | None = None) -> None:
    ingest.run(document_id, content_hash=content_hash)


@app.task(name="rag.tasks.requeue_stale_documents")
def requeue_stale_documents() -> list[int]:
    return services.requeue_stale_documents()
