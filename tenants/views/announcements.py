"""お知らせ in the operator console: list, create, edit and delete (with a confirmation page)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from tenants import announcements as service
from tenants.access import operator_required
from tenants.crossing import municipalities
from tenants.models import Announcement

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class AnnouncementForm(forms.Form):
    """Parses the request only; the rules (period, target) are the service's, so every caller gets them."""

    # Not required here: the service reports a missing title together with every other mistake.
    title = forms.CharField(label="件名", required=False, max_length=service.MAX_TITLE,
                            error_messages={"max_length": f"件名は{service.MAX_TITLE}文字以内で入力してください。"})
    body = forms.CharField(label="本文（Markdown）", required=False, widget=forms.Textarea,
                           max_length=service.MAX_BODY,
                           error_messages={"max_length": f"本文は{service.MAX_BODY:,}文字以内で入力してください。"})
    starts_at = forms.DateTimeField(
        label="掲載開始", input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        error_messages={"required": "掲載開始の日時を入力してください。",
                        "invalid": "掲載開始の日時を「2026-04-01 09:00」の形で入力してください。"},
    )
    ends_at = forms.DateTimeField(
        label="掲載終了", required=False, input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        error_messages={"invalid": "掲載終了の日時を「2026-04-30 17:00」の形で入力するか、空欄にしてください。"},
    )
    for_all = forms.BooleanField(label="すべての利用団体", required=False)
    tenants = forms.MultipleChoiceField(label="対象の利用団体", required=False,
                                        error_messages={"invalid_choice": "選んだ利用団体が見つかりません。"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenants"].choices = [(str(t.pk), t.name) for t in municipalities()]


def _initial(announcement: Announcement | None) -> dict:
    if announcement is None:
        return {"starts_at": timezone.localtime().replace(second=0, microsecond=0), "for_all": True}
    return {
        "title": announcement.title, "body": announcement.body, "starts_at": announcement.starts_at,
        "ends_at": announcement.ends_at, "for_all": announcement.for_all,
        "tenants": [str(pk) for pk in announcement.tenants.values_list("pk", flat=True)],
    }


@operator_required
def announcement_list(request):
    now = timezone.now()
    rows = [
        {"announcement": a, "status": service.status_of(a, now), "target": service.target_label(a)}
        for a in Announcement.objects.prefetch_related("tenants")
    ]
    return render(request, "tenants/announcements.html", {"rows": rows})


@operator_required
def announcement_edit(request, announcement_id: int | None = None):
    announcement = get_object_or_404(Announcement, pk=announcement_id) if announcement_id else None
    form = AnnouncementForm(request.POST if request.method == "POST" else None, initial=_initial(announcement))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kwargs = {
            "actor": request.user, "request": request, "title": data["title"], "body": data["body"],
            "starts_at": data["starts_at"], "ends_at": data["ends_at"], "for_all": data["for_all"],
            "tenant_ids": [int(pk) for pk in data["tenants"]],
        }
        try:
            if announcement is None:
                announcement = service.create_announcement(**kwargs)
                messages.success(request, f"お知らせ「{announcement.title}」を登録しました。")
            else:
                service.update_announcement(announcement=announcement, **kwargs)
                messages.success(request, f"お知らせ「{announcement.title}」を更新しました。")
            return redirect("announcements:list")
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    return render(request, "tenants/announcements_form.html", {"form": form, "announcement": announcement})


@operator_required
def announcement_delete(request, announcement_id: int):
    announcement = get_object_or_404(Announcement, pk=announcement_id)
    if request.method == "POST":
        title = announcement.title
        service.delete_announcement(actor=request.user, announcement=announcement, request=request)
        messages.success(request, f"お知らせ「{title}」を削除しました。")
        return redirect("announcements:list")
    return render(request, "tenants/announcements_delete.html", {
        "announcement": announcement, "status": service.status_of(announcement),
        "target": service.target_label(announcement),
    })
