"""Repeated failures lock the identifier for a while; other users and other municipalities are unaffected."""

from audit.models import AuditEvent
from tests.conftest import login

LOCKED = "ログインの失敗が続いたため"


def _fail(client, identifier: str, times: int) -> None:
    for attempt in range(times):
        response = login(client, identifier, f"wrong-password-{attempt}")
        assert response.status_code == 200


def test_after_five_failures_even_the_right_password_is_refused(client_a):
    _fail(client_a, "A002", 5)
    response = login(client_a, "A002", "Shokuin#Demo2026")
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert client_a.get("/").status_code == 302


def test_four_failures_do_not_lock(client_a):
    _fail(client_a, "A002", 4)
    assert login(client_a, "A002", "Shokuin#Demo2026").status_code == 302


def test_lockout_of_one_user_leaves_colleagues_able_to_log_in(client_a):
    _fail(client_a, "A002", 6)
    assert login(client_a, "A003", "Shokuin#Demo2026").status_code == 302


def test_lockout_in_one_municipality_does_not_lock_the_same_number_elsewhere(client_a, client_b):
    from django.test import Client

    # demo-b has no A002, but a same-named identifier must not be throttled across hosts: use B002 on both.
    other_host_same_identifier = Client(HTTP_HOST="demo-c.localhost")
    _fail(other_host_same_identifier, "B002", 6)
    assert login(client_b, "B002", "Shokuin#Demo2026").status_code == 302


def test_lockout_is_audited(client_a, tenant_a):
    from django.db import connection

    _fail(client_a, "A003", 5)
    login(client_a, "A003", "Shokuin#Demo2026")
    connection.set_tenant(tenant_a)
    assert AuditEvent.objects.filter(action="login.locked", target="A003").exists()
