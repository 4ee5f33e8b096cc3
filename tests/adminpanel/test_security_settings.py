"""Administrators set the screening policy and banned words; staff feel the change on the next prompt."""

from django.db import connection

from audit.models import AuditEvent
from guard.models import BannedWord, PiiPolicy
from tests.conftest import login


def _admin(client):
    login(client, "A001", "Kanri#Demo2026")
    return client


def test_admin_changes_a_policy_and_it_is_audited(client_a, tenant_a):
    admin = _admin(client_a)
    page = admin.get("/manage/security/")
    assert page.status_code == 200 and "個人情報の対応方針" in page.content.decode()
    form = {"action": "policy", **{f"policy_{t}": "block" for t in (
        "person_name", "address", "phone", "email", "birth_date", "my_number", "credit_card", "bank_account",
        "pension_number", "drivers_license", "passport", "resident_code")}}
    form["policy_phone"] = "mask"
    response = admin.post("/manage/security/", form)
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    assert PiiPolicy.objects.get(pii_type="phone").action == "mask"
    event = AuditEvent.objects.filter(action="guard.policy").latest("id")
    assert event.detail["phone"] == {"before": "confirm", "after": "mask"}


def test_banned_words_import_from_a_shift_jis_csv_made_by_excel(client_a, tenant_a):
    admin = _admin(client_a)
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = "禁止語\r\n部外秘\r\n髙橋案件\r\n①番資料\r\n部外秘\r\n".encode("cp932")
    response = admin.post("/manage/security/", {
        "action": "import_words", "file": SimpleUploadedFile("words.csv", data, content_type="text/csv")})
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    assert sorted(BannedWord.objects.values_list("word", flat=True)) == sorted(["部外秘", "髙橋案件", "①番資料"])


def test_banned_words_import_from_utf8_with_bom_and_bad_file_is_refused_whole(client_a, tenant_a):
    admin = _admin(client_a)
    from django.core.files.uploadedfile import SimpleUploadedFile

    good = "\ufeff秘密計画\n".encode()
    admin.post("/manage/security/", {"action": "import_words",
                                     "file": SimpleUploadedFile("w.csv", good, content_type="text/csv")})
    bad = ("ok語\n" + "長" * 101 + "\n").encode()
    response = admin.post("/manage/security/", {"action": "import_words",
                                                "file": SimpleUploadedFile("w.csv", bad, content_type="text/csv")},
                          follow=True)
    assert "2行目" in response.content.decode()
    connection.set_tenant(tenant_a)
    assert list(BannedWord.objects.values_list("word", flat=True)) == ["秘密計画"]  # nothing of the bad file


def test_a_duplicate_banned_word_differing_only_in_width_is_refused(client_a, tenant_a):
    admin = _admin(client_a)
    admin.post("/manage/security/", {"action": "add_word", "word": "ＡＢＣ案件"})
    response = admin.post("/manage/security/", {"action": "add_word", "word": "abc 案件"}, follow=True)
    assert "既に登録されています" in response.content.decode()
    connection.set_tenant(tenant_a)
    assert BannedWord.objects.count() == 1


def test_admin_sets_models_and_a_per_user_limit(client_a, tenant_a, stub_llm):
    admin = _admin(client_a)
    response = admin.post("/manage/models/", {"default_model": "stub-gpt", "user_models": ["stub-gpt"],
                                              "per_user_limit": "50,000"})
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    from usage.models import UsageSettings

    assert UsageSettings.load().per_user_monthly_limit == 50_000
    assert AuditEvent.objects.filter(action="settings.per_user_limit").exists()
