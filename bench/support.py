"""What the benchmark scripts share: their own embedded servers, ``manage.py`` in a subprocess, progress lines.

Imported as a sibling module (the scripts run as ``python bench/<name>.py``, so ``bench/`` is on ``sys.path``);
importing it also puts the project root on ``sys.path``, so the scripts can import the project's packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Whatever the shell says, a bench uses its own embedded PostgreSQL and Redis and keeps its files in its data dir.
SERVER_VARIABLES = ("DATABASE_URL", "REDIS_URL", "REDIS_CACHE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
                    "AKAGI_STATIC_ROOT", "AKAGI_MEDIA_ROOT")
# ... and, where it says so, the embedded embedding model rather than a provider's.
EMBEDDING_PROVIDER_VARIABLES = ("AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "OPENAI_COMPAT_EMBEDDING_MODEL")


def logger(name: str, *, clock: bool = False) -> Callable[[str], None]:
    """A ``log(message)`` writing ``[name] message`` (``[name HH:MM:SS] message`` with ``clock``) to stderr."""

    def log(message: str) -> None:
        stamp = f" {time.strftime('%H:%M:%S')}" if clock else ""
        print(f"[{name}{stamp}] {message}", file=sys.stderr, flush=True)

    return log


def prepare_environment(data_dir: Path, *, drop: Iterable[str] = ()) -> None:
    """Everything this process starts uses the bench's own embedded servers under ``data_dir``, never a configured
    database; ``drop`` names further variables to ignore."""
    for name in (*SERVER_VARIABLES, *drop):
        os.environ.pop(name, None)
    os.environ["AKAGI_DATA_DIR"] = str(data_dir)
    os.environ["DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"


def manage(*args: str, timeout: float) -> str:
    """``manage.py ARGS`` in a subprocess with this environment; its stdout, or RuntimeError with its stderr."""
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=os.environ.copy(),
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def stop_embedded() -> str:
    """Stop the embedded servers of ``AKAGI_DATA_DIR``; what the command printed."""
    result = subprocess.run([sys.executable, "-m", "config.embedded", "stop"], cwd=ROOT, env=os.environ.copy(),
                            capture_output=True, text=True, timeout=120)
    return (result.stdout + result.stderr).strip()


def percentile(values: list[float], q: float, ndigits: int | None = None) -> float | None:
    """The value at rank ``round(q * (n - 1))`` of the sorted values (rounded to ``ndigits``), None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    value = ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
    return value if ndigits is None else round(value, ndigits)
