"""Script and HTML in a template are shown as text in every page and in the chat box, never run."""

import pytest

from tests.conftest import login
from tests.prompts.helpers import STAFF_PASSWORD, make_template

pytestmark = pytest.mark.django_db

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_script_and_html_in_a_template_are_escaped(tenant_a, client_a):
    template = make_template(tenant_a, owner="A002", scope="tenant", title=EVIL, body=EVIL + "{{対象}}")
    login(client_a, "A003", STAFF_PASSWORD)
    for page in (client_a.get("/templates/"), client_a.get(f"/templates/{template.pk}/")):
        html = page.content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html

    response = client_a.post(f"/templates/{template.pk}/", {"var_0": "</textarea><script>alert(2)</script>"})
    chat = client_a.get(response["Location"]).content.decode()
    assert "<script>alert" not in chat and "</textarea><script>" not in chat
    assert "&lt;/textarea&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in chat
