"""お知らせ from the prefecture operator to every (or chosen) municipality.

Writes happen on the operator's host (public schema) and are audited in the operator's trail. Reads happen on
every page of every municipality (the header banner), so ``current_for`` keeps a short per-tenant cache.
``Announcement`` lives in the public schema only; a municipality's connection reaches it because django-tenants
puts ``public`` on every tenant's search_path after the tenant's own schema.

The cache holds the announcements that are running or start within the cache's lifetime, with their periods,
and the period is checked again on every read: an announcement appears and disappears on the minute even while
the cached list is still alive. A write clears every municipality's entry at once (and again after commit).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.services import record
from tenants.crossing import in_tenant, municipalities
from tenants.models import PUBLIC_SCHEMA, Announcement, Tenant

log = logging.getLogger(__name__)

CACHE_SECONDS = 60
MAX_TITLE = Announcement._meta.get_field("title").max_length
MAX_BODY = Announcement._meta.get_field("body").max_length
MAX_CACHED = 50  # far more than a header could show; keeps one cache entry small


@dataclass(frozen=True)
class Notice:
    """What the header needs to know about a running announcement."""

    id: int
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None

    def is_running(self, now: dt.datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


# --------------------------------------------------------------------------- reads


def targeted_to(tenant: Tenant) -> Q:
    # A subquery rather than a join, so an announcement never appears twice.
    chosen = Announcement.tenants.through.objects.filter(tenant_id=tenant.pk).values("announcement_id")
    return Q(for_all=True) | Q(pk__in=chosen)


def running_at(now: dt.datetime) -> Q:
    return Q(starts_at__lte=now) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def published_for(tenant: Tenant | None, *, now: dt.datetime | None = None) -> QuerySet[Announcement]:
    """The announcements running now for ``tenant``, newest first, with their bodies (not cached)."""
    if tenant is None or tenant.is_public:
        return Announcement.objects.none()
    now = now or timezone.now()
    return Announcement.objects.filter(targeted_to(tenant), running_at(now)).order_by("-starts_at", "-id")


def _cache_key(tenant: Tenant) -> str:
    # django-tenants' key function also prefixes the schema name; the id makes the key explicit anyway.
    return f"announcements:current:{tenant.pk}"


def _candidates(tenant: Tenant, now: dt.datetime) -> list[tuple]:
    horizon = now + dt.timedelta(seconds=CACHE_SECONDS)
    rows = (
        Announcement.objects.filter(targeted_to(tenant), starts_at__lte=horizon)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("-starts_at", "-id")
        .values_list("id", "title", "starts_at", "ends_at")[:MAX_CACHED]
    )
    return list(rows)


def current_for(tenant: Tenant | None, *, now: dt.datetime | None = None) -> list[Notice]:
    """Announcements running now for ``tenant`` (newest first); read on every page, so cached briefly."""
    if tenant is None or getattr(tenant, "pk", None) is None or tenant.is_public:
        return []
    now = now or timezone.now()
    key = _cache_key(tenant)
    try:
        rows = cache.get(key)
    except Exception:  # a banner must never take a page down with it
        log.warning("announcement cache unavailable", exc_info=True)
        rows = None
    if rows is None:
        rows = _candidates(tenant, now)
        try:
            cache.set(key, rows, CACHE_SECONDS)
        except Exception:
            log.warning("announcement cache unavailable", exc_info=True)
    notices = [Notice(*row) for row in rows]
    return [n for n in notices if n.is_running(now)]


def status_of(announcement: Announcement, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if announcement.starts_at > now:
        return "掲載予定"
    if announcement.ends_at is not None and announcement.ends_at <= now:
        return "掲載終了"
    return "掲載中"


def target_label(announcement: Announcement) -> str:
    if announcement.for_all:
        return "すべての利用団体"
    return "、".join(t.name for t in announcement.tenants.all()) or "（対象なし）"


# --------------------------------------------------------------------------- writes


def invalidate_cache() -> None:
    """Forget every municipality's cached list (the key function scopes keys by schema, so visit each)."""
    for tenant in municipalities():
        with in_tenant(tenant):
            try:
                cache.delete(_cache_key(tenant))
            except Exception:
                log.warning("announcement cache unavailable", exc_info=True)


def _require_operator_context(actor) -> None:
    from tenants.queries import require_operator

    if connection.schema_name != PUBLIC_SCHEMA:
        raise PermissionDenied("お知らせは県の運営コンソールからのみ変更できます。")
    if actor is not None:
        require_operator(actor)


def _clean(*, title: str, body: str, starts_at, ends_at, for_all: bool, tenant_ids) -> tuple[str, str, list[Tenant]]:
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        errors.setdefault("title", []).append("件名を入力してください。")
    elif len(title) > MAX_TITLE:
        errors.setdefault("title", []).append(f"件名は{MAX_TITLE}文字以内で入力してください。")
    if len(body) > MAX_BODY:
        errors.setdefault("body", []).append(f"本文は{MAX_BODY:,}文字以内で入力してください。")
    if starts_at is None:
        errors.setdefault("starts_at", []).append("掲載開始の日時を入力してください。")
    elif ends_at is not None and ends_at <= starts_at:
        errors.setdefault("ends_at", []).append(
            "掲載終了は掲載開始より後の日時にしてください（終了日なしにする場合は空欄にします）。"
        )
    chosen: list[Tenant] = []
    if not for_all:
        ids = {int(i) for i in tenant_ids or () if str(i).isdigit()}
        chosen = list(Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).filter(pk__in=ids).order_by("slug"))
        if not chosen:
            errors.setdefault("tenants", []).append(
                "対象の利用団体を1つ以上選ぶか、「すべての利用団体」を選んでください。"
            )
    if errors:
        raise ValidationError(errors)
    return title, body, chosen


def _save(announcement: Announcement, *, created: bool, actor, request, title, body, starts_at, ends_at, for_all,
          tenant_ids) -> Announcement:
    _require_operator_context(actor)
    title, body, chosen = _clean(title=title, body=body, starts_at=starts_at, ends_at=ends_at, for_all=for_all,
                                 tenant_ids=tenant_ids)
    with transaction.atomic():
        announcement.title, announcement.body = title, body
        announcement.starts_at, announcement.ends_at, announcement.for_all = starts_at, ends_at, for_all
        if created:
            announcement.created_by_label = str(actor) if actor is not None else "system"
        announcement.save()
        announcement.tenants.set(chosen)
        record(
            action="announcement.create" if created else "announcement.update",
            actor=actor,
            actor_label="" if actor else "system",
            target=f"announcement:{announcement.pk}",
            detail={
                "title": title,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat() if ends_at else None,
                "for_all": for_all,
                "tenants": [t.slug for t in chosen],
            },
            request=request,
        )
        transaction.on_commit(invalidate_cache)
    invalidate_cache()
    return announcement


def create_announcement(*, actor, title: str, body: str = "", starts_at: dt.datetime,
                        ends_at: dt.datetime | None = None, for_all: bool = True, tenant_ids=(),
                        request=None) -> Announcement:
    """Publish an announcement; it shows in the targeted municipalities from ``starts_at`` until ``ends_at``."""
    return _save(Announcement(), created=True, actor=actor, request=request, title=title, body=body,
                 starts_at=starts_at, ends_at=ends_at, for_all=for_all, tenant_ids=tenant_ids)


def update_announcement(*, actor, announcement: Announcement, title: str, body: str = "", starts_at: dt.datetime,
                        ends_at: dt.datetime | None = None, for_all: bool = True, tenant_ids=(),
                        request=None) -> Announcement:
    return _save(announcement, created=False, actor=actor, request=request, title=title, body=body,
                 starts_at=starts_at, ends_at=ends_at, for_all=for_all, tenant_ids=tenant_ids)


def delete_announcement(*, actor, announcement: Announcement, request=None) -> None:
    _require_operator_context(actor)
    with transaction.atomic():
        record(action="announcement.delete", actor=actor, actor_label="" if actor else "system",
               target=f"announcement:{announcement.pk}", detail={"title": announcement.title}, request=request)
        announcement.delete()
        transaction.on_commit(invalidate_cache)
    invalidate_cache()
