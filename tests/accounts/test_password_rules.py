"""Passwords: long enough, not common, not only digits, not the staff number."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts import services
from accounts.models import User


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Ab#12345", "短すぎます"),
        ("password1234", "一般的すぎます"),
        ("20261125123456", "数字しか使われていません"),
        ("xyzN0077abc#", "職員番号を含める"),
    ],
)
def test_weak_passwords_are_refused_in_japanese(tenant_a, password, expected):
    connection.set_tenant(tenant_a)
    with pytest.raises(ValidationError) as excinfo:
        services.create_user(staff_number="N0077", email="n77@city.akagi.example.jp", password=password)
    assert any(expected in message for message in excinfo.value.message_dict["password"])
    assert not User.objects.filter(staff_number="N0077").exists()


def test_a_good_password_is_accepted_and_stored_hashed(tenant_a):
    connection.set_tenant(tenant_a)
    user = services.create_user(staff_number="N0078", email="n78@city.akagi.example.jp", password="Haruna#Lake2026")
    assert user.password.startswith("pbkdf2_sha256$")
    assert user.check_password("Haruna#Lake2026")
