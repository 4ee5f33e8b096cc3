from config.celery import app
from rag import ingest


@app.task(name="rag.tasks.ingest_document", acks_late=True)
def ingest_document(document_id: int) -> None:
    ingest.run(document_id)
