"""Export files hold full prompts and answers: they are deleted after the retention period."""

import datetime as dt

from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit.exports import purge_old_exports
from audit.models import ExportJob


def test_old_export_files_are_deleted_and_recent_ones_kept(tenant_a):
    connection.set_tenant(tenant_a)
    folder = settings.MEDIA_ROOT / "exports" / tenant_a.schema_name
    folder.mkdir(parents=True, exist_ok=True)
    old_file, new_file = folder / "old-test.csv", folder / "new-test.csv"
    old_file.write_text("old")
    new_file.write_text("new")
    old = ExportJob.objects.create(kind="prompts", format="csv", state="done", file_size=3,
                                   file_path=str(old_file.relative_to(settings.MEDIA_ROOT)),
                                   created_at=timezone.now() - dt.timedelta(days=8))
    new = ExportJob.objects.create(kind="prompts", format="csv", state="done", file_size=3,
                                   file_path=str(new_file.relative_to(settings.MEDIA_ROOT)))
    assert purge_old_exports(days=7) == 1
    assert not old_file.exists() and new_file.exists()
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.file_path == "" and new.file_path
    new_file.unlink()
