"""What a municipality's administrators may read of the audit trail: the prompt and operation logs, and exports.

The log screens and the export files both go through ``events_for_admin`` and ``log_rows``, so a file holds
exactly the rows (and the values) the screen shows for the same filters.

audit is a sink that imports no feature app (import-linter), so the administrator check here reads the user's
``is_tenant_admin`` itself instead of calling ``accounts.queries.require_tenant_admin``; views call that one first.
"""

from __future__ import annotations

import json
import operator
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import reduce
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Q, QuerySet, TextField, Value
from django.db.models.functions import Cast, Replace
from django.http import Http404

from audit.models import AuditEvent, ExportJob

JST = ZoneInfo("Asia/Tokyo")
PAGE_SIZE = 50
EXPORT_DIR = "exports"
MAX_TEXT = 200

# 画面の「結果」: the screening outcome recorded by chat.steps.
RESULTS: dict[str, tuple[str, str]] = {
    "sent": ("prompt.sent", "送信"),
    "masked": ("prompt.masked", "マスクして送信"),
    "blocked": ("prompt.blocked", "ブロック"),
    "refused": ("prompt.refused", "上限で拒否"),
}
RESULT_LABELS = {action: label for action, label in RESULTS.values()}
PROMPT_ACTIONS = tuple(RESULT_LABELS)

# 操作の種類: (label, exact action names, action-name prefixes). Anything matching none of them is その他.
CATEGORIES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "login": ("ログイン関連", ("login", "logout", "user.password_change"), ("login.", "logout.")),
    "users": ("利用者の変更", (), ("user.", "group.")),
    "settings": ("設定の変更", (), ("settings.", "guard.", "tenant.")),
    "transfer": ("取り込み・エクスポート", (), ("users.import", "import.", "export.")),
    "denied": ("アクセス拒否", ("access.denied",), ()),
    "other": ("その他", (), ()),
}
CATEGORY_LABELS = {key: spec[0] for key, spec in CATEGORIES.items()}

EVENT_FIELDS = ("id", "created_at", "actor_id", "actor_label", "action", "target", "detail", "ip_address")


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class LogFilters:
    """Validated search conditions of one log screen. ``to_params`` is what a query string or a job stores."""

    kind: str = ExportJob.Kind.PROMPTS
    user: str = ""
    group: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    model: str = ""  # prompts only
    result: str = ""  # prompts only: a key of RESULTS
    category: str = ""  # operations only: a key of CATEGORIES
    text: str = ""

    def to_params(self) -> dict[str, str]:
        params = {
            "user": self.user,
            "group": "" if self.group is None else str(self.group),
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "model": self.model,
            "result": self.result,
            "category": self.category,
            "text": self.text,
        }
        return {key: value for key, value in params.items() if value}


def _clean_text(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def _parse_date(raw: Any, label: str, errors: list[str]) -> date | None:
    text = _clean_text(raw).replace("/", "-")
    if not text:
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        errors.append(f"{label}の形式が正しくありません。「2026-04-01」のように年-月-日で入力してください。")
        return None
    if not 2000 <= parsed.year <= 2100:
        errors.append(f"{label}は2000年から2100年の間で入力してください。")
        return None
    return parsed


def parse_filters(data: Mapping[str, Any], *, kind: str) -> LogFilters:
    """Read the search form (a QueryDict or a job's stored filters); raise ValidationError in Japanese."""
    if kind not in ExportJob.Kind.values:
        raise ValidationError("ログの種類が正しくありません。")
    errors: list[str] = []
    user = _clean_text(data.get("user"))
    text = str(data.get("text") or "").strip()
    for label, value in (("利用者", user), ("検索する文字", text)):
        if len(value) > MAX_TEXT:
            errors.append(f"{label}は{MAX_TEXT}文字以内で入力してください。")
    group = None
    raw_group = _clean_text(data.get("group"))
    if raw_group:
        if raw_group.isdigit() and Group.objects.filter(pk=int(raw_group)).exists():
            group = int(raw_group)
        else:
            errors.append("選んだグループが見つかりません。一覧から選び直してください。")
    date_from = _parse_date(data.get("date_from"), "開始日", errors)
    date_to = _parse_date(data.get("date_to"), "終了日", errors)
    if date_from and date_to and date_from > date_to:
        errors.append("開始日が終了日より後になっています。期間を確かめてください。")
    model = result = category = ""
    if kind == ExportJob.Kind.PROMPTS:
        model = _clean_text(data.get("model"))[:100]
        result = _clean_text(data.get("result"))
        if result and result not in RESULTS:
            errors.append("結果は一覧から選んでください。")
    else:
        category = _clean_text(data.get("category"))
        if category and category not in CATEGORIES:
            errors.append("操作の種類は一覧から選んでください。")
    if errors:
        raise ValidationError(errors)
    return LogFilters(kind=kind, user=user, group=group, date_from=date_from, date_to=date_to, model=model,
                      result=result, category=category, text=text)


FILTER_LABELS = {
    "user": "利用者", "group": "グループ", "date_from": "開始日", "date_to": "終了日", "model": "モデル",
    "result": "結果", "category": "操作の種類", "text": "検索する文字",
}


def describe_filters(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Stored filter parameters as (label, value) in Japanese, for an export job's page."""
    described = []
    for key, label in FILTER_LABELS.items():
        value = str(params.get(key) or "")
        if not value:
            continue
        if key == "group" and value.isdigit():
            value = Group.objects.filter(pk=int(value)).values_list("name", flat=True).first() or "（削除済み）"
        elif key == "result":
            value = RESULTS.get(value, ("", value))[1]
        elif key == "category":
            value = CATEGORY_LABELS.get(value, value)
        described.append((label, value))
    return described


# --------------------------------------------------------------------------- events


def _require_admin(admin) -> None:
    # The same rule as accounts.queries.require_tenant_admin (which audit, a sink, may not import).
    if not (admin is not None and admin.is_authenticated and getattr(admin, "is_tenant_admin", False)):
        raise PermissionDenied("この画面は管理者のみ利用できます。")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=JST)


def _actor_q(text: str) -> Q:
    """Events of users whose staff number is ``text`` or whose name contains it (spaces ignored).

    Events of users since deleted match on the label recorded with the event.
    """
    users = get_user_model().objects
    compact = re.sub(r"\s+", "", text)
    matching = users.annotate(
        _compact_name=Replace(Replace("full_name", Value(" "), Value("")), Value("\u3000"), Value(""))
    ).filter(Q(staff_number=text.upper()) | Q(_compact_name__icontains=compact)).values("pk")
    return Q(actor_id__in=matching) | (~Q(actor_id__in=users.values("pk")) & Q(actor_label__icontains=text))


def _common(qs: QuerySet[AuditEvent], filters: LogFilters) -> QuerySet[AuditEvent]:
    if filters.user:
        qs = qs.filter(_actor_q(filters.user))
    if filters.group is not None:
        members = get_user_model().groups.through.objects.filter(group_id=filters.group).values("user_id")
        qs = qs.filter(actor_id__in=members)
    if filters.date_from:
        qs = qs.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return qs


def prompt_events_for_admin(admin, filters: LogFilters) -> QuerySet[AuditEvent]:
    """Every prompt and answer of every user of this municipality that matches ``filters``, newest first."""
    _require_admin(admin)
    qs = _common(AuditEvent.objects.filter(action__in=PROMPT_ACTIONS), filters)
    if filters.model:
        qs = qs.filter(detail__model__iexact=filters.model)
    if filters.result:
        qs = qs.filter(action=RESULTS[filters.result][0])
    if filters.text:
        qs = qs.filter(Q(detail__prompt__icontains=filters.text) | Q(detail__answer__icontains=filters.text))
    # Events are numbered under a lock in the order they are written, so id order is time order.
    return qs.order_by("-id")


def _category_q(key: str) -> Q:
    _label, exact, prefixes = CATEGORIES[key]
    parts = ([Q(action__in=exact)] if exact else []) + [Q(action__startswith=prefix) for prefix in prefixes]
    return reduce(operator.or_, parts)


def operation_events_for_admin(admin, filters: LogFilters) -> QuerySet[AuditEvent]:
    """Every operation event (everything but prompts) that matches ``filters``, newest first."""
    _require_admin(admin)
    qs = _common(AuditEvent.objects.exclude(action__startswith="prompt."), filters)
    if filters.category == "other":
        for key in CATEGORIES:
            if key != "other":
                qs = qs.exclude(_category_q(key))
    elif filters.category:
        qs = qs.filter(_category_q(filters.category))
    if filters.text:
        qs = qs.annotate(_detail_text=Cast("detail", TextField())).filter(
            Q(target__icontains=filters.text) | Q(_detail_text__icontains=filters.text)
        )
    return qs.order_by("-id")


def events_for_admin(admin, filters: LogFilters, *, until_id: int | None = None) -> QuerySet[AuditEvent]:
    if filters.kind == ExportJob.Kind.PROMPTS:
        qs = prompt_events_for_admin(admin, filters)
    else:
        qs = operation_events_for_admin(admin, filters)
    if until_id is not None:
        qs = qs.filter(id__lte=until_id)
    return qs


def group_choices(admin) -> list[Group]:
    _require_admin(admin)
    return list(Group.objects.order_by("name"))


# --------------------------------------------------------------------------- rows as the administrator sees them


@dataclass(frozen=True)
class Person:
    staff_number: str
    full_name: str
    groups: tuple[str, ...] = ()


_LABEL = re.compile(r"^(?P<name>.*)（(?P<staff>[^（）]*)）$")


def people(ids: Iterable[int] | None = None) -> dict[int, Person]:
    """Staff number, name and current groups of users, by id (all users of the municipality when ``ids`` is None).

    A municipality has at most a few thousand users, so an export keeps them all in memory instead of one
    query per event.
    """
    User = get_user_model()
    users = User.objects.all()
    memberships = User.groups.through.objects.all()
    if ids is not None:
        ids = {i for i in ids if i is not None}
        users = users.filter(pk__in=ids)
        memberships = memberships.filter(user_id__in=ids)
    groups: dict[int, list[str]] = {}
    for user_id, name in memberships.order_by("group__name").values_list("user_id", "group__name"):
        groups.setdefault(user_id, []).append(name)
    return {
        pk: Person(staff_number=staff, full_name=name or email, groups=tuple(groups.get(pk, ())))
        for pk, staff, name, email in users.values_list("pk", "staff_number", "full_name", "email")
    }


def _person(event: Mapping[str, Any], directory: Mapping[int, Person]) -> Person:
    person = directory.get(event["actor_id"])
    if person is not None:
        return person
    # A deleted user, the system, or someone not logged in: what was recorded with the event.
    label = event["actor_label"] or ""
    match = _LABEL.match(label)
    if match:
        return Person(staff_number=match["staff"], full_name=match["name"])
    return Person(staff_number="", full_name=label)


def _pii_types(findings: Any) -> list[str]:
    types: list[str] = []
    for finding in findings if isinstance(findings, list) else []:
        kind = finding.get("type") if isinstance(finding, dict) else None
        if kind and kind not in types:
            types.append(str(kind))
    return types


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class PromptRow:
    id: int
    created_at: datetime  # JST
    staff_number: str
    full_name: str
    groups: tuple[str, ...]
    model: str
    action: str
    result: str
    prompt_chars: int | None
    answer_chars: int | None
    prompt: str
    answer: str
    pii_types: tuple[str, ...]
    latency_ms: int | None
    status: str = ""


@dataclass(frozen=True)
class OperationRow:
    id: int
    created_at: datetime  # JST
    actor: str
    actor_id: int | None
    staff_number: str
    action: str
    category: str
    target: str
    detail: dict = field(default_factory=dict)
    ip_address: str = ""

    @property
    def detail_text(self) -> str:
        return json.dumps(self.detail, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def category_of(action: str) -> str:
    for key, (_label, exact, prefixes) in CATEGORIES.items():
        if action in exact or any(action.startswith(prefix) for prefix in prefixes):
            return key
    return "other"


def prompt_row(event: Mapping[str, Any], directory: Mapping[int, Person]) -> PromptRow:
    detail = event["detail"] if isinstance(event["detail"], dict) else {}
    person = _person(event, directory)
    return PromptRow(
        id=event["id"],
        created_at=event["created_at"].astimezone(JST),
        staff_number=person.staff_number,
        full_name=person.full_name,
        groups=person.groups,
        model=str(detail.get("model") or ""),
        action=event["action"],
        result=RESULT_LABELS.get(event["action"], event["action"]),
        prompt_chars=_optional_int(detail.get("prompt_chars")),
        answer_chars=_optional_int(detail.get("answer_chars")),
        prompt=str(detail.get("prompt") or ""),
        answer=str(detail.get("answer") or ""),
        pii_types=tuple(_pii_types(detail.get("findings"))),
        latency_ms=_optional_int(detail.get("latency_ms")),
        status=str(detail.get("status") or ""),
    )


def operation_row(event: Mapping[str, Any], directory: Mapping[int, Person]) -> OperationRow:
    person = directory.get(event["actor_id"])
    return OperationRow(
        id=event["id"],
        created_at=event["created_at"].astimezone(JST),
        actor=event["actor_label"] or (f"{person.full_name}（{person.staff_number}）" if person else ""),
        actor_id=event["actor_id"],
        staff_number=person.staff_number if person else "",
        action=event["action"],
        category=CATEGORY_LABELS[category_of(event["action"])],
        target=event["target"] or "",
        detail=event["detail"] if isinstance(event["detail"], dict) else {},
        ip_address=event["ip_address"] or "",
    )


def log_rows(kind: str, events: Iterable[Mapping[str, Any]]) -> list[PromptRow] | list[OperationRow]:
    """One page of events (``.values(*EVENT_FIELDS)`` dicts) as rows for the screen."""
    events = list(events)
    directory = people(e["actor_id"] for e in events)
    make = prompt_row if kind == ExportJob.Kind.PROMPTS else operation_row
    return [make(e, directory) for e in events]


# --------------------------------------------------------------------------- export jobs


def get_export_job_for_admin(admin, job_id: int) -> ExportJob:
    """Any administrator of this municipality may follow any of its export jobs; ids of other schemas are 404."""
    _require_admin(admin)
    job = ExportJob.objects.filter(pk=job_id).select_related("requested_by").first()
    if job is None:
        raise Http404("エクスポートが見つかりません。")
    return job


def recent_export_jobs_for_admin(admin, *, kind: str | None = None, limit: int = 10) -> list[ExportJob]:
    _require_admin(admin)
    qs = ExportJob.objects.select_related("requested_by")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("-id")[:limit])


def export_dir() -> Path:
    """Where this municipality's export files live: the schema name keeps each municipality's files apart."""
    schema = connection.schema_name
    if not schema or schema == "public":
        raise PermissionDenied("利用団体の画面からエクスポートしてください。")
    return Path(settings.MEDIA_ROOT) / EXPORT_DIR / schema


def export_file_for_admin(admin, job_id: int) -> tuple[ExportJob, Path]:
    """The finished file of a job of this municipality; 404 when unfinished, missing or outside its folder."""
    job = get_export_job_for_admin(admin, job_id)
    if job.state != ExportJob.State.DONE or not job.file_path:
        raise Http404("エクスポートはまだ完了していません。")
    root = export_dir().resolve()
    path = (Path(settings.MEDIA_ROOT) / job.file_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise Http404("エクスポートのファイルが見つかりません。もう一度エクスポートしてください。")
    return job, path
