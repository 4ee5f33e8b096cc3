"""Shared helpers for the learning-area tests."""

from __future__ import annotations

from django.db import connection

from tests.conftest import login

ADMIN = ("A001", "Kanri#Demo2026")
STAFF = ("A002", "Shokuin#Demo2026")
STAFF2 = ("A003", "Shokuin#Demo2026")


def as_admin(client):
    login(client, *ADMIN)
    return client


def as_staff(client, who=STAFF):
    login(client, *who)
    return client


def user(tenant, staff_number: str):
    from accounts.models import User

    connection.set_tenant(tenant)
    return User.objects.get(staff_number=staff_number)
