"""`manage.py tenant_create` provisions a municipality once, however often it is run."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from accounts.models import User
from tenants.models import Domain, Tenant
from tests.conftest import login


def _run(*args: str) -> str:
    out = StringIO()
    call_command("tenant_create", *args, stdout=out)
    return out.getvalue()


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def test_tenant_create_makes_schema_domain_and_first_admin_once(db):
    args = ["kiryu", "--name", "桐生テスト市", "--admin-email", "admin@kiryu.example.lg.jp",
            "--admin-staff-number", "K0001"]
    first = _run(*args)
    assert "作成しました" in first
    password = first.split("初期パスワード（この一度だけ表示します）: ")[1].split()[0]

    second = _run(*args)
    assert "既に存在します" in second
    assert "初期パスワード" not in second  # the password is shown once and never changed by a re-run

    tenant = Tenant.objects.get(slug="kiryu")
    assert Tenant.objects.filter(slug="kiryu").count() == 1
    assert list(Domain.objects.filter(tenant=tenant).values_list("domain", flat=True)) == ["kiryu.localhost"]
    assert tenant.schema_name == "t_kiryu" and _schema_exists("t_kiryu")
    connection.set_tenant(tenant)
    admins = User.objects.filter(role=User.Role.ADMIN)
    assert admins.count() == 1
    admin = admins.get()
    assert admin.staff_number == "K0001" and admin.check_password(password)
    assert admin.must_change_password
    connection.set_schema_to_public()

    client = Client(HTTP_HOST="kiryu.localhost")
    assert login(client, "admin@kiryu.example.lg.jp", password).status_code == 302


def test_a_re_run_completes_a_missing_administrator(db):
    _run("ota", "--name", "太田テスト市")
    tenant = Tenant.objects.get(slug="ota")
    connection.set_tenant(tenant)
    assert not User.objects.exists()
    connection.set_schema_to_public()
    out = _run("ota", "--name", "太田テスト市", "--admin-email", "a@ota.example.lg.jp",
               "--admin-staff-number", "O1", "--admin-password", "Ota#Shiyakusho2026")
    assert "最初の管理者: O1" in out
    connection.set_tenant(tenant)
    assert User.objects.get(staff_number="O1").role == User.Role.ADMIN


@pytest.mark.parametrize("slug", ["public", "demo.a", "a", "has_underscore", "9lead", "www", "日本語", "trailing-"])
def test_bad_or_reserved_slugs_are_refused_in_japanese(db, slug):
    before = Tenant.objects.count()
    with pytest.raises(CommandError) as excinfo:
        _run(slug, "--name", "テスト")
    assert "識別子" in str(excinfo.value)
    assert Tenant.objects.count() == before


def test_tenant_create_requires_both_admin_identifiers(db):
    with pytest.raises(CommandError) as excinfo:
        _run("numata", "--name", "沼田テスト市", "--admin-email", "x@numata.example.lg.jp")
    assert "職員番号" in str(excinfo.value)


def test_seeding_again_changes_nothing(db):
    from tenants.demo import seed_demo

    before = Tenant.objects.count()
    assert seed_demo() is False
    assert Tenant.objects.count() == before
