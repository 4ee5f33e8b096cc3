"""Every write in the learning area, each with its audit event in the same transaction."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.queries import require_tenant_admin
from audit.services import record
from training.models import Post, Thread, Tip, TipImage, TipRead

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_TITLE = 200
MAX_TIP_BODY = 50_000
MAX_POST_BODY = 20_000

# Checked by content, never by the name or the browser's claimed type.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError("タイトルを入力してください。")
    if len(title) > MAX_TITLE:
        raise ValidationError(f"タイトルは{MAX_TITLE}文字以内で入力してください。")
    return title


def _clean_body(body: str, limit: int) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError("本文を入力してください。")
    if len(body) > limit:
        raise ValidationError(f"本文は{limit:,}文字以内で入力してください。")
    return body


# --------------------------------------------------------------------------- TIPS


@transaction.atomic
def save_tip(*, actor, title: str, body: str, published: bool, tip: Tip | None = None, request=None) -> Tip:
    require_tenant_admin(actor)
    creating = tip is None
    tip = tip or Tip(author=actor)
    tip.title = _clean_title(title)
    tip.body = _clean_body(body, MAX_TIP_BODY)
    tip.published = published
    if published and tip.published_at is None:
        tip.published_at = timezone.now()
    tip.save()
    record(action="training.tip_create" if creating else "training.tip_update", actor=actor,
           target=f"tip:{tip.pk}", detail={"title": tip.title, "published": published}, request=request)
    return tip


@transaction.atomic
def delete_tip(*, actor, tip: Tip, request=None) -> None:
    require_tenant_admin(actor)
    record(action="training.tip_delete", actor=actor, target=f"tip:{tip.pk}", detail={"title": tip.title},
           request=request)
    Tip.objects.filter(pk=tip.pk).delete()


def mark_tip_read(*, user, tip: Tip) -> None:
    # Reading is not an operation worth an audit event; it only clears the NEW badge.
    TipRead.objects.get_or_create(user=user, tip_id=tip.pk)


def _sniff(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, ext in _MAGIC:
        if head.startswith(magic):
            return content_type, ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


@transaction.atomic
def upload_tip_image(*, actor, uploaded, request=None) -> TipImage:
    """Store an image for tips under MEDIA_ROOT/training/<schema>/ after checking its bytes."""
    require_tenant_admin(actor)
    if uploaded is None:
        raise ValidationError("画像ファイルを選んでください。")
    if uploaded.size > MAX_IMAGE_BYTES:
        raise ValidationError("画像は5MB以下にしてください。")
    data = uploaded.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationError("画像は5MB以下にしてください。")
    sniffed = _sniff(data[:16])
    if sniffed is None:
        raise ValidationError("PNG・JPEG・GIF・WebP の画像だけを登録できます。")
    content_type, ext = sniffed
    folder = Path(settings.MEDIA_ROOT) / "training" / connection.schema_name
    folder.mkdir(parents=True, exist_ok=True)
    relative = f"training/{connection.schema_name}/{uuid.uuid4().hex}.{ext}"
    (Path(settings.MEDIA_ROOT) / relative).write_bytes(data)
    image = TipImage.objects.create(file_path=relative, content_type=content_type, size=len(data),
                                    original_name=(uploaded.name or "")[:255], uploaded_by=actor)
    record(action="training.image_upload", actor=actor, target=f"image:{image.pk}",
           detail={"name": image.original_name, "size": image.size, "type": content_type}, request=request)
    return image


# --------------------------------------------------------------------------- 掲示板


@transaction.atomic
def open_thread(*, actor, title: str, body: str, request=None) -> Thread:
    now = timezone.now()
    thread = Thread.objects.create(title=_clean_title(title), author=actor, last_posted_at=now)
    post = Post.objects.create(thread=thread, author=actor, body=_clean_body(body, MAX_POST_BODY))
    record(action="training.thread_create", actor=actor, target=f"thread:{thread.pk}",
           detail={"title": thread.title, "post": post.pk}, request=request)
    return thread


@transaction.atomic
def reply(*, actor, thread: Thread, body: str, request=None) -> Post:
    thread = Thread.objects.select_for_update().get(pk=thread.pk)
    if thread.locked and not actor.is_tenant_admin:
        raise PermissionDenied("このスレッドはロックされているため、返信できません。")
    post = Post.objects.create(thread=thread, author=actor, body=_clean_body(body, MAX_POST_BODY))
    Thread.objects.filter(pk=thread.pk).update(last_posted_at=post.created_at)
    record(action="training.post_create", actor=actor, target=f"post:{post.pk}", detail={"thread": thread.pk},
           request=request)
    return post


@transaction.atomic
def edit_post(*, actor, post: Post, body: str, request=None) -> Post:
    if post.author_id != actor.pk:
        raise PermissionDenied("他の人の投稿は編集できません。")
    if post.is_removed:
        raise PermissionDenied("削除された投稿は編集できません。")
    if post.thread.locked and not actor.is_tenant_admin:
        raise PermissionDenied("このスレッドはロックされているため、編集できません。")
    previous = post.body
    post.body = _clean_body(body, MAX_POST_BODY)
    post.edited_at = timezone.now()
    post.save(update_fields=["body", "edited_at"])
    # The previous text goes into the trail so an edit cannot hide what was said.
    record(action="training.post_edit", actor=actor, target=f"post:{post.pk}",
           detail={"thread": post.thread_id, "previous": previous[:2000]}, request=request)
    return post


@transaction.atomic
def remove_post(*, actor, post: Post, reason: str = "", request=None) -> Post:
    require_tenant_admin(actor)
    if post.is_removed:
        return post
    post.removed_at = timezone.now()
    post.removed_by = actor
    post.removal_reason = (reason or "").strip()[:500]
    post.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    record(action="training.post_remove", actor=actor, target=f"post:{post.pk}",
           detail={"thread": post.thread_id, "reason": post.removal_reason, "body": post.body[:2000]},
           request=request)
    return post


@transaction.atomic
def set_thread_flags(*, actor, thread: Thread, pinned: bool | None = None, locked: bool | None = None,
                     request=None) -> Thread:
    require_tenant_admin(actor)
    changes = {}
    if pinned is not None:
        thread.pinned = changes["pinned"] = pinned
    if locked is not None:
        thread.locked = changes["locked"] = locked
    if changes:
        Thread.objects.filter(pk=thread.pk).update(**changes)
        record(action="training.thread_moderate", actor=actor, target=f"thread:{thread.pk}", detail=changes,
               request=request)
    return thread
