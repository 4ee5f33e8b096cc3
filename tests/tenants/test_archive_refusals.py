"""A bad archive is refused with a Japanese reason and leaves nothing behind: no tenant, no schema, no files."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tenants.archive import ArchiveError, export_tenant, import_archive
from tenants.models import Domain, OperatorAuditEvent, Tenant

SLUG = "kiryu-copy"
SCHEMA = "t_kiryu_copy"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def archive(tenant_a, media, tmp_path) -> Path:
    """demo-a with one tip image on disk, exported."""
    from accounts.models import User
    from tenants.crossing import in_tenant
    from training.models import TipImage

    with in_tenant(tenant_a):
        relative = f"training/{tenant_a.schema_name}/tip.png"
        (media / relative).parent.mkdir(parents=True)
        (media / relative).write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x01" * 32)
        TipImage.objects.create(file_path=relative, content_type="image/png", size=40,
                                uploaded_by=User.objects.get(staff_number="A001"))
    path = tmp_path / "demo-a.tar.gz"
    export_tenant(tenant_a, path)
    return path


def members(path: Path) -> list[tuple[str, bytes]]:
    with tarfile.open(path, "r:gz") as tar:
        return [(info.name, tar.extractfile(info).read()) for info in tar]


def write(path: Path, items: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in items:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def rewrite(path: Path, out: Path, change, *, fix_checksums: bool = False) -> Path:
    """The archive with ``change(name, data) -> data`` applied; optionally with the manifest made to agree."""
    items = [(name, change(name, data)) for name, data in members(path)]
    if fix_checksums:
        manifest = json.loads(dict(items)["manifest.json"])
        for name, data in items:
            if name != "manifest.json":
                manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        items = [(n, json.dumps(manifest).encode() if n == "manifest.json" else d) for n, d in items]
    return write(out, items)


def flip_first_byte(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


def assert_nothing_created(media: Path) -> None:
    assert not Tenant.objects.filter(slug=SLUG).exists()
    assert not Domain.objects.filter(domain=f"{SLUG}.localhost").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [SCHEMA])
        assert cursor.fetchone() is None
    assert not any(part == SCHEMA for path in media.rglob("*") for part in path.parts)


def refused(path: Path, slug: str = SLUG) -> str:
    with pytest.raises(ArchiveError) as excinfo:
        import_archive(path, slug=slug)
    return str(excinfo.value)


def test_a_member_changed_by_one_byte_is_refused_and_nothing_is_created(archive, media, tmp_path):
    tampered = rewrite(archive, tmp_path / "t.tar.gz",
                       lambda n, d: flip_first_byte(d) if n == "tables/accounts_user.copy" else d)
    message = refused(tampered)
    assert "一致しません" in message and "tables/accounts_user.copy" in message
    assert_nothing_created(media)
    assert OperatorAuditEvent.objects.filter(action="tenant.import_failed", target=f"tenant:{SLUG}").exists()


def test_a_changed_media_file_is_refused(archive, media, tmp_path):
    tampered = rewrite(archive, tmp_path / "t.tar.gz",
                       lambda n, d: flip_first_byte(d) if n.startswith("media/") else d)
    assert "media/training/t_demo_a/tip.png" in refused(tampered)
    assert_nothing_created(media)


def test_a_changed_manifest_is_refused(archive, media, tmp_path):
    def change(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        info = manifest["files"]["tables/accounts_user.copy"]
        info["sha256"] = ("0" if info["sha256"][0] != "0" else "1") + info["sha256"][1:]
        return json.dumps(manifest).encode()

    assert "一致しません" in refused(rewrite(archive, tmp_path / "t.tar.gz", change))
    assert_nothing_created(media)


def test_a_truncated_or_foreign_file_is_refused(archive, media, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert "壊れて" in refused(cut)
    text = tmp_path / "notes.tar.gz"
    text.write_text("これはアーカイブではありません")
    assert "壊れて" in refused(text)
    other = write(tmp_path / "other.tar.gz", [("readme.txt", b"hello")])
    assert "Akagi の環境アーカイブではありません" in refused(other)
    assert_nothing_created(media)


def test_a_newer_format_version_is_refused_before_anything_else(archive, media, tmp_path):
    newer = json.dumps({"format": "akagi-tenant-archive", "format_version": 2}).encode()
    path = rewrite(archive, tmp_path / "v2.tar.gz", lambda n, d: newer if n == "akagi-archive.json" else d,
                   fix_checksums=True)
    message = refused(path)
    assert "第2版" in message and "更新" in message
    assert_nothing_created(media)


def test_an_archive_of_another_code_version_is_refused(archive, media, tmp_path):
    def change(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["migrations"]["rag"] = ["0099_future"]
        return json.dumps(manifest).encode()

    message = refused(rewrite(archive, tmp_path / "m.tar.gz", change))
    assert "マイグレーション" in message and "rag" in message
    assert_nothing_created(media)


def test_an_existing_slug_is_refused_and_left_untouched(archive, media, tenant_a):
    from accounts.models import User
    from tenants.crossing import in_tenant

    with in_tenant(tenant_a):
        users = User.objects.count()
    message = refused(archive, slug="demo-a")
    assert "既に存在します" in message
    with in_tenant(tenant_a):
        assert User.objects.count() == users
    assert "識別子" in refused(archive, slug="Bad_Slug")


def test_a_path_outside_the_municipality_folder_is_refused(archive, media, tmp_path):
    def change(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["media"][0]["path"] = "training/t_demo_a/../../../etc/x"
        return json.dumps(manifest).encode()

    assert "使えない名前" in refused(rewrite(archive, tmp_path / "p.tar.gz", change))
    evil = write(tmp_path / "evil.tar.gz", [("akagi-archive.json", b'{"format": "akagi-tenant-archive", '
                                             b'"format_version": 1}'), ("../escape", b"x")])
    assert "使えない名前" in refused(evil)
    assert not (tmp_path / "escape").exists()
    assert_nothing_created(media)


def test_a_failure_half_way_drops_the_new_schema(archive, media, tmp_path):
    """Checksums updated to match, so verification passes; the load fails and everything is undone."""
    def corrupt(name, data):
        if name == "tables/accounts_user.copy":
            return data.replace(b"\t", b"\tnot-a-column\t", 1)
        return data

    message = refused(rewrite(archive, tmp_path / "c.tar.gz", corrupt, fix_checksums=True))
    assert "accounts_user" in message and "何も作成していません" in message
    assert_nothing_created(media)


def test_a_failure_after_files_were_copied_removes_them(archive, media, tmp_path):
    """The usage counters are written after the files; one the database refuses (a negative count) undoes the
    database and removes the copied files."""
    bad = b'[{"month": "2026-01-01", "used_chars": -5, "cost_yen": "0", "prompts": 0}]'
    path = rewrite(archive, tmp_path / "u.tar.gz", lambda n, d: bad if n == "public/monthly_usage.json" else d,
                   fix_checksums=True)
    assert "利用量" in refused(path)
    assert_nothing_created(media)
    assert (Path(django_settings.MEDIA_ROOT) / "training" / "t_demo_a" / "tip.png").is_file()


def test_a_broken_plan_is_refused_before_anything_is_created(archive, media, tmp_path):
    path = rewrite(archive, tmp_path / "plan.tar.gz",
                   lambda n, d: b'{"seat_cap": "many"}' if n == "public/tenant.json" else d, fix_checksums=True)
    assert "プラン" in refused(path)
    assert_nothing_created(media)


def test_a_row_count_that_disagrees_with_the_manifest_is_refused(archive, media, tmp_path):
    def change(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        next(t for t in manifest["tables"] if t["name"] == "accounts_user")["rows"] += 1
        return json.dumps(manifest).encode()

    assert "件数が目録と一致しません" in refused(rewrite(archive, tmp_path / "r.tar.gz", change))
    assert_nothing_created(media)
