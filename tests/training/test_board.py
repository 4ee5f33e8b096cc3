"""掲示板: anyone opens a thread and replies; admins pin, lock and remove (kept for audit); others' posts: 403."""

from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from tests.conftest import HOST_A
from tests.training.helpers import STAFF2, as_admin, as_staff, user
from training.models import Post, Thread


def _thread(tenant, staff_number="A002", body="最初の投稿") -> Thread:
    author = user(tenant, staff_number)
    thread = Thread.objects.create(title="RPAの相談", author=author, last_posted_at=timezone.now())
    Post.objects.create(thread=thread, author=author, body=body)
    return thread


def test_a_general_user_opens_a_thread_and_another_replies(client_a, tenant_a):
    as_staff(client_a)
    response = client_a.post("/learn/board/", {"title": "議事録の要約", "body": "うまくいく頼み方は？"})
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    thread = Thread.objects.get(title="議事録の要約")
    other = as_staff(Client(HTTP_HOST=HOST_A), STAFF2)
    assert other.post(f"/learn/board/{thread.pk}/", {"body": "箇条書きで指示すると良いです"}).status_code == 302
    page = other.get(f"/learn/board/{thread.pk}/").content.decode()
    assert "うまくいく頼み方は？" in page and "箇条書きで指示すると良いです" in page
    connection.set_tenant(tenant_a)
    assert AuditEvent.objects.filter(action="training.post_create").exists()
    assert AuditEvent.objects.filter(action="training.thread_create", target=f"thread:{thread.pk}").exists()


def test_script_and_html_in_a_post_are_inert(client_a, tenant_a):
    thread = _thread(tenant_a, body="<script>alert(1)</script> <b onmouseover=x>太字</b> [a](javascript:alert(2))")
    as_staff(client_a, STAFF2)
    html = client_a.get(f"/learn/board/{thread.pk}/").content.decode()
    assert "<script>alert(1)" not in html
    assert "<b onmouseover" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_admin_pins_and_locks_a_thread_and_it_is_audited(client_a, tenant_a):
    thread = _thread(tenant_a)
    as_admin(client_a)
    assert client_a.post(f"/learn/board/{thread.pk}/moderate/", {"pinned": "1"}).status_code == 302
    assert client_a.post(f"/learn/board/{thread.pk}/moderate/", {"locked": "1"}).status_code == 302
    connection.set_tenant(tenant_a)
    thread.refresh_from_db()
    assert thread.pinned and thread.locked
    assert AuditEvent.objects.filter(action="training.thread_moderate", target=f"thread:{thread.pk}").count() == 2


def test_a_general_user_cannot_pin_lock_or_remove(client_a, tenant_a):
    thread = _thread(tenant_a, staff_number="A003")
    post = thread.posts.get()
    as_staff(client_a)
    assert client_a.post(f"/learn/board/{thread.pk}/moderate/", {"locked": "1"}).status_code == 403
    assert client_a.post(f"/learn/posts/{post.pk}/remove/", {"reason": "x"}).status_code == 403
    connection.set_tenant(tenant_a)
    thread.refresh_from_db()
    post.refresh_from_db()
    assert not thread.locked and not post.is_removed


def test_a_locked_thread_refuses_a_general_users_reply_with_403_and_it_is_logged(client_a, tenant_a):
    thread = _thread(tenant_a)
    Thread.objects.filter(pk=thread.pk).update(locked=True)
    as_staff(client_a, STAFF2)
    page = client_a.get(f"/learn/board/{thread.pk}/").content.decode()
    assert "ロックされているため、返信できません" in page
    response = client_a.post(f"/learn/board/{thread.pk}/", {"body": "ロック中でも書きたい"})
    assert response.status_code == 403
    connection.set_tenant(tenant_a)
    assert not Post.objects.filter(body="ロック中でも書きたい").exists()
    assert AuditEvent.objects.filter(action="access.denied", target=f"/learn/board/{thread.pk}/").exists()


def test_a_general_user_cannot_edit_another_users_post_403_and_logged(client_a, tenant_a):
    thread = _thread(tenant_a, staff_number="A003", body="元の文")
    post = thread.posts.get()
    as_staff(client_a)
    assert client_a.get(f"/learn/posts/{post.pk}/edit/").status_code == 403
    assert client_a.post(f"/learn/posts/{post.pk}/edit/", {"body": "書き換え"}).status_code == 403
    connection.set_tenant(tenant_a)
    post.refresh_from_db()
    assert post.body == "元の文"
    assert AuditEvent.objects.filter(action="access.denied", target=f"/learn/posts/{post.pk}/edit/").count() == 2


def test_the_author_edits_their_own_post_and_the_previous_text_is_audited(client_a, tenant_a):
    thread = _thread(tenant_a, body="誤字あり")
    post = thread.posts.get()
    as_staff(client_a)
    assert client_a.post(f"/learn/posts/{post.pk}/edit/", {"body": "誤字なし"}).status_code == 302
    connection.set_tenant(tenant_a)
    post.refresh_from_db()
    assert post.body == "誤字なし" and post.edited_at is not None
    event = AuditEvent.objects.get(action="training.post_edit", target=f"post:{post.pk}")
    assert event.detail["previous"] == "誤字あり"


def test_a_removed_post_is_hidden_from_users_but_kept_for_admins_and_audited(client_a, tenant_a):
    thread = _thread(tenant_a, body="不適切な書き込み")
    post = thread.posts.get()
    as_admin(client_a)
    response = client_a.post(f"/learn/posts/{post.pk}/remove/", {"reason": "個人情報を含むため"})
    assert response.status_code == 302
    connection.set_tenant(tenant_a)
    post.refresh_from_db()
    assert post.is_removed and post.body == "不適切な書き込み"
    assert post.removed_by.staff_number == "A001" and post.removal_reason == "個人情報を含むため"
    event = AuditEvent.objects.get(action="training.post_remove", target=f"post:{post.pk}")
    assert event.detail["body"] == "不適切な書き込み" and event.detail["reason"] == "個人情報を含むため"
    admin_page = client_a.get(f"/learn/board/{thread.pk}/").content.decode()
    assert "管理者により削除されました" in admin_page and "不適切な書き込み" in admin_page
    staff = as_staff(Client(HTTP_HOST=HOST_A), STAFF2)
    staff_page = staff.get(f"/learn/board/{thread.pk}/").content.decode()
    assert "管理者により削除されました" in staff_page
    assert "不適切な書き込み" not in staff_page


def test_posts_and_threads_are_paginated(client_a, tenant_a):
    thread = _thread(tenant_a)
    author = user(tenant_a, "A002")
    Post.objects.bulk_create([Post(thread=thread, author=author, body=f"返信{i:02d}") for i in range(25)])
    as_staff(client_a)
    first = client_a.get(f"/learn/board/{thread.pk}/").content.decode()
    second = client_a.get(f"/learn/board/{thread.pk}/?page=2").content.decode()
    assert "返信00" in first and "返信24" not in first
    assert "返信24" in second and "2 / 2 ページ" in second
