"""Every admin URL: a general user gets 403 (logged), another municipality's admin gets nothing of ours."""

import pytest
from django.db import connection
from django.urls import get_resolver

from audit.models import AuditEvent
from tests.conftest import login


def admin_paths() -> list[str]:
    """Every URL under /manage/, read from the URL conf, with sample values for its parameters."""
    import re

    resolver = get_resolver("config.urls_tenant")
    paths = []
    for pattern in resolver.url_patterns:
        if str(pattern.pattern) == "manage/":
            for sub in pattern.url_patterns:
                route = re.sub(r"<int:[^>]+>", "1", str(sub.pattern))
                paths.append("/manage/" + re.sub(r"<(str:)?[^>]+>", "sometoken", route))
    return paths


ADMIN_PATHS = admin_paths()


def test_the_admin_area_has_the_screens_we_expect():
    assert {"/manage/", "/manage/security/", "/manage/models/", "/manage/users/", "/manage/users/import/",
            "/manage/groups/", "/manage/usage/", "/manage/logs/prompts/",
            "/manage/logs/operations/"} <= set(ADMIN_PATHS)


@pytest.mark.parametrize("path", ADMIN_PATHS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_general_user_gets_403_on_every_admin_url_and_it_is_logged(client_a, tenant_a, path, method):
    login(client_a, "A002", "Shokuin#Demo2026")
    response = getattr(client_a, method)(path, {"action": "add_word", "word": "x"} if method == "post" else None)
    assert response.status_code == 403
    connection.set_tenant(tenant_a)
    assert AuditEvent.objects.filter(action="access.denied", target=path).exists()
    from guard.models import BannedWord

    assert not BannedWord.objects.filter(word="x").exists()


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_an_admin_of_another_municipality_cannot_use_our_admin_urls(client_a, client_b, path):
    login(client_b, "B001", "Kanri#Demo2026")
    assert client_b.get("/manage/").status_code == 200  # at home, the admin may
    stolen = client_b.cookies["sessionid"].value
    client_a.cookies["sessionid"] = stolen
    response = client_a.get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
