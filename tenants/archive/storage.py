"""Where archive files live on the server, how big an uploaded one may be, and how long they are kept.

Archives hold password hashes and every prompt of a municipality: they are written under MEDIA_ROOT (shared by
the web and worker processes, never served as static files), offered only to operators through an audited
download, and removed after ``AKAGI_ARCHIVE_RETENTION_DAYS``.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.utils import timezone

ARCHIVE_DIR = "operator/archives"
UPLOAD_DIR = "operator/uploads"
DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024**3
DEFAULT_RETENTION_DAYS = 7
UPLOAD_FIELD = "archive"


def _setting(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or default
    return int(value)


def max_upload_bytes() -> int:
    return _setting("AKAGI_ARCHIVE_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


def retention_days() -> int:
    return _setting("AKAGI_ARCHIVE_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def archive_dir() -> Path:
    folder = media_root() / ARCHIVE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def upload_dir() -> Path:
    folder = media_root() / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def relative(path: Path) -> str:
    return str(path.relative_to(media_root()))


def resolve_in(folder: Path, relative_path: str) -> Path | None:
    """``MEDIA_ROOT/relative_path`` when it is a file inside ``folder``; None otherwise (never outside)."""
    if not relative_path:
        return None
    path = (media_root() / relative_path).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        return None
    return path


class ArchiveUpload(UploadedFile):
    """An uploaded archive already on disk at ``path``; nothing of it is held in memory."""

    def __init__(self, path: Path, name: str, size: int):
        super().__init__(file=None, name=name, content_type="application/gzip", size=size)
        self.path = path

    def close(self):
        return None

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class ArchiveUploadHandler(FileUploadHandler):
    """Streams the upload field straight into the uploads folder, stopping at the size limit.

    Django's default handlers would spool large files to the system temp folder first and copy them again;
    this writes each chunk once, where the worker will read it.
    """

    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = limit if limit is not None else max_upload_bytes()
        self.out = None
        self.path: Path | None = None
        self.size = 0
        self.too_large = False

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if field_name != UPLOAD_FIELD or self.out is not None:
            raise SkipFile()
        self.path = upload_dir() / f"{uuid.uuid4().hex}.upload"
        self.out = open(self.path, "wb")  # noqa: SIM115 - closed in file_complete or upload_interrupted
        self.size = 0

    def receive_data_chunk(self, raw_data, start):
        if self.out is None:
            return raw_data
        self.size += len(raw_data)
        if self.size > self.limit:
            self.too_large = True
            self._discard()
            raise StopUpload(connection_reset=False)
        self.out.write(raw_data)
        return None

    def file_complete(self, file_size):
        if self.out is None:
            return None
        self.out.close()
        self.out = None
        return ArchiveUpload(self.path, self.file_name, self.size)

    def upload_interrupted(self):
        self._discard()

    def _discard(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def purge_old_archives(now=None) -> int:
    """Remove export archives past the retention period (their job rows stay, without the file) and uploads
    a crashed worker left behind. Returns how many files were removed."""
    from tenants.models import TenantJob

    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days())
    removed = 0
    jobs = TenantJob.objects.filter(kind=TenantJob.Kind.EXPORT, finished_at__lt=cutoff).exclude(file_path="")
    for job in jobs:
        path = resolve_in(archive_dir(), job.file_path)
        if path is not None:
            path.unlink(missing_ok=True)
            removed += 1
        TenantJob.objects.filter(pk=job.pk).update(file_path="", file_size=None)
    stale = time.time() - max(1, retention_days()) * 86400
    for folder in (upload_dir(), archive_dir()):
        for path in folder.iterdir():
            if path.is_file() and path.name.endswith((".upload", ".part")) and path.stat().st_mtime < stale:
                path.unlink(missing_ok=True)
                removed += 1
    return removed
