from accounts import services
from config.celery import app


@app.task(name="accounts.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    services.clear_expired_sessions()
