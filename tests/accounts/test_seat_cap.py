"""Creating or re-enabling users beyond the municipality's seat cap is refused, with nothing half-done."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts import services
from accounts.models import User
from accounts.queries import seat_usage
from tenants.models import Tenant


@pytest.fixture
def tenant_a_with_cap(tenant_a):
    def set_cap(cap):
        Tenant.objects.filter(pk=tenant_a.pk).update(seat_cap=cap)
        tenant_a.refresh_from_db()
        connection.set_tenant(tenant_a)
        return tenant_a

    return set_cap


def _new_user(n: int, **extra) -> User:
    return services.create_user(
        staff_number=f"N{n:04d}", email=f"new{n}@city.akagi.example.jp", password="Atarashii#Pass2026", **extra
    )


def test_creating_a_user_beyond_the_cap_is_refused_with_a_clear_message(tenant_a_with_cap):
    tenant_a_with_cap(3)  # demo-a already has 3 active users
    with pytest.raises(services.SeatCapExceeded) as excinfo:
        _new_user(1)
    message = " ".join(excinfo.value.messages)
    assert "上限（3名）" in message
    assert "県の運営担当" in message
    assert not User.objects.filter(staff_number="N0001").exists()


def test_a_free_seat_allows_exactly_one_more_user(tenant_a_with_cap):
    tenant_a_with_cap(4)
    _new_user(1)
    with pytest.raises(services.SeatCapExceeded):
        _new_user(2)
    assert seat_usage().used == 4


def test_disabled_users_do_not_take_seats_but_re_enabling_needs_one(tenant_a_with_cap):
    tenant_a_with_cap(3)
    sato = User.objects.get(staff_number="A002")
    services.set_active(user=sato, active=False)
    newcomer = _new_user(1)
    with pytest.raises(services.SeatCapExceeded):
        services.set_active(user=sato, active=True)
    sato.refresh_from_db()
    assert sato.is_active is False
    services.set_active(user=newcomer, active=False)
    services.set_active(user=sato, active=True)
    assert User.objects.get(staff_number="A002").is_active


def test_an_unlimited_plan_accepts_any_number_of_users(tenant_a_with_cap):
    tenant_a_with_cap(None)
    for n in range(5):
        _new_user(n)
    usage = seat_usage()
    assert usage.unlimited and usage.used == 8


def test_inactive_users_can_be_registered_when_the_cap_is_full(tenant_a_with_cap):
    tenant_a_with_cap(3)
    user = _new_user(1, is_active=False)
    assert user.pk and not user.is_active


def test_seat_usage_is_shown_to_admins(client_a, tenant_a_with_cap):
    from tests.conftest import login

    tenant_a_with_cap(10)
    connection.set_schema_to_public()
    login(client_a, "A001", "Kanri#Demo2026")
    body = client_a.get("/manage/").content.decode()
    assert "有効な利用者 <strong>3</strong> 名 / 上限 <strong>10</strong> 名" in body


def test_duplicate_staff_number_or_email_in_the_same_municipality_is_refused(tenant_a):
    connection.set_tenant(tenant_a)
    with pytest.raises(ValidationError) as excinfo:
        services.create_user(staff_number="a002", email="other@city.akagi.example.jp", password="Atarashii#Pass2026")
    assert "職員番号「A002」はすでに登録されています。" in excinfo.value.message_dict["staff_number"]
    with pytest.raises(ValidationError) as excinfo:
        services.create_user(staff_number="N0009", email="SATO@city.akagi.example.jp", password="Atarashii#Pass2026")
    assert "email" in excinfo.value.message_dict
