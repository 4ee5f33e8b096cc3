"""Reads of the learning area that encode a rule: who sees which tip, thread and post."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.queries import require_tenant_admin
from training.models import Post, Thread, Tip, TipImage, TipRead

NEW_DAYS = 14


def tips_for_user(user) -> QuerySet[Tip]:
    """Published tips for everyone, drafts too for admins; ``is_new`` marks recent ones the user hasn't opened."""
    qs = Tip.objects.select_related("author")
    if not user.is_tenant_admin:
        qs = qs.filter(published=True)
    since = timezone.now() - timedelta(days=NEW_DAYS)
    read = TipRead.objects.filter(tip=OuterRef("pk"), user=user)
    return qs.annotate(
        has_read=Exists(read),
    ).annotate(
        is_new=ExpressionWrapper(Q(published=True, published_at__gte=since, has_read=False),
                                 output_field=BooleanField()),
    )


def get_tip_for_user(user, tip_id: int, *, write: bool = False) -> Tip:
    if write:
        require_tenant_admin(user)
    tip = tips_for_user(user).filter(pk=tip_id).first()
    if tip is None:
        raise Http404("TIPSが見つかりません。")
    return tip


def get_image_for_user(user, image_id: int) -> TipImage:
    if not user.is_authenticated:
        raise PermissionDenied("ログインしてください。")
    image = TipImage.objects.filter(pk=image_id).first()
    if image is None:
        raise Http404("画像が見つかりません。")
    return image


def threads_for_user(user) -> QuerySet[Thread]:
    # Every user of the municipality reads the whole board; the schema is the scope.
    return Thread.objects.select_related("author").annotate(post_count=Count("posts"))


def get_thread_for_user(user, thread_id: int, *, moderate: bool = False) -> Thread:
    if moderate:
        require_tenant_admin(user)
    thread = Thread.objects.select_related("author").filter(pk=thread_id).first()
    if thread is None:
        raise Http404("スレッドが見つかりません。")
    return thread


def posts_in_thread(thread: Thread) -> QuerySet[Post]:
    return thread.posts.select_related("author", "removed_by")


def get_post_for_user(user, post_id: int, *, write: bool = False, moderate: bool = False) -> Post:
    """A post; ``write`` demands its author (removed posts cannot be edited), ``moderate`` an admin."""
    if moderate:
        require_tenant_admin(user)
    post = Post.objects.select_related("thread", "author").filter(pk=post_id).first()
    if post is None:
        raise Http404("投稿が見つかりません。")
    if write:
        if post.author_id != user.pk:
            raise PermissionDenied("他の人の投稿は編集できません。")
        if post.is_removed:
            raise PermissionDenied("削除された投稿は編集できません。")
    return post
