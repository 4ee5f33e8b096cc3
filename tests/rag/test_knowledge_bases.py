"""ナレッジ: staff create knowledge bases, add documents, see their state, and ground chat answers on them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from rag import ingest
from rag.models import Collection, Document
from tests.chat.helpers import first, logged_in, names, send

pytestmark = pytest.mark.django_db

GOMI = ("燃えるごみの収集日について。あかぎ市では、燃えるごみを毎週月曜日と木曜日の朝8時までに集積所へ出してください。"
        "年末年始は収集日が変わります。\n\n粗大ごみは事前の申し込みが必要です。申し込みは粗大ごみ受付センターへ電話で行います。")
LIBRARY = "市立図書館の開館時間は午前9時から午後7時までです。休館日は毎週月曜日です。"


def _create_collection(client, name: str, access: str = "private") -> int:
    response = client.post("/knowledge/", {"name": name, "access": access})
    assert response.status_code == 302
    return int(response["Location"].rstrip("/").split("/")[-1])


def _upload(client, collection_id: int, filename: str, text: str) -> dict:
    response = client.post(f"/knowledge/{collection_id}/upload/",
                           {"file": SimpleUploadedFile(filename, text.encode("utf-8"))})
    return response.json() | {"status": response.status_code}


def _ingest_all(tenant, collection_id: int) -> list[Document]:
    connection.set_tenant(tenant)
    documents = list(Document.objects.filter(collection_id=collection_id))
    for document in documents:
        ingest.run(document.pk)
    result = list(Document.objects.filter(collection_id=collection_id))
    connection.set_schema_to_public()
    return result


def test_a_document_goes_from_queued_to_ready_with_passages(client_a, tenant_a, django_capture_on_commit_callbacks):
    staff = logged_in(client_a)
    collection_id = _create_collection(staff, "ごみ出し")
    with django_capture_on_commit_callbacks() as callbacks:
        uploaded = _upload(staff, collection_id, "gomi.txt", GOMI)
    assert uploaded["status"] == 200 and uploaded["created"]
    assert len(callbacks) == 1  # ingestion is queued only after the upload is committed
    page = staff.get(f"/knowledge/{collection_id}/").content.decode()
    assert "待機中" in page and 'hx-trigger="every 2s"' in page
    (document,) = _ingest_all(tenant_a, collection_id)
    assert document.state == Document.State.READY and document.chunk_count >= 1 and document.progress == 100
    page = staff.get(f"/knowledge/{collection_id}/documents/").content.decode()
    assert "利用可能" in page and "every 2s" not in page


def test_the_same_content_twice_is_stored_once(client_a):
    staff = logged_in(client_a)
    collection_id = _create_collection(staff, "重複")
    assert _upload(staff, collection_id, "a.txt", LIBRARY)["created"]
    again = _upload(staff, collection_id, "copy-of-a.txt", LIBRARY)
    assert again["created"] is False and "同じ内容" in again["note"]


def test_a_file_that_cannot_be_read_fails_with_a_japanese_reason(client_a, tenant_a):
    staff = logged_in(client_a)
    collection_id = _create_collection(staff, "壊れたファイル")
    assert _upload(staff, collection_id, "broken.docx", "これはWordファイルではありません")["status"] == 200
    (document,) = _ingest_all(tenant_a, collection_id)
    assert document.state == Document.State.FAILED
    assert document.error and any("\u3040" <= ch <= "\u30ff" for ch in document.error)


def test_unsupported_file_types_are_refused_at_upload(client_a):
    staff = logged_in(client_a)
    collection_id = _create_collection(staff, "形式")
    refused = _upload(staff, collection_id, "virus.exe", "MZ")
    assert refused["status"] == 400 and "取り込めない形式" in refused["error"]


def test_a_private_knowledge_base_is_invisible_to_colleagues(client_a, tenant_a):
    owner = logged_in(client_a)
    collection_id = _create_collection(owner, "個人メモ")
    _upload(owner, collection_id, "memo.txt", LIBRARY)
    (document,) = _ingest_all(tenant_a, collection_id)
    colleague = logged_in(Client(HTTP_HOST="demo-a.localhost"), "A003")
    assert "個人メモ" not in colleague.get("/knowledge/").content.decode()
    assert colleague.get(f"/knowledge/{collection_id}/").status_code == 404
    assert colleague.get(f"/knowledge/documents/{document.pk}/file/").status_code == 404
    assert "個人メモ" not in colleague.get("/chat/").content.decode()
    from chat.models import Message
    from tenants.models import MonthlyUsage

    def used() -> int:
        return sum(MonthlyUsage.objects.filter(tenant=tenant_a).values_list("used_chars", flat=True))

    before = used()
    events = send(colleague, "図書館は何時まで？", collections=collection_id)
    assert names(events) == ["error"]
    # Nothing was reserved or half-saved for the refused turn.
    assert used() == before
    connection.set_tenant(tenant_a)
    assert not Message.objects.filter(content="図書館は何時まで？").exists()
    connection.set_schema_to_public()


def test_a_knowledge_base_shared_with_everyone_is_visible_to_colleagues(client_a, tenant_a):
    owner = logged_in(client_a)
    collection_id = _create_collection(owner, "全庁共有", access="all")
    colleague = logged_in(Client(HTTP_HOST="demo-a.localhost"), "A003")
    assert colleague.get(f"/knowledge/{collection_id}/").status_code == 200
    connection.set_tenant(tenant_a)
    assert Collection.objects.get(pk=collection_id).access == "all"


def test_a_chat_answer_grounded_on_a_knowledge_base_cites_only_what_it_used(client_a, tenant_a, stub_llm):
    staff = logged_in(client_a)
    collection_id = _create_collection(staff, "市民生活")
    _upload(staff, collection_id, "gomi.txt", GOMI)
    _upload(staff, collection_id, "library.txt", LIBRARY)
    _ingest_all(tenant_a, collection_id)
    stub_llm.set_behaviour(answer="燃えるごみは月曜日と木曜日です[1]。")
    events = send(staff, "燃えるごみはいつ出せますか？", collections=collection_id)
    system = " ".join(m["content"] for m in stub_llm.requests[-1]["messages"] if m["role"] == "system")
    assert "月曜日と木曜日" in system  # the passage was put in front of the model, numbered
    assert first(events, "start")["sources"] >= 1
    citations = first(events, "done")["citations"]
    assert [c["number"] for c in citations] == [1]
    assert citations[0]["title"] in {"gomi", "library"}
    assert staff.get(citations[0]["url"]).status_code == 200
    message_id = first(events, "done")["message_id"]
    assert staff.post(f"/chat/messages/{message_id}/feedback/", {"helpful": "1"}).status_code == 200
    connection.set_tenant(tenant_a)
    from rag.models import Feedback

    assert Feedback.objects.get(message_id=message_id).collection_id == collection_id
