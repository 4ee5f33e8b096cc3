"""研修環境: the operator puts a training municipality back to a fresh demo state, by button or command."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from tenants.models import MonthlyUsage, OperatorAuditEvent, Tenant, TenantJob
from tenants.plans import set_plan
from tenants.services import create_tenant
from tenants.training_env import ADMIN_STAFF_NUMBER, SAMPLE_COLLECTION, reset_training_tenant
from tests.conftest import login

HOST = "kenshu.localhost"
OPERATOR = ("PREF-0001", "Unei#Demo2026")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def training_tenant(db, media) -> Tenant:
    tenant = create_tenant(slug="kenshu", name="研修市", admin_email="admin@kenshu.example.lg.jp",
                           admin_staff_number="K001", admin_password="Kenshu#Admin2026", seat_cap=20).tenant
    set_plan(tenant=tenant, changes={"is_training": True})
    return tenant


def _fill_with_practice_data(tenant: Tenant) -> None:
    """What a previous 研修会 leaves behind: a user, a conversation, a private template, a tip, a document."""
    from accounts.models import User
    from accounts.services import create_user
    from chat.models import Conversation
    from prompts.models import PromptTemplate
    from rag.models import Collection
    from rag.services import add_file, save_collection
    from training.services import save_tip

    connection.set_tenant(tenant)
    admin = User.objects.get(staff_number="K001")
    old = create_user(staff_number="OLD1", email="old1@kenshu.example.lg.jp", password="Furui#Kenshu2026")
    Conversation.objects.create(owner=old, title="前回の練習")
    PromptTemplate.objects.create(title="前回の自作テンプレート", body="本文", owner=old, scope="private")
    save_tip(actor=admin, title="前回のTIPS", body="前回の本文", published=True)
    collection = save_collection(actor=admin, name="前回のナレッジ", access=Collection.Access.ALL)
    add_file(actor=admin, collection=collection, filename="前回.txt", data="前回の練習で使った文書です。".encode())
    connection.set_schema_to_public()
    from usage.quota import current_month

    MonthlyUsage.objects.update_or_create(tenant=tenant, month=current_month(),
                                          defaults={"used_chars": 12_345, "prompts": 7})


def test_after_a_reset_the_old_data_is_gone_and_a_fresh_demo_state_is_there(training_tenant, media):
    from accounts.models import User
    from chat.models import Conversation
    from prompts.models import PromptTemplate
    from prompts.seed import STARTER_TEMPLATES
    from rag.models import Collection, Document
    from training.models import Thread, Tip

    _fill_with_practice_data(training_tenant)
    old_files = list((media / "rag" / "t_kenshu").rglob("*.txt"))
    assert old_files

    steps = []
    result = reset_training_tenant(tenant=training_tenant, trainees=3, report=lambda p, s="": steps.append(p))
    assert steps == sorted(steps) and steps[-1] >= 95

    connection.set_tenant(training_tenant)
    assert not User.objects.filter(staff_number__in=["K001", "OLD1"]).exists()
    assert sorted(User.objects.values_list("staff_number", flat=True)) == [
        "KENSHU-01", "KENSHU-02", "KENSHU-03", ADMIN_STAFF_NUMBER]
    assert User.objects.get(staff_number=ADMIN_STAFF_NUMBER).role == User.Role.ADMIN
    assert not Conversation.objects.exists()
    titles = set(PromptTemplate.objects.values_list("title", flat=True))
    assert titles == {t["title"] for t in STARTER_TEMPLATES}  # the starter library, and nothing else
    assert not Tip.objects.filter(title="前回のTIPS").exists() and Tip.objects.filter(published=True).count() == 3
    assert Thread.objects.count() == 1
    collection = Collection.objects.get()
    assert collection.name == SAMPLE_COLLECTION and collection.access == Collection.Access.ALL
    document = Document.objects.get(collection=collection)
    assert document.id == result.sample_document_id and document.original_name.endswith(".md")
    assert "架空の資料" in document.file.read().decode("utf-8")
    connection.set_schema_to_public()

    assert not any(path.exists() for path in old_files)  # the previous 研修会's files went with it
    usage = MonthlyUsage.objects.get(tenant=training_tenant)
    assert usage.used_chars == 0 and usage.prompts == 0
    event = OperatorAuditEvent.objects.get(action="tenant.training_reset", target="tenant:kenshu")
    assert event.detail["removed"]["users"] == 2 and event.detail["removed"]["documents"] == 1
    assert result.admin_password not in str(event.detail) and result.trainee_password not in str(event.detail)
    assert Tenant.objects.get(pk=training_tenant.pk).slug == "kenshu"  # the row, domain and plan stay


def test_trainees_and_the_training_admin_log_in_with_the_training_passwords(training_tenant):
    result = reset_training_tenant(tenant=training_tenant, trainees=2)
    trainee = Client(HTTP_HOST=HOST)
    response = login(trainee, "KENSHU-02", result.trainee_password)
    assert response.status_code == 302
    assert trainee.get("/").status_code == 200  # no forced password change in the way of the 研修会
    admin = Client(HTTP_HOST=HOST)
    assert login(admin, ADMIN_STAFF_NUMBER, result.admin_password).status_code == 302
    assert admin.get("/manage/").status_code == 200
    assert login(Client(HTTP_HOST=HOST), "K001", "Kenshu#Admin2026").status_code == 200  # the old admin is gone


def test_the_sample_document_is_ingested_through_the_normal_path(training_tenant):
    from rag import ingest
    from rag.models import Document

    result = reset_training_tenant(tenant=training_tenant, trainees=1)
    connection.set_tenant(training_tenant)
    document = Document.objects.get(pk=result.sample_document_id)
    assert document.state == Document.State.QUEUED  # queued after commit, like every upload
    ingest.run(document.pk)  # what the worker runs
    document.refresh_from_db()
    assert document.state == Document.State.READY and document.chunk_count >= 1
    assert document.chunks.filter(text__contains="粗大ごみ").exists()


def test_a_municipality_that_is_not_a_training_environment_is_refused(tenant_a):
    from accounts.models import User

    connection.set_tenant(tenant_a)
    before = User.objects.count()
    connection.set_schema_to_public()
    with pytest.raises(ValidationError) as excinfo:
        reset_training_tenant(tenant=tenant_a, trainees=1)
    assert "研修環境ではないため初期化できません" in " ".join(excinfo.value.messages)
    connection.set_tenant(tenant_a)
    assert User.objects.count() == before and User.objects.filter(staff_number="A001").exists()
    connection.set_schema_to_public()
    assert not OperatorAuditEvent.objects.filter(action="tenant.training_reset", target="tenant:demo-a").exists()


def test_the_seat_cap_is_checked_before_anything_is_removed(training_tenant):
    from accounts.models import User

    with pytest.raises(ValidationError) as excinfo:
        reset_training_tenant(tenant=training_tenant, trainees=25)
    assert "利用者数の上限（20名）" in " ".join(excinfo.value.messages)
    connection.set_tenant(training_tenant)
    assert User.objects.filter(staff_number="K001").exists()


def test_the_command_resets_and_prints_the_accounts(training_tenant):
    out = StringIO()
    call_command("tenant_reset_training", "kenshu", "--trainees", "2", "--password", "Kenshu#Jukou2026",
                 "--noinput", stdout=out)
    text = out.getvalue()
    assert "初期状態に戻しました" in text and "KENSHU-01〜KENSHU-02" in text and "Kenshu#Jukou2026" in text
    admin_password = re.search(r"研修用の管理者: KENSHU-ADMIN  パスワード: (\S+)", text).group(1)
    assert login(Client(HTTP_HOST=HOST), "KENSHU-01", "Kenshu#Jukou2026").status_code == 302
    assert login(Client(HTTP_HOST=HOST), ADMIN_STAFF_NUMBER, admin_password).status_code == 302


def test_the_command_refuses_a_municipality_in_daily_use(db):
    with pytest.raises(CommandError) as excinfo:
        call_command("tenant_reset_training", "demo-a", "--noinput", stdout=StringIO())
    assert "研修環境ではないため" in str(excinfo.value)


def test_the_console_button_starts_a_job_whose_page_shows_the_passwords_once(training_tenant, public_client):
    from tenants.tasks.training import reset_training

    login(public_client, *OPERATOR)
    listing = public_client.get("/console/training/").content.decode()
    assert "研修市" in listing and 'href="/console/training/kenshu/reset/"' in listing
    assert "あかぎ市" not in listing  # only training municipalities are listed

    confirm = public_client.get("/console/training/kenshu/reset/")
    assert confirm.status_code == 200 and "元に戻せません" in confirm.content.decode()
    unconfirmed = public_client.post("/console/training/kenshu/reset/", {"trainees": "2"})
    assert unconfirmed.status_code == 200 and "チェックを入れてください" in unconfirmed.content.decode()
    assert not TenantJob.objects.filter(kind=TenantJob.Kind.RESET_TRAINING).exists()

    response = public_client.post("/console/training/kenshu/reset/", {"trainees": "2", "confirm": "1"})
    job = TenantJob.objects.filter(kind=TenantJob.Kind.RESET_TRAINING).latest("id")
    assert response.status_code == 302 and response["Location"] == f"/console/jobs/{job.pk}/"
    assert job.tenant == training_tenant and job.params == {"trainees": 2}

    reset_training(job.pk)  # what the worker does once the request's transaction commits
    job.refresh_from_db()
    assert job.state == TenantJob.State.DONE, job.error
    assert job.result["trainees"] == ["KENSHU-01", "KENSHU-02"]
    page = public_client.get(f"/console/jobs/{job.pk}/").content.decode()
    password = re.search(r"受講者 KENSHU-01〜KENSHU-02（2名共通）: (\S+)</code>", page).group(1)
    assert login(Client(HTTP_HOST=HOST), "KENSHU-01", password).status_code == 302
    assert password not in public_client.get(f"/console/jobs/{job.pk}/").content.decode()  # shown once
    assert password not in str(job.result) and password not in str(job.params)
    assert OperatorAuditEvent.objects.filter(action="tenant.training_reset", target="tenant:kenshu").exists()


def test_the_console_does_not_offer_to_reset_a_municipality_in_daily_use(public_client):
    login(public_client, *OPERATOR)
    assert public_client.get("/console/training/demo-a/reset/").status_code == 404
    assert public_client.post("/console/training/demo-a/reset/", {"trainees": "1", "confirm": "1"}).status_code == 404
    assert not TenantJob.objects.filter(kind=TenantJob.Kind.RESET_TRAINING, tenant_slug="demo-a").exists()


@pytest.mark.parametrize(("who", "password"), [("A001", "Kanri#Demo2026"), ("A002", "Shokuin#Demo2026")])
def test_municipality_staff_cannot_reach_the_training_console(client_a, who, password):
    login(client_a, who, password)
    assert client_a.get("/console/training/").status_code == 404
    assert client_a.post("/console/training/demo-a/reset/", {"trainees": "1", "confirm": "1"}).status_code == 404
