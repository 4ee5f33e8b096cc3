"""Where the deployment can send mail, a new municipality's first administrator is invited by e-mail with a link
to set a password; the mail never holds a password."""

import re

from django.core import mail
from django.test import Client

from tenants.models import OperatorAuditEvent, TenantJob
from tenants.services import provision_from_job
from tests.conftest import login

OPERATOR = ("PREF-0001", "Unei#Demo2026")


def test_the_first_administrator_gets_an_invitation_and_sets_a_password_through_its_link(public_client, settings):
    settings.AKAGI_SEND_INVITATIONS = True
    login(public_client, *OPERATOR)
    response = public_client.post("/console/tenants/new/", {
        "slug": "numata-i", "name": "沼田招待市", "admin_email": "kanri@numata-i.example.lg.jp",
        "admin_staff_number": "N0001", "admin_full_name": "沼田 管理", "seat_cap": "10",
        "monthly_char_cap": "1000000", "monthly_price_cap_yen": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    job = TenantJob.objects.get(kind=TenantJob.Kind.PROVISION, tenant_slug="numata-i")
    finished = provision_from_job(job_id=job.pk)
    assert finished.state == TenantJob.State.DONE and finished.result["invited"] is True

    assert len(mail.outbox) == 1
    invitation = mail.outbox[0]
    assert invitation.to == ["kanri@numata-i.example.lg.jp"] and "沼田招待市" in invitation.subject
    assert "N0001" in invitation.body and "http://numata-i.localhost:8000/" in invitation.body
    page = public_client.get(f"/console/jobs/{job.pk}/").content.decode()
    shown = re.search(r"<code>([^<]+)</code>", page.split('data-testid="job-secret"')[1]).group(1)
    assert shown not in invitation.body  # the password is shown to the operator once, never mailed
    assert "招待メールを送信しました" in page
    assert OperatorAuditEvent.objects.filter(action="tenant.invitation", target="tenant:numata-i").exists()

    link = re.search(r"http://numata-i\.localhost:8000(/accounts/password/reset/key/\S+)", invitation.body).group(1)
    staff = Client(HTTP_HOST="numata-i.localhost")
    opened = staff.get(link, follow=True)
    assert opened.status_code == 200 and 'name="password1"' in opened.content.decode()
    done = staff.post(opened.redirect_chain[-1][0] if opened.redirect_chain else link,
                      {"password1": "Numata#Invite2026", "password2": "Numata#Invite2026"})
    assert done.status_code == 302
    assert login(Client(HTTP_HOST="numata-i.localhost"), "N0001", "Numata#Invite2026").status_code == 302


def test_without_mail_configured_no_invitation_is_sent(public_client, settings):
    settings.AKAGI_SEND_INVITATIONS = False
    login(public_client, *OPERATOR)
    public_client.post("/console/tenants/new/", {
        "slug": "numata-j", "name": "沼田市J", "admin_email": "kanri@numata-j.example.lg.jp",
        "admin_staff_number": "N0002", "seat_cap": "10", "monthly_char_cap": "1000000",
    })
    job = TenantJob.objects.get(kind=TenantJob.Kind.PROVISION, tenant_slug="numata-j")
    assert provision_from_job(job_id=job.pk).result["invited"] is False
    assert mail.outbox == []
