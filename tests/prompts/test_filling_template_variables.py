"""Variables: {{name}} fields, one per distinct name; malformed braces and oversized bodies refused in Japanese."""

from urllib.parse import parse_qs, urlparse

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from prompts.models import PromptTemplate, fill, parse_variables
from tests.conftest import login
from tests.prompts.helpers import STAFF_PASSWORD, make_template

pytestmark = pytest.mark.django_db


def test_two_variables_fill_the_prompt_put_in_the_chat_box_and_count_the_use(tenant_a, client_a):
    template = make_template(tenant_a, owner="A002", body="{{宛先}}宛てに{{内容}}の依頼文を書いてください。")
    login(client_a, "A002", STAFF_PASSWORD)
    page = client_a.get(f"/templates/{template.pk}/").content.decode()
    assert '<label for="var_0">宛先</label>' in page and '<label for="var_1">内容</label>' in page

    response = client_a.post(f"/templates/{template.pk}/", {"var_0": "各課長", "var_1": "防災訓練への参加"})
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == "/chat/"
    prompt = parse_qs(location.query)["prompt"][0]
    assert prompt == "各課長宛てに防災訓練への参加の依頼文を書いてください。"
    chat = client_a.get(response["Location"]).content.decode()
    assert f'required>{prompt}</textarea>' in chat

    connection.set_tenant(tenant_a)
    assert PromptTemplate.objects.get(pk=template.pk).use_count == 1


def test_a_missing_value_is_asked_for_and_not_counted(tenant_a, client_a):
    template = make_template(tenant_a, owner="A002", body="{{宛先}}宛てに{{内容}}")
    login(client_a, "A002", STAFF_PASSWORD)
    response = client_a.post(f"/templates/{template.pk}/", {"var_0": "各課長", "var_1": "  "})
    assert response.status_code == 400
    assert "「内容」を入力してください。" in response.content.decode()
    connection.set_tenant(tenant_a)
    assert PromptTemplate.objects.get(pk=template.pk).use_count == 0


def test_the_same_variable_used_twice_is_one_field():
    assert parse_variables("{{対象}}について、{{ 対象 }}の{{期限}}を確認") == ["対象", "期限"]
    assert fill("{{対象}}と{{対象}}", {"対象": "A"}) == "AとA"


def test_a_value_is_inserted_literally():
    assert fill("{{x}}!", {"x": r"\1 {{y}}"}) == r"\1 {{y}}!"


@pytest.mark.parametrize(("body", "expected"), [
    ("{{対象について", "「{{」に対応する「}}」がありません"),
    ("対象}}について", "「}}」に対応する「{{」がありません"),
    ("{{}}について", "変数名が空です"),
    ("{{a{b}}について", "括弧が正しくありません"),
    ("{{" + "長" * 31 + "}}", "変数名「"),
])
def test_malformed_braces_are_refused_with_a_japanese_message(body, expected):
    with pytest.raises(ValidationError) as exc:
        parse_variables(body)
    assert any(expected in message for message in exc.value.messages)


def test_malformed_and_oversized_bodies_are_refused_when_saving(tenant_a, client_a):
    login(client_a, "A002", STAFF_PASSWORD)
    form = {"title": "壊れた", "category": "other", "scope": "private"}
    response = client_a.post("/templates/new/", {**form, "body": "{{対象について"})
    assert response.status_code == 400
    assert "「{{」に対応する「}}」がありません" in response.content.decode()

    response = client_a.post("/templates/new/", {**form, "body": "あ" * 10_001})
    assert response.status_code == 400
    assert "10,000文字以内にしてください" in response.content.decode()

    response = client_a.post("/templates/new/", {**form, "body": "あ" * 50_000})
    assert response.status_code == 400

    response = client_a.post("/templates/new/", {**form, "title": "正しい", "body": "{{対象}}を要約"})
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    assert not PromptTemplate.objects.filter(title="壊れた").exists()
    assert PromptTemplate.objects.get(title="正しい").owner.staff_number == "A002"
