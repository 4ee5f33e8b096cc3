"""環境の引き継ぎ: demo-a exported and taken in under a new slug is the same environment, log-ins included."""

from __future__ import annotations

import hashlib
import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.test import Client

from tenants.archive import export_tenant, import_archive
from tenants.archive import schema as archive_schema
from tenants.crossing import in_tenant
from tenants.models import DailyUsageSummary, MonthlyUsage, OperatorAuditEvent, Tenant
from tests.conftest import login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def populate(tenant: Tenant) -> None:
    """Everything a municipality accumulates: groups with permissions, a knowledge base with its original file,
    passages with embeddings and the lexical index, a tip with an image, the board, a conversation, usage."""
    from accounts.models import User
    from audit.services import record
    from chat.models import Conversation, Message
    from rag.models import Chunk, Collection, Document
    from training.models import Post, Thread, Tip, TipImage

    with in_tenant(tenant):
        admin = User.objects.get(staff_number="A001")
        staff = User.objects.get(staff_number="A002")
        group = Group.objects.create(name="市民課")
        group.permissions.add(*Permission.objects.filter(codename__in=["view_group", "change_group"]))
        staff.groups.add(group)
        staff.user_permissions.add(Permission.objects.get(codename="view_permission"))
        collection = Collection.objects.create(name="例規集", owner=admin, access=Collection.Access.ALL)
        document = Document(collection=collection, title="住民票の手引き", original_name="手引き.pdf",
                            content_hash="ab" * 32, state=Document.State.READY, chunk_count=3, created_by=admin)
        document.file.save("手引き.pdf", ContentFile(b"%PDF-1.4 " + bytes(range(256)) * 40), save=True)
        Chunk.objects.bulk_create([
            Chunk(document=document, collection=collection, ordinal=n, text=f"住民票の写しの交付 {n}",
                  heading_path=["手引き", f"第{n}章"], page=n + 1,
                  embedding=[((n + 1) * k % 17) / 17 for k in range(384)])
            for n in range(3)
        ])
        with connection.cursor() as cursor:
            cursor.execute("UPDATE rag_chunk SET lexical = to_tsvector('simple', text)")
        image_path = f"training/{tenant.schema_name}/tip.png"
        (Path(django_settings.MEDIA_ROOT) / image_path).parent.mkdir(parents=True, exist_ok=True)
        (Path(django_settings.MEDIA_ROOT) / image_path).write_bytes(PNG)
        image = TipImage.objects.create(file_path=image_path, content_type="image/png", size=len(PNG),
                                        uploaded_by=admin)
        Tip.objects.create(title="要約のコツ", body=f"![図](/learn/images/{image.pk}/)", author=admin, published=True)
        thread = Thread.objects.create(title="質問", author=staff, last_posted_at="2026-01-05T09:00:00+09:00")
        Post.objects.create(thread=thread, author=staff, body="議事録の要約はどう頼めばよいですか")
        conversation = Conversation.objects.create(owner=staff, title="案内文")
        Message.objects.create(conversation=conversation, role="user", content="案内文を丁寧にしてください")
        Message.objects.create(conversation=conversation, role="assistant", content="承知しました。", chars=7)
        for n in range(3):
            record(action="login", actor=staff, target=f"user:{staff.staff_number}", detail={"n": n},
                   ip_address="10.0.0.1")
    MonthlyUsage.objects.create(tenant=tenant, month="2026-01-01", used_chars=1234, cost_yen="5.5000", prompts=7)
    DailyUsageSummary.objects.create(tenant=tenant, day="2026-01-05", chars=1234, prompts=7, cost_yen="5.5000",
                                     active_users=2, pii_by_type={"phone": 1}, users=3)
    Tenant.objects.filter(pk=tenant.pk).update(monthly_char_cap=777_000, monthly_price_cap_yen=9000,
                                               allowed_models=["gpt-4o"])


def row_counts(tenant: Tenant) -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in archive_schema.schema_tables(cursor, tenant.schema_name):
            if table in archive_schema.EXCLUDED_TABLES:
                continue
            cursor.execute(f'SELECT count(*) FROM "{tenant.schema_name}"."{table}"')  # noqa: S608 - catalogue names
            counts[table] = cursor.fetchone()[0]
    return counts


def media_checksums(tenant: Tenant) -> dict[str, str]:
    """Each referenced file's checksum, keyed by its path with the schema folder taken out."""
    root = Path(django_settings.MEDIA_ROOT)
    with in_tenant(tenant), connection.cursor() as cursor:
        inside, _ = archive_schema.file_paths(cursor, tenant.schema_name)
    return {path.replace(f"/{tenant.schema_name}/", "/<schema>/"): sha(root / path) for path in inside}


def test_export_then_import_under_a_new_slug_is_the_same_environment(tenant_a, media, tmp_path):
    populate(tenant_a)
    archive = tmp_path / "demo-a.tar.gz"
    exported = export_tenant(tenant_a, archive)
    assert exported["files"] == 2 and exported["rows"] > 0 and archive.is_file()

    figures = import_archive(archive, slug="demo-copy", name="あかぎ市（複製）")
    copy = Tenant.objects.get(slug="demo-copy")
    assert figures["tenant_id"] == copy.pk and copy.name == "あかぎ市（複製）"
    assert copy.schema_name == "t_demo_copy" and copy.is_active

    # Every table holds as many rows as the original, and every file is there with the same bytes.
    assert row_counts(copy) == row_counts(tenant_a)
    original_files = media_checksums(tenant_a)
    assert len(original_files) == 2
    assert media_checksums(copy) == original_files

    # The plan and the month's counter came along (public schema).
    assert (copy.monthly_char_cap, copy.monthly_price_cap_yen, copy.allowed_models, copy.seat_cap) == (
        777_000, 9000, ["gpt-4o"], 50)
    # Other suites may have committed this month's prompts in demo-a too: those months come along as well.
    assert MonthlyUsage.objects.filter(tenant=copy).count() == MonthlyUsage.objects.filter(tenant=tenant_a).count()
    usage = MonthlyUsage.objects.get(tenant=copy, month="2026-01-01")
    assert (usage.used_chars, usage.prompts, str(usage.cost_yen)) == (1234, 7, "5.5000")
    daily = DailyUsageSummary.objects.get(tenant=copy, day="2026-01-05")
    assert (str(daily.day), daily.chars, daily.pii_by_type, daily.users) == ("2026-01-05", 1234, {"phone": 1}, 3)

    from accounts.models import User
    from rag.models import Chunk, Document
    from training.models import TipImage

    with in_tenant(tenant_a):
        original_vectors = list(Chunk.objects.order_by("id").values_list("embedding", "lexical"))
        original_users = list(User.objects.order_by("id").values_list("id", "staff_number", "password"))
        from audit.models import AuditEvent

        last_event_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    with in_tenant(copy):
        # Files point at the new municipality's own folders.
        document = Document.objects.get()
        assert document.file.name.startswith("rag/t_demo_copy/")
        assert (Path(django_settings.MEDIA_ROOT) / document.file.name).is_file()
        assert TipImage.objects.get().file_path.startswith("training/t_demo_copy/")
        # Vectors and the lexical index round-trip exactly; ids and password hashes are kept.
        vectors = list(Chunk.objects.order_by("id").values_list("embedding", "lexical"))
        assert [(list(v), lx) for v, lx in vectors] == [(list(v), lx) for v, lx in original_vectors]
        assert list(User.objects.order_by("id").values_list("id", "staff_number", "password")) == original_users
        # Permissions are matched by name, not by id.
        staff = User.objects.get(staff_number="A002")
        assert sorted(staff.groups.get().permissions.values_list("codename", flat=True)) == [
            "change_group", "view_group"]
        assert list(staff.user_permissions.values_list("codename", flat=True)) == ["view_permission"]
        # Sequences moved past the loaded ids: a new row gets a fresh id and the chain stays whole.
        from audit.services import record

        event = record(action="after.import", actor_label="test")
        assert event.pk == last_event_id + 1

    out = StringIO()
    call_command("audit_verify", "--tenant", "demo-copy", stdout=out)
    assert "OK" in out.getvalue()

    # Staff log in on the new host with the password they had.
    client = Client(HTTP_HOST="demo-copy.localhost")
    assert login(client, "A002", "Shokuin#Demo2026").status_code == 302
    assert client.get("/").status_code == 200

    # Both operations are in the operator's trail.
    actions = list(OperatorAuditEvent.objects.filter(target__in=["tenant:demo-a", "tenant:demo-copy"])
                   .values_list("action", flat=True))
    assert "tenant.export" in actions and "tenant.import" in actions


def test_the_archive_lists_every_member_with_a_checksum(tenant_a, media, tmp_path):
    archive = tmp_path / "a.tar.gz"
    export_tenant(tenant_a, archive)
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        import json

        manifest = json.loads(tar.extractfile("manifest.json").read())
        header = json.loads(tar.extractfile("akagi-archive.json").read())
    assert names[0] == "akagi-archive.json" and names[-1] == "manifest.json"
    assert header == {"format": "akagi-tenant-archive", "format_version": 1}
    assert set(manifest["files"]) == set(names) - {"manifest.json"}
    assert all(len(info["sha256"]) == 64 for info in manifest["files"].values())
    tables = {t["name"] for t in manifest["tables"]}
    assert {"accounts_user", "audit_auditevent", "rag_chunk", "prompts_prompttemplate"} <= tables
    assert "django_session" not in tables and "django_migrations" not in tables
    assert manifest["source"]["slug"] == "demo-a" and manifest["migrations"]["rag"]


def test_every_file_field_of_a_tenant_app_is_carried():
    from django.db.models import FileField

    listed = {(fc.table, fc.column) for fc in archive_schema.FILE_COLUMNS}
    labels = set(archive_schema.tenant_app_labels())
    for model in apps.get_models():
        if model._meta.app_label not in labels:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, FileField):
                assert (model._meta.db_table, field.column) in listed, f"{model.__name__}.{field.name}"


def _shift(copy_text: bytes, columns: list[str], shifted: set[str], by: int) -> bytes:
    """COPY text with ``by`` added to the integer columns ``shifted`` (as another deployment's ids would be)."""
    lines = []
    for line in copy_text.decode().splitlines():
        fields = line.split("\t")
        for n, column in enumerate(columns):
            if column in shifted and fields[n] != r"\N":
                fields[n] = str(int(fields[n]) + by)
        lines.append("\t".join(fields))
    return ("\n".join(lines) + "\n").encode() if lines else b""


def test_permissions_are_matched_by_name_when_ids_differ_between_deployments(tenant_a, media, tmp_path):
    """Another deployment may number its content types and permissions differently; the archive's group and
    user permissions are translated by (app, model, codename), never trusted by id."""
    import io
    import json

    with in_tenant(tenant_a):
        from accounts.models import User

        group = Group.objects.create(name="福祉課")
        group.permissions.add(*Permission.objects.filter(codename__in=["add_group", "delete_group"]))
        User.objects.get(staff_number="A003").user_permissions.add(Permission.objects.get(codename="view_group"))
    archive = tmp_path / "a.tar.gz"
    export_tenant(tenant_a, archive)
    with tarfile.open(archive, "r:gz") as tar:
        items = [(info.name, tar.extractfile(info).read()) for info in tar]
    manifest = json.loads(dict(items)["manifest.json"])
    columns = {t["member"]: t["columns"] for t in manifest["tables"]}
    shifts = {
        "tables/django_content_type.copy": {"id"},
        "tables/auth_permission.copy": {"id", "content_type_id"},
        "tables/auth_group_permissions.copy": {"permission_id"},
        "tables/accounts_user_user_permissions.copy": {"permission_id"},
    }
    shifted_items = []
    for name, data in items:
        if name in shifts:
            data = _shift(data, columns[name], shifts[name], 1000)
        if name != "manifest.json":
            manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        shifted_items.append((name, data))
    other = tmp_path / "other-deployment.tar.gz"
    with tarfile.open(other, "w:gz") as tar:
        for name, data in shifted_items:
            data = json.dumps(manifest).encode() if name == "manifest.json" else data
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    import_archive(other, slug="demo-other")
    copy = Tenant.objects.get(slug="demo-other")
    with in_tenant(copy):
        from accounts.models import User

        assert sorted(Group.objects.get(name="福祉課").permissions.values_list("codename", flat=True)) == [
            "add_group", "delete_group"]
        assert list(User.objects.get(staff_number="A003").user_permissions.values_list("codename", flat=True)) == [
            "view_group"]
        assert Permission.objects.filter(pk__gt=1000).count() == 0  # this deployment's own ids were kept
